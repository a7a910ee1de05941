/**
 * `./client` under Bun (`bun` on the PATH; `.ci/run` installs it from the
 * npm registry): client/mod.ts bundled by esbuild for Node, which Bun runs,
 * against a router started by the test, over our WebSocket stack, Bun's
 * global WebSocket, RawSocket and long-poll (fetch), with the scenario of
 * the Node and browser tests. A machine without `bun` fails this test.
 *
 * @module
 */

import { deepEqual, match } from "node:assert/strict";
import { EXPECTED, portableRouter } from "./_portable.ts";
import type { ScenarioConfig } from "./_portable_scenario.ts";
import { runScenario, writeScenario } from "./_runtimes.ts";

/** The scenario's result under Bun. */
async function runBun(dir: string, config: ScenarioConfig): Promise<unknown> {
  const { version, result } = await runScenario("bun", dir, config);
  match(version, /^bun \d+\./, "not run by Bun");
  return result;
}

Deno.test("Bun runs the client over our WebSocket, Bun's own WebSocket, RawSocket and long-poll", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloverleaf-bun-" });
  const { router, config } = await portableRouter();
  try {
    await writeScenario(dir, "node");
    deepEqual(await runBun(dir, config), EXPECTED);
    deepEqual(await runBun(dir, { ...config, globalWebSocket: true }), EXPECTED);
    deepEqual(await runBun(dir, { ...config, url: router.listener.urls.rawsocket! }), EXPECTED);
    deepEqual(await runBun(dir, { ...config, url: router.listener.urls.longpoll! }), EXPECTED);
  } finally {
    await router[Symbol.asyncDispose]();
    await Deno.remove(dir, { recursive: true });
  }
});
