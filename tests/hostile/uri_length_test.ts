/**
 * URIs past `MAX_URI_LENGTH` are refused with `wamp.error.invalid_uri`,
 * over a real WebSocket: SUBSCRIBE and REGISTER in a realm without roles
 * (the broker and dealer check), and in a realm with a dynamic authorizer
 * before the authorizer is asked (its decisions are kept by URI).
 */

import { deepEqual, equal } from "node:assert/strict";
import { ErrorUri, MAX_URI_LENGTH, MessageType } from "../../wamp/mod.ts";
import { rawWamp } from "../_helpers/auth.ts";
import { startRouter } from "../_helpers/router.ts";

const LONG = `com.example.${"x".repeat(MAX_URI_LENGTH)}`;
const ROLES = { publisher: {}, subscriber: {}, caller: {}, callee: {} };

for (const dynamic of [false, true]) {
  Deno.test(`a URI over ${MAX_URI_LENGTH} characters is refused with invalid_uri (${dynamic ? "dynamic authorizer" : "no roles"})`, async () => {
    let asked = 0;
    await using t = await startRouter({
      realms: [{
        name: "realm1",
        ...(dynamic ? { roles: [{ name: "anonymous", authorizer: () => (asked++, true) }] } : {}),
      }],
    });
    await using raw = await rawWamp(t.url);
    await raw.send([MessageType.HELLO, "realm1", { roles: ROLES }]);
    equal((await raw.next("WELCOME"))?.[0], MessageType.WELCOME);
    await raw.send([MessageType.SUBSCRIBE, 1, {}, LONG]);
    deepEqual((await raw.next("ERROR"))?.slice(0, 5), [
      MessageType.ERROR,
      MessageType.SUBSCRIBE,
      1,
      {},
      ErrorUri.INVALID_URI,
    ]);
    await raw.send([MessageType.REGISTER, 2, { match: "prefix" }, LONG]);
    deepEqual((await raw.next("ERROR"))?.slice(0, 3), [MessageType.ERROR, MessageType.REGISTER, 2]);
    // A URI at the limit is fine.
    await raw.send([MessageType.SUBSCRIBE, 3, {}, LONG.slice(0, MAX_URI_LENGTH)]);
    equal((await raw.next("SUBSCRIBED"))?.[0], MessageType.SUBSCRIBED);
    equal(asked, dynamic ? 1 : 0);
  });
}
