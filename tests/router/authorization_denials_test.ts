/**
 * `cloverleaf_authorization_denials_total` counts the router's own
 * refusals as not authorized (a request its rules deny, an unacknowledged
 * PUBLISH among them, and a router procedure refusing), never a callee's
 * ERROR `wamp.error.not_authorized` passed on to its caller: 100 such
 * callee errors counted 100 denials in a realm without roles.
 */

import { equal, rejects } from "node:assert/strict";
import { ApplicationError, connectLocal, Router } from "../../mod.ts";
import { metricsOf } from "../../router/metrics.ts";

const NOT_AUTHORIZED = "wamp.error.not_authorized";
const refused = (e: ApplicationError) => e.uri === NOT_AUTHORIZED;

Deno.test("authorization denials: the router's refusals count, a callee's not_authorized ERROR does not", async () => {
  const router = new Router({
    logger: () => {},
    realms: [{ name: "open" }, {
      name: "ruled",
      roles: [{
        name: "anonymous",
        permissions: [
          {
            uri: "com.app.",
            match: "prefix",
            allow: { call: true, register: true, publish: true, subscribe: true },
          },
          { uri: "wamp.session.add_testament", allow: { call: true } },
        ],
      }],
    }],
  });
  const openCallee = await connectLocal(router, "open");
  const openCaller = await connectLocal(router, "open");
  const callee = await connectLocal(router, "ruled");
  const caller = await connectLocal(router, "ruled");
  const denials = () => metricsOf(router).authorizationDenials;
  try {
    const own = () => {
      throw new ApplicationError(NOT_AUTHORIZED);
    };
    await openCallee.register("com.app.check", own);
    await callee.register("com.app.check", own);
    // Traffic: callees answering with the URI, with and without rules.
    for (let i = 0; i < 10; i++) {
      await rejects(openCaller.call("com.app.check"), refused);
      await rejects(caller.call("com.app.check"), refused);
    }
    equal(denials(), 0, "a callee's ERROR is not the router's refusal");
    // The router's refusals: a CALL, an acknowledged and an unacknowledged PUBLISH (no ERROR),
    // and a router procedure (a testament on a topic the session may not publish to).
    await rejects(caller.call("com.other.p"), refused);
    await rejects(caller.publish("com.other.t", {}, { acknowledge: true }), refused);
    caller.publish("com.other.t", {});
    await rejects(
      caller.call("wamp.session.add_testament", { args: ["com.other.t", [], {}] }),
      refused,
    );
    equal(denials(), 4);
  } finally {
    for (const session of [openCallee, openCaller, callee, caller]) await session.close();
    await router.close();
  }
});
