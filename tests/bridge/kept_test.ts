/**
 * What a path's session keeps for the router's turns stays within
 * `maxInFlight` requests: a request keeps its slot until what it sent was
 * handed to the router. Callers that hang up as soon as their CALL went
 * out (the call is cancelled at once, a CANCEL goes out) freed their slots
 * while the CALL and the CANCEL still waited, so a router that was behind
 * got hundreds of them after their clients had gone, and the memory they
 * held grew without limit.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { Router } from "../../mod.ts";
import { httpBridge } from "../../bridge/mount.ts";
import { signRequest } from "../../bridge/auth.ts";
import { resolveBridgeOptions } from "../../bridge/config.ts";
import { TURN_MS } from "../../transports/stream/inbox.ts";
import { MessageType } from "../../wamp/mod.ts";
import { costly } from "./_costly.ts";

const MAX_IN_FLIGHT = 4;
const ROUNDS = 60;

Deno.test("a caller path whose clients hang up keeps at most maxInFlight requests' CALLs and CANCELs for the router", async () => {
  const router = new Router({ realms: [{ name: "realm1" }], logger: () => {} });
  const options = resolveBridgeOptions({
    path: "/call",
    type: "caller",
    realm: "realm1",
    role: "app",
    auth: "none",
    maxInFlight: MAX_IN_FLIGHT,
  }, "bridges[0]");
  let taken = 0; // CALLs and CANCELs handed to the router
  const bridge = httpBridge(
    costly(router, 5, (msg) => {
      if (msg.type === MessageType.CALL || msg.type === MessageType.CANCEL) taken++;
    }),
    [options],
  );
  const body = JSON.stringify({ procedure: "com.example.nobody", args: ["x".repeat(60_000)] });
  const call = (signal: AbortSignal | null = null) =>
    bridge.handle(
      new Request("http://127.0.0.1/call", { method: "POST", body, signal }),
      "tcp4:127.0.0.1:1",
    );
  /** One CALL the router answers (no such procedure): all sent before it was handed on. */
  const answered = async () => {
    for (;;) {
      const answer = await call();
      await answer.body?.cancel();
      if (answer.status !== 429) return equal(answer.status, 404);
      await new Promise((resolve) => setTimeout(resolve, 10)); // its slots still held
    }
  };
  await answered(); // the session joined
  const statuses = new Map<number, number>();
  for (let round = 0; round < ROUNDS; round++) {
    const hangingUp = Array.from({ length: MAX_IN_FLIGHT }, () => new AbortController());
    const answers = hangingUp.map((c) => call(c.signal));
    await new Promise((resolve) => setTimeout(resolve)); // their CALLs went out
    for (const c of hangingUp) c.abort();
    for (const answer of await Promise.all(answers)) {
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      await answer.body?.cancel();
    }
  }
  const atEnd = taken;
  await answered();
  // All answered: what the router was handed since had been kept, each by a request in its slot.
  const kept = taken - atEnd - 1;
  ok(
    kept <= 2 * MAX_IN_FLIGHT,
    `${kept} CALLs and CANCELs kept after every client had gone (${JSON.stringify([...statuses])})`,
  );
  ok((statuses.get(503) ?? 0) > 0, "some hung up before their CALL was handed on");
  await bridge.close();
  await router.close();
});

/**
 * Only the slot waits for the router: a request's source's places (and a
 * signed request's place for verifying) are freed once it is answered.
 * Signed requests refused (a wrong signature) while the router was behind
 * the path's session kept their source's `maxPendingPerSource` places
 * until it caught up, so the next request from that address got 429. The
 * router here takes one message a turn, more than a turn's time each,
 * while 40 publications wait; it is counted that some still did when the
 * third refusal came.
 */
Deno.test("a request answered while the router is behind frees its source's places at once, only its slot waits", async () => {
  const router = new Router({ realms: [{ name: "realm1" }], logger: () => {} });
  const signed = { key: "app1", secret: "a-signing-secret-0123", timestampDelta: 300 };
  const options = resolveBridgeOptions({
    path: "/pub",
    type: "publisher",
    realm: "realm1",
    role: "app",
    auth: signed,
    maxPendingPerSource: 2,
  }, "bridges[0]");
  let cost = 0;
  let published = 0; // PUBLISHes handed to the router
  const bridge = httpBridge(
    costly(router, () => cost, (msg) => msg.type === MessageType.PUBLISH && published++),
    [options],
  );
  const body = JSON.stringify({ topic: "com.example.t", args: [1] });
  let seq = 0;
  /** A signed publication from `peer` (signed with another secret: `wrong`); its status. */
  const post = async (peer: string, wrong = false) => {
    const secret = wrong ? "not-the-signing-secret" : signed.secret;
    const target = await signRequest("/pub", { ...signed, secret, body, seq: ++seq });
    const answer = await bridge.handle(
      new Request(`http://127.0.0.1${target}`, { method: "POST", body }),
      peer,
    );
    await answer.body?.cancel();
    return answer.status;
  };
  try {
    equal(await post(""), 202); // the session joined
    cost = TURN_MS + 5; // one message a turn
    const BACKLOG = 40;
    const backlog = Array.from({ length: BACKLOG }, () => post("")); // from no address
    while (published < 1 + 10) await new Promise((resolve) => setTimeout(resolve, 5));
    const from = "tcp4:10.0.0.1:5000";
    deepEqual(await Promise.all([post(from, true), post(from, true)]), [401, 401]);
    const third = await post(from, true);
    const waiting = 1 + BACKLOG - published;
    equal(third, 401, "the first two refusals' places were freed at once");
    ok(waiting > 0, "the router was still behind when the third was answered");
    cost = 0;
    deepEqual(await Promise.all(backlog), Array(BACKLOG).fill(202));
  } finally {
    cost = 0;
    await bridge.close();
    await router.close();
  }
});
