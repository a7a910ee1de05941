/**
 * A `Connection` against a router that stops answering (attack review E):
 * restoring subscriptions that get no reply closes that session, and the
 * connection tries again instead of waiting for ever.
 */

import { equal, ok, throws } from "node:assert/strict";
import { connectionOptions } from "../../client/connection_options.ts";
import { Connection } from "../../mod.ts";
import { until } from "../_helpers/router.ts";
import { hostile } from "./_hostile.ts";

Deno.test("hostile router: a restore with no reply in requestTimeout closes the session and the connection retries", async () => {
  let sessions = 0;
  await using router = hostile((msg, send, socket) => {
    if (msg[0] === 1) send([2, ++sessions, { roles: { broker: {} } }]);
    if (msg[0] === 32) {
      // Session 1 subscribes, then loses its transport; session 2 never hears back; 3 does.
      if (sessions === 1) {
        send([33, msg[1], 5]);
        setTimeout(() => socket.close(), 50);
      }
      if (sessions === 3) send([33, msg[1], 6]);
    }
  });
  const closes: string[] = [];
  const connection = new Connection(router.url, {
    realm: "r",
    serializers: ["json"],
    requestTimeout: 300,
    initialRetryDelay: 50,
    onclose: (reason, details) => void closes.push(`${reason} ${details.reason ?? ""}`),
  });
  try {
    await connection.open();
    const sub = await connection.subscribe("t", () => {});
    await until(
      () => sessions === 3 && connection.isOpen && sub.id === 6,
      8000,
      "the third session",
    );
    ok(!sub.done);
    equal(closes[1], "lost wamp.close.timeout", closes.join(", "));
  } finally {
    await connection.close();
  }
});

Deno.test("client limits: a limit out of range is a RangeError naming it, from Connection at once", () => {
  throws(
    () => new Connection("ws://127.0.0.1:1", { realm: "r", maxInvocations: 0 }),
    /maxInvocations/,
  );
  throws(
    () => new Connection("ws://127.0.0.1:1", { realm: "r", requestTimeout: -1 }),
    /requestTimeout/,
  );
  throws(
    () => new Connection("ws://127.0.0.1:1", { realm: "r", maxQueuedEvents: Number.NaN }),
    /maxQueuedEvents/,
  );
});

Deno.test("Connection: pings a silent router by default (pingInterval 30 s), unless told otherwise", () => {
  equal(connectionOptions({ realm: "r" }).pingInterval, 30_000);
  equal(connectionOptions({ realm: "r", pingInterval: 0 }).pingInterval, 0);
  equal(connectionOptions({ realm: "r", pingInterval: 5000 }).pingInterval, 5000);
});
