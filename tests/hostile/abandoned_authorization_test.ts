/**
 * Sessions that leave while a procedure authorizer decides on their
 * requests must not keep the realm's router calls: the calls are
 * cancelled (`killnowait`, the authorizer's callee hears INTERRUPT) and
 * their places freed. Before, joining, asking and leaving 1,000 times
 * filled them, and every other dynamic decision was refused.
 */

import { equal, ok } from "node:assert/strict";
import { connect, connectLocal } from "../../mod.ts";
import { MAX_ROUTER_CALLS } from "../../router/core/internal_session.ts";
import { BACKEND, PROCEDURE_AUTHORIZER_REALMS } from "../_helpers/auth.ts";
import { rawFrames } from "../_helpers/raw_rawsocket.ts";
import { startRouter, within } from "../_helpers/router.ts";

Deno.test("sessions that leave while an authorizer decides do not keep its router calls", async () => {
  await using t = await startRouter({ realms: PROCEDURE_AUTHORIZER_REALMS });
  const backend = await connectLocal(t.router, "auth", BACKEND);
  let interrupted = 0;
  await backend.register("com.example.authorize", async (args, _kwargs, _details, inv) => {
    if (args[1] === "com.example.mine") return { args: [true] };
    // Longer than the whole test: only a cancelled call frees its place in time.
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, 10_000);
      inv.signal.addEventListener("abort", () => {
        interrupted++;
        clearTimeout(timer);
        resolve(undefined);
      });
    });
    return { args: [true] };
  });
  const encoder = new TextEncoder();
  const url = t.listener.urls.rawsocket!;
  for (let i = 0; i < MAX_ROUTER_CALLS; i++) {
    const peer = await rawFrames(url, 1);
    await peer.send(encoder.encode(JSON.stringify([1, "realm1", { roles: { subscriber: {} } }])));
    await within(peer.next(), 3000, "WELCOME");
    await peer.send(encoder.encode(JSON.stringify([32, 1, {}, `com.example.t${i}`])));
    peer.close();
  }
  const session = await connect(t.url, { realm: "realm1" });
  const subscribed = await within(
    session.subscribe("com.example.mine", () => {}),
    5000,
    "a request decided while the abandoned ones would still be",
  );
  equal(typeof subscribed.id, "number");
  ok(interrupted > MAX_ROUTER_CALLS / 2, `${interrupted} authorizer calls interrupted`);
  await session.close();
  await backend.close();
});
