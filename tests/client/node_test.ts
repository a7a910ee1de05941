/**
 * `./client` under Node 20 (the machine's `node`): client/mod.ts bundled
 * by esbuild (for Node, and the very browser bundle), run by `node` against
 * a router started by the test, over WebSocket (our own stack: Node 20 has
 * no global WebSocket) and RawSocket, with the scenario of the browser
 * test. And the same scenario in Deno, unbundled, over each WebSocket.
 *
 * @module
 */

import { deepEqual, equal } from "node:assert/strict";
import { fileURLToPath } from "node:url";
import * as client from "../../client/mod.ts";
import { bundle } from "../_helpers/browser.ts";
import { EXPECTED, portableRouter } from "./_portable.ts";
import { scenario, type ScenarioConfig } from "./_portable_scenario.ts";

const CLIENT = fileURLToPath(new URL("../../client/mod.ts", import.meta.url));
const SCENARIO = fileURLToPath(new URL("./_portable_scenario.ts", import.meta.url));

const RUNNER = `import * as client from "./client.mjs";
import { scenario } from "./scenario.mjs";
const result = await scenario(client, JSON.parse(process.argv[2]));
process.stdout.write(JSON.stringify({ node: process.version, result }));
process.exit(0);
`;

async function runNode(dir: string, config: ScenarioConfig): Promise<unknown> {
  const output = await new Deno.Command("node", {
    args: ["run.mjs", JSON.stringify(config)],
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  equal(output.code, 0, `node failed: ${stderr}`);
  const { node, result } = JSON.parse(new TextDecoder().decode(output.stdout));
  equal(node.split(".")[0], "v20", `not Node 20: ${node}`);
  return result;
}

for (const platform of ["node", "browser"] as const) {
  Deno.test(`Node 20 runs the ${platform} bundle of the client over WebSocket and RawSocket`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "cloverleaf-node-" });
    const { router, config } = await portableRouter();
    try {
      await Deno.writeTextFile(`${dir}/client.mjs`, (await bundle(CLIENT, { platform })).code);
      await Deno.writeTextFile(`${dir}/scenario.mjs`, (await bundle(SCENARIO, { platform })).code);
      await Deno.writeTextFile(`${dir}/run.mjs`, RUNNER);
      deepEqual(await runNode(dir, config), EXPECTED);
      const rawsocket = { ...config, url: router.listener.urls.rawsocket! };
      deepEqual(await runNode(dir, rawsocket), EXPECTED);
    } finally {
      await router[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("Deno runs the same scenario over our WebSocket stack and over the global WebSocket", async () => {
  const { router, config } = await portableRouter();
  try {
    deepEqual(await scenario(client, config), EXPECTED);
    deepEqual(await scenario(client, { ...config, globalWebSocket: true }), EXPECTED);
  } finally {
    await router[Symbol.asyncDispose]();
  }
});
