/**
 * An endpoint whose answer cannot be sent (it does not encode) fails its
 * invocation with ERROR, whether it answered at once or through a
 * promise: no unhandled rejection, and its place among the running
 * invocations is given back.
 */

import { equal, rejects } from "node:assert/strict";
import { type ApplicationError, connect } from "../../mod.ts";
import { startRouter } from "../_helpers/router.ts";

Deno.test("an async endpoint's answer that cannot be encoded is answered with ERROR, not an unhandled rejection", async () => {
  await using t = await startRouter();
  const callee = await connect(t.url, { realm: "realm1", serializers: ["json"] });
  const caller = await connect(t.url, { realm: "realm1" });
  try {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await callee.register("com.example.bad", async () => {
      await Promise.resolve();
      return { args: [circular] };
    });
    // The callee's link cannot send it: the caller hears of it (ERROR, or the callee gone).
    await rejects(
      caller.call("com.example.bad", {}, { timeout: 5000 }),
      (error: ApplicationError) => {
        equal(typeof error.uri, "string");
        return true;
      },
    );
  } finally {
    await caller.close();
    await callee.close();
  }
});
