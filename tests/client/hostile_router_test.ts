/**
 * The client against a hostile router (attack review E): a router that
 * sends what it should not, or too much of it, gets a bounded client.
 */

import { deepEqual, equal, match, ok } from "node:assert/strict";
import { connect, ErrorUri, SessionClosedError } from "../../mod.ts";
import { until, within } from "../_helpers/router.ts";
import { hostile } from "./_hostile.ts";

Deno.test("hostile router: a second CHALLENGE in one join is a protocol violation, answered by no second AUTHENTICATE", async () => {
  await using router = hostile((msg, send) => {
    if (msg[0] === 1) {
      send([4, "ticket", {}]);
      send([4, "ticket", {}]);
      send([4, "ticket", {}]);
    }
  });
  const error = await within(
    connect(router.url, {
      realm: "r",
      authid: "a",
      ticket: "t",
      serializers: ["json"],
      timeout: 3000,
    })
      .then(() => undefined, (e: unknown) => e),
    5000,
    "the join",
  );
  ok(error instanceof SessionClosedError, String(error));
  equal(error.reason, ErrorUri.PROTOCOL_VIOLATION);
  match(error.message, /second CHALLENGE/);
  await until(() => router.received.some((m) => m[0] === 3), 2000, "the router gets ABORT");
  const kinds = router.received.map((m) => m[0]);
  deepEqual(kinds.filter((k) => k === 5), [], "no AUTHENTICATE after the ABORT");
  equal(router.received.find((m) => m[0] === 3)?.[2], ErrorUri.PROTOCOL_VIOLATION);
});
