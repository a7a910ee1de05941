/**
 * What a cold `deno task start` fetches. Deno installs every npm package
 * of the lockfile at startup (not only those the program imports), so the
 * runtime lockfile, deno.lock, must hold only what the router's module
 * graph needs: `deno info --json cli.ts` lists both (its `npmPackages` is
 * the lockfile's snapshot, its `modules` the graph), and they must agree.
 * Test-only packages are locked in deno.dev.lock (tests/_deps.ts).
 */

import { deepEqual, equal } from "node:assert/strict";
import denoConfig from "../../deno.json" with { type: "json" };
import { ROOT, run } from "./_service.ts";

/** Packages only tests and `deno task bundle` use, and native add-ons the router never loads. */
const NOT_FOR_THE_ROUTER =
  /^(autobahn|wampy|playwright-core|esbuild|@esbuild\/.*|cbor-extract|@cbor-extract\/.*|msgpackr-extract|@msgpackr-extract\/.*)$/;

interface Info {
  modules: { kind?: string; npmPackage?: string }[];
  npmPackages: Record<string, { name: string; dependencies: string[] }>;
}

async function info(): Promise<Info> {
  const out = await run(Deno.execPath(), ["info", "--json", "cli.ts"], { env: { NO_COLOR: "1" } });
  equal(out.code, 0, out.stderr);
  return JSON.parse(out.stdout) as Info;
}

Deno.test("a cold start installs only the npm packages cli.ts's module graph needs", async () => {
  const { modules, npmPackages } = await info();
  const needed = new Set<string>();
  const add = (id: string): void => {
    if (needed.has(id)) return;
    needed.add(id);
    for (const dependency of npmPackages[id]?.dependencies ?? []) add(dependency);
  };
  for (const module of modules) if (module.npmPackage !== undefined) add(module.npmPackage);
  deepEqual(Object.keys(npmPackages).sort(), [...needed].sort());
  deepEqual(
    Object.values(npmPackages).map((p) => p.name).filter((name) => NOT_FOR_THE_ROUTER.test(name)),
    [],
  );
});

Deno.test("deno.lock holds no test-only package and no package with build scripts (no warning box)", async () => {
  const lock = JSON.parse(await Deno.readTextFile(`${ROOT}deno.lock`)) as {
    specifiers: Record<string, string>;
    npm: Record<string, { scripts?: boolean; optionalDependencies?: string[] }>;
  };
  const names = Object.keys(lock.npm).map((id) => id.slice(0, id.lastIndexOf("@")));
  deepEqual(names.filter((name) => NOT_FOR_THE_ROUTER.test(name)), []);
  deepEqual(Object.entries(lock.npm).filter(([, entry]) => entry.scripts === true), []);
  deepEqual(
    Object.keys(denoConfig.imports).filter((name) => NOT_FOR_THE_ROUTER.test(name)),
    [],
  );
});
