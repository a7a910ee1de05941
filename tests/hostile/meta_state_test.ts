/**
 * What a session can leave behind through the meta API, over real
 * sockets: a testament whose permission check ends after its session left
 * is not kept (it would never fire, and its bytes would count against the
 * realm's `testamentBytes` for good), and `modify_details` cannot grow a
 * session's details past 64 KiB.
 */

import { equal, rejects } from "node:assert/strict";
import { type ApplicationError, connect } from "../../mod.ts";
import { startRouter } from "../_helpers/router.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("a testament whose publish check ends after its session left is not kept", async () => {
  await using t = await startRouter({
    realms: [{
      name: "realm1",
      limits: { testamentBytes: 3000 },
      roles: [{
        name: "anonymous",
        authorizer: async (_session, _uri, action) => {
          if (action === "publish") await sleep(200);
          return true;
        },
      }],
    }],
  });
  for (let i = 0; i < 2; i++) {
    const session = await connect(t.url, { realm: "realm1" });
    const adding = session.call("wamp.session.add_testament", {
      args: ["com.example.gone", ["x".repeat(1400)]],
    });
    adding.catch(() => {});
    await sleep(50); // the CALL is let through; the testament's publish check is pending
    await session.close();
  }
  await sleep(400); // both checks ended: kept, their ~2.9 KB would leave no room under 3000
  const fresh = await connect(t.url, { realm: "realm1" });
  await fresh.call("wamp.session.add_testament", { args: ["com.example.mine", ["y".repeat(200)]] });
  await fresh.close();
});

Deno.test("modify_details cannot grow a session's details past 64 KiB", async () => {
  await using t = await startRouter({
    realms: [{ name: "realm1", meta: { modifyDetails: true } }],
  });
  const session = await connect(t.url, { realm: "realm1" });
  try {
    const modify = (key: string, size: number) =>
      session.call("wamp.session.modify_details", {
        args: [session.id, { [key]: "v".repeat(size) }],
      });
    await modify("a", 30_000);
    await modify("b", 30_000);
    await rejects(modify("c", 30_000), (error: ApplicationError) => {
      equal(error.uri, "cloverleaf.error.limit_exceeded");
      return true;
    });
    const details = (await session.call("wamp.session.get", { args: [session.id] })).args[0];
    equal((details as Record<string, unknown>).c, undefined);
    await modify("a", 10); // replacing a key shrinks them again
    await modify("c", 30_000);
  } finally {
    await session.close();
  }
});
