/**
 * The in-process link as `connectLocal` and the HTTP bridge use it: the
 * router's end reads each message as a serializer reads what arrives, so
 * an in-process client cannot send what a socket peer is aborted for.
 */

import { deepEqual, equal, match } from "node:assert/strict";
import { connect, connectLocal } from "../../mod.ts";
import { startRouter, within } from "../_helpers/router.ts";

Deno.test("an in-process PUBLISH with an option of the wrong type aborts its sender only", async () => {
  await using t = await startRouter();
  const subscriber = await connect(t.url, { realm: "realm1" });
  const events: unknown[] = [];
  await subscriber.subscribe("com.example.x", (e) => void events.push(e));
  const local = await connectLocal(t.router, "realm1");
  // A socket peer's PUBLISH with these options is aborted with protocol_violation; passed on,
  // every subscriber would be sent EVENT details it must refuse (and would leave).
  const options = { acknowledge: true, ppt_scheme: "x_a", ppt_serializer: 5 } as const;
  await local.publish("com.example.x", {}, options as never).catch(() => {});
  const closed = await within(local.closed, 2000, "the in-process session closed");
  equal(closed.reason, "wamp.error.protocol_violation");
  match(String(closed.details.message), /ppt_serializer/);
  equal((await subscriber.call("wamp.session.count")).args[0], 1, "the subscriber stays");
  deepEqual(events, []);
  await subscriber.close();
});
