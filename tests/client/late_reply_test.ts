/**
 * A SUBSCRIBE or REGISTER that timed out on the client, then made by a
 * slow router after all, is withdrawn: the client never learnt its ID, so
 * it sends UNSUBSCRIBE / UNREGISTER for what the late reply names.
 */

import { ApplicationError, connect } from "../../mod.ts";
import { rejects } from "node:assert/strict";
import { until } from "../_helpers/router.ts";
import { hostile } from "./_hostile.ts";

Deno.test("a SUBSCRIBE and a REGISTER answered after requestTimeout are withdrawn at once", async () => {
  await using router = hostile((msg, send) => {
    if (msg[0] === 1) send([2, 1, { roles: { broker: {}, dealer: {} } }]);
    if (msg[0] === 32) setTimeout(() => send([33, msg[1], 501]), 300);
    if (msg[0] === 64) setTimeout(() => send([65, msg[1], 502]), 300);
  });
  const session = await connect(router.url, {
    realm: "r",
    serializers: ["json"],
    requestTimeout: 100,
  });
  try {
    await rejects(session.subscribe("com.example.t", () => {}), ApplicationError);
    await rejects(session.register("com.example.p", () => ({})), ApplicationError);
    await until(
      () =>
        router.received.some((m) => m[0] === 34 && m[2] === 501) &&
        router.received.some((m) => m[0] === 66 && m[2] === 502),
      3000,
      "UNSUBSCRIBE 501 and UNREGISTER 502",
    );
  } finally {
    await session.close().catch(() => {});
  }
});
