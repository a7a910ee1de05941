/**
 * `./client` under Bun (`bun` on the PATH; `.ci/run` installs it from the
 * npm registry): client/mod.ts bundled by esbuild for Node, which Bun runs,
 * against a router started by the test, over our WebSocket stack, Bun's
 * global WebSocket, RawSocket and long-poll (fetch), with the scenario of
 * the Node and browser tests. A machine without `bun` fails this test.
 *
 * @module
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { bundle } from "../_helpers/browser.ts";
import { EXPECTED, portableRouter } from "./_portable.ts";
import type { ScenarioConfig } from "./_portable_scenario.ts";

const CLIENT = fileURLToPath(new URL("../../client/mod.ts", import.meta.url));
const SCENARIO = fileURLToPath(new URL("./_portable_scenario.ts", import.meta.url));

const RUNNER = `import * as client from "./client.mjs";
import { scenario } from "./scenario.mjs";
const result = await scenario(client, JSON.parse(process.argv[2]));
process.stdout.write(JSON.stringify({ bun: process.versions.bun ?? null, result }));
process.exit(0);
`;

async function runBun(dir: string, config: ScenarioConfig): Promise<unknown> {
  const output = await new Deno.Command("bun", {
    args: ["run.mjs", JSON.stringify(config)],
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  equal(output.code, 0, `bun failed: ${stderr}`);
  const { bun, result } = JSON.parse(new TextDecoder().decode(output.stdout));
  ok(typeof bun === "string", "not run by Bun");
  return result;
}

Deno.test("Bun runs the client over our WebSocket, Bun's own WebSocket, RawSocket and long-poll", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloverleaf-bun-" });
  const { router, config } = await portableRouter();
  try {
    await Deno.writeTextFile(
      `${dir}/client.mjs`,
      (await bundle(CLIENT, { platform: "node" })).code,
    );
    await Deno.writeTextFile(
      `${dir}/scenario.mjs`,
      (await bundle(SCENARIO, { platform: "node" })).code,
    );
    await Deno.writeTextFile(`${dir}/run.mjs`, RUNNER);
    deepEqual(await runBun(dir, config), EXPECTED);
    deepEqual(await runBun(dir, { ...config, globalWebSocket: true }), EXPECTED);
    deepEqual(await runBun(dir, { ...config, url: router.listener.urls.rawsocket! }), EXPECTED);
    deepEqual(await runBun(dir, { ...config, url: router.listener.urls.longpoll! }), EXPECTED);
  } finally {
    await router[Symbol.asyncDispose]();
    await Deno.remove(dir, { recursive: true });
  }
});
