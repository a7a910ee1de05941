/**
 * Running the portable-client scenario under another JavaScript runtime
 * (Node, Bun): client/mod.ts and the scenario bundled by esbuild into a
 * temporary directory, and a runner that prints the runtime's version and
 * the scenario's result.
 *
 * @module
 */

import { equal } from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { bundle } from "../_helpers/browser.ts";
import type { ScenarioConfig } from "./_portable_scenario.ts";

const CLIENT = fileURLToPath(new URL("../../client/mod.ts", import.meta.url));
const SCENARIO = fileURLToPath(new URL("./_portable_scenario.ts", import.meta.url));

const RUNNER = `import * as client from "./client.mjs";
import { scenario } from "./scenario.mjs";
const result = await scenario(client, JSON.parse(process.argv[2]));
const version = process.versions.bun === undefined ? process.version : "bun " + process.versions.bun;
process.stdout.write(JSON.stringify({ version, result }));
process.exit(0);
`;

/**
 * Writes the bundles and the runner into `dir`.
 *
 * @param dir A temporary directory.
 * @param platform esbuild's platform (`node` for Node and Bun; `browser`
 * for the very bundle a page loads).
 */
export async function writeScenario(dir: string, platform: "node" | "browser"): Promise<void> {
  await Deno.writeTextFile(`${dir}/client.mjs`, (await bundle(CLIENT, { platform })).code);
  await Deno.writeTextFile(`${dir}/scenario.mjs`, (await bundle(SCENARIO, { platform })).code);
  await Deno.writeTextFile(`${dir}/run.mjs`, RUNNER);
}

/**
 * Runs the scenario written by {@linkcode writeScenario} with `command`.
 *
 * @param command `node` or `bun` (on the PATH: missing, the test fails).
 * @param dir The directory.
 * @param config Where and how.
 * @returns The runtime's version (`v20.…`, `bun 1.…`) and the scenario's result.
 */
export async function runScenario(
  command: "node" | "bun",
  dir: string,
  config: ScenarioConfig,
): Promise<{ version: string; result: unknown }> {
  const output = await new Deno.Command(command, {
    args: ["run.mjs", JSON.stringify(config)],
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  equal(output.code, 0, `${command} failed: ${stderr}`);
  return JSON.parse(new TextDecoder().decode(output.stdout));
}
