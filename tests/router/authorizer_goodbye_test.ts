/**
 * A GOODBYE that waits behind requests a dynamic authorizer decides on
 * goes on once the decisions come, whether the authorizer is a function
 * (a task) or a procedure a trusted session registered (its answer comes
 * as a RESULT to the router, on the message path). Before, behind a
 * procedure authorizer it waited until some unrelated task finished:
 * the session never left.
 */

import { equal } from "node:assert/strict";
import { connectLocal } from "../../mod.ts";
import { BACKEND, PROCEDURE_AUTHORIZER_REALMS } from "../_helpers/auth.ts";
import { rawFrames } from "../_helpers/raw_rawsocket.ts";
import { startRouter, within } from "../_helpers/router.ts";

Deno.test("a GOODBYE behind SUBSCRIBEs that a procedure authorizer decides on is answered", async () => {
  await using t = await startRouter({ realms: PROCEDURE_AUTHORIZER_REALMS });
  const backend = await connectLocal(t.router, "auth", BACKEND);
  await backend.register("com.example.authorize", async () => {
    await new Promise((resolve) => setTimeout(resolve, 30));
    return { args: [true] };
  });
  const encoder = new TextEncoder();
  const peer = await rawFrames(t.listener.urls.rawsocket!, 1);
  const send = (msg: unknown) => peer.send(encoder.encode(JSON.stringify(msg)));
  const next = async () => JSON.parse(new TextDecoder().decode((await within(peer.next(), 3000))!));
  try {
    await send([1, "realm1", { roles: { subscriber: {} } }]);
    equal((await next())[0], 2);
    await send([32, 1, {}, "com.example.a"]);
    await send([32, 2, {}, "com.example.b"]);
    await send([6, {}, "wamp.close.normal"]);
    equal((await next())[0], 33);
    equal((await next())[0], 33);
    const goodbye = await next();
    equal(goodbye[0], 6);
    equal(goodbye[2], "wamp.close.goodbye_and_out");
  } finally {
    peer.close();
    await backend.close();
  }
});
