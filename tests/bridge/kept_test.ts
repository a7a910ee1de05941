/**
 * What a path's session keeps for the router's turns stays within
 * `maxInFlight` requests: a request keeps its slot until what it sent was
 * handed to the router. Callers that hang up as soon as their CALL went
 * out (the call is cancelled at once, a CANCEL goes out) freed their slots
 * while the CALL and the CANCEL still waited, so a router that was behind
 * got hundreds of them after their clients had gone, and the memory they
 * held grew without limit.
 */

import { equal, ok } from "node:assert/strict";
import { Router } from "../../mod.ts";
import { httpBridge } from "../../bridge/mount.ts";
import { resolveBridgeOptions } from "../../bridge/config.ts";
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
