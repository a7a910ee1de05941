/**
 * A bridge path's requests share one WAMP session. While the path role's
 * dynamic authorizer decides, they wait behind it; one client's burst of
 * large bodies (past the router's 16 MiB held for an ordinary session)
 * gets its own requests past the limit refused (429), and does not abort
 * that session and fail everyone else's.
 */

import { deepEqual, equal } from "node:assert/strict";
import { listen, Router } from "../../mod.ts";
import { httpBridge } from "../../bridge/mount.ts";
import { resolveBridgeOptions } from "../../bridge/config.ts";

Deno.test("a burst of 1 MiB bodies behind a slow dynamic authorizer does not abort the path's shared session", async () => {
  const warnings: string[] = [];
  const router = new Router({
    realms: [{
      name: "realm1",
      roles: [{
        name: "app",
        authorizer: () => new Promise((resolve) => setTimeout(() => resolve(true), 100)),
      }],
    }],
    logger: (level, message) => void (level === "warn" && warnings.push(message)),
  });
  const token = "t0ken-t0ken-t0ken-1";
  const bridge = httpBridge(router, [resolveBridgeOptions({
    path: "/pub",
    type: "publisher",
    realm: "realm1",
    role: "app",
    auth: { token },
    maxBodySize: 1024 * 1024,
  }, "bridges[0]")]);
  const listener = await listen(router, { port: 0, mounts: [bridge] });
  const base = `http://127.0.0.1:${(listener.addr as { port: number }).port}`;
  const post = async (topic: string, size: number) => {
    const response = await fetch(`${base}/pub`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ topic, args: ["x".repeat(size)] }),
      signal: AbortSignal.timeout(20_000),
    });
    await response.body?.cancel();
    return response.status;
  };
  try {
    const victim = post("com.example.victim", 10);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const burst = Array.from({ length: 20 }, (_, i) => post(`com.example.a${i}`, 1_000_000));
    equal(await victim, 202);
    const statuses = await Promise.all(burst);
    deepEqual(statuses.filter((s) => s !== 202 && s !== 429), []);
    equal(statuses.includes(429), true, "past 16 MiB held, refused");
    equal(statuses.includes(202), true);
    equal(await post("com.example.after", 10), 202); // the shared session is still there
    deepEqual(warnings.filter((w) => /protocol violation/.test(w)), []);
  } finally {
    await bridge.close();
    await router.close();
    await listener.close();
  }
});
