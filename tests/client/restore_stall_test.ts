/**
 * A `Connection` restoring its subscriptions on a router that comes back
 * and then stops answering (reads, never replies) or stops reading: the
 * restore gives up after one `requestTimeout`, closes the session with
 * `wamp.close.timeout` and tries again, and no subscription ends. Before,
 * the client's own `maxSendBacklog` refusal was taken for the router's and
 * ended 1,937 of 3,000 for good, and a router that never replied held the
 * restore one `requestTimeout` per 1,024 requests.
 */

import { equal, ok } from "node:assert/strict";
import { Connection, type Subscription } from "../../client/mod.ts";
import { until } from "../_helpers/router.ts";

function frame(msg: unknown): Uint8Array {
  const body = new TextEncoder().encode(JSON.stringify(msg));
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

/** A RawSocket JSON router: the first connection answers SUBSCRIBE; later ones join, then go `mode`. */
function fakeRouter(mode: "mute" | "deaf") {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  let joins = 0;
  const { promise: closed, resolve: stop } = Promise.withResolvers<void>();
  (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      const no = conns.length;
      (async () => {
        const write = (bytes: Uint8Array) => conn.write(bytes).catch(() => 0);
        let buf = new Uint8Array(0);
        let handshake = false;
        for await (const chunk of conn.readable) {
          if (no > 1 && mode === "deaf" && joins >= no) await closed; // stops reading, stays open
          buf = Uint8Array.from([...buf, ...chunk]);
          if (!handshake && buf.length >= 4) {
            await write(Uint8Array.of(0x7f, 0xf1, 0, 0));
            buf = buf.subarray(4);
            handshake = true;
          }
          while (handshake && buf.length >= 4) {
            const length = new DataView(buf.buffer, buf.byteOffset).getUint32(0) & 0xffffff;
            if (buf.length < 4 + length) break;
            const kind = buf[0]! & 7;
            const msg = kind === 0
              ? JSON.parse(new TextDecoder().decode(buf.subarray(4, 4 + length)))
              : [];
            buf = buf.subarray(4 + length);
            if (msg[0] === 1) {
              joins++;
              await write(frame([2, 100 + no, { roles: { broker: {}, dealer: {} } }]));
            } else if (msg[0] === 6) await write(frame([6, {}, "wamp.close.goodbye_and_out"]));
            else if (msg[0] === 32 && no === 1) await write(frame([33, msg[1], msg[1]]));
          }
        }
      })().catch(() => {});
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    dropFirst: () => conns[0]!.close(),
    joins: () => joins,
    close() {
      stop();
      listener.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* closed already */ }
      }
    },
  };
}

for (const mode of ["mute", "deaf"] as const) {
  Deno.test(`Connection: a restore on a router that comes back ${mode} times out once, ends nothing, and tries again`, async () => {
    const router = fakeRouter(mode);
    const closes: string[] = [];
    const connection = new Connection(`tcp://127.0.0.1:${router.port}`, {
      realm: "realm1",
      serializers: ["json"],
      initialRetryDelay: 50,
      maxRetryDelay: 100,
      retryDelayJitter: 0,
      requestTimeout: 500,
      maxSendBacklog: 16 * 1024,
      onclose: (reason, details) => void closes.push(`${reason} ${details.reason ?? ""}`),
    });
    try {
      await connection.open();
      const subs: Subscription[] = [];
      for (let i = 0; i < 3000; i++) {
        // Deaf: 12 MB of SUBSCRIBEs, past what the sockets' buffers take, so maxSendBacklog fills.
        const pad = "x".repeat(mode === "deaf" ? 4000 : 64);
        subs.push(await connection.subscribe(`com.example.${pad}.${i}`, () => {}));
      }
      const started = Date.now();
      router.dropFirst();
      await until(
        () => closes.some((c) => c.includes("wamp.close.timeout")),
        10_000,
        "the timeout",
      );
      const took = Date.now() - started;
      equal(subs.filter((sub) => sub.done).length, 0, "subscriptions ended");
      // One requestTimeout (500 ms) and a reconnect, not one per 1,024 requests (1.5 s here); a
      // deaf router also leaves the client's GOODBYE unanswered, which it waits for a while.
      if (mode === "mute") ok(took < 1200, `the restore gave up after ${took} ms`);
      await until(() => router.joins() >= 3, 5000, "the next try");
    } finally {
      await connection.close().catch(() => {});
      router.close();
    }
  });
}
