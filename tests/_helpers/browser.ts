/**
 * Debian's headless Chromium, driven by `playwright-core`, and esbuild
 * bundles, for the tests that run our code in a browser. A missing
 * `chromium` fails the test that asks for one: `.ci/run` installs it from
 * Debian's packages.
 *
 * @module
 */

import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type EsbuildPlugin, importEsbuild, importPlaywright } from "../_deps.ts";

/** Where Debian's `chromium` package puts the browser. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/**
 * Launches headless Chromium. Close it with `browser.close()`. playwright-core
 * is loaded here, not when this module is: loading it reads
 * `/proc/sys/fs/binfmt_misc/WSLInterop`, which Deno allows only with
 * `--allow-all` (not under `deno task test`'s flags), so a test that only
 * bundles does not need that.
 *
 * @returns The browser.
 * @throws {Error} When Chromium is not installed.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `${CHROMIUM_PATH} is missing: install Debian's chromium package (.ci/run does)`,
    );
  }
  const { chromium } = await importPlaywright();
  return await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    timeout: 30_000,
  });
}

/** What {@linkcode bundle} makes. */
export interface Bundle {
  /** The bundled JavaScript. */
  readonly code: string;
  /** Its size in bytes. */
  readonly bytes: number;
}

/**
 * Bundles one module and everything it imports into one ES module, as
 * esbuild does for a web page (`platform: "browser"`) or for Node
 * (`platform: "node"`).
 *
 * @param entry A path to the entry module.
 * @param options `minify`, and the platform (default `browser`).
 * @returns The bundle.
 */
export async function bundle(
  entry: string,
  options: { minify?: boolean; platform?: "browser" | "node" } = {},
): Promise<Bundle> {
  const esbuild = await importEsbuild();
  try {
    const result = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      format: "esm",
      platform: options.platform ?? "browser",
      minify: options.minify ?? false,
      logLevel: "silent",
      plugins: [importMapPlugin()],
    });
    const file = result.outputFiles[0];
    if (file === undefined) throw new Error(`esbuild wrote nothing for ${entry}`);
    return { code: file.text, bytes: file.contents.byteLength };
  } finally {
    await esbuild.stop();
  }
}

const DENO_JSON = fileURLToPath(new URL("../../deno.json", import.meta.url));
const NPM_CACHE = join(
  Deno.env.get("DENO_DIR") ?? join(Deno.env.get("HOME") ?? "/root", ".cache", "deno"),
  "npm",
  "registry.npmjs.org",
);

/**
 * An esbuild plugin that resolves the bare specifiers of deno.json's import
 * map (`@msgpack/msgpack`, `cbor-x/encode`, …) to the packages in Deno's npm
 * cache, as `deno run` does: it links each mapped package, at the newest
 * cached version, into a temporary `node_modules` and lets esbuild resolve
 * the specifier from there (package.json `exports` included).
 *
 * @returns The plugin.
 */
export function importMapPlugin(): EsbuildPlugin {
  const imports: Record<string, string> = JSON.parse(readFileSync(DENO_JSON, "utf8")).imports;
  const mapped = new Map<string, string>();
  for (const [name, target] of Object.entries(imports)) {
    const match = /^npm:((?:@[^/]+\/)?[^@/]+)@[^/]+(\/.*)?$/.exec(target);
    if (match) mapped.set(name, match[1]! + (match[2] ?? ""));
  }
  const modules = join(mkdtempSync(join(tmpdir(), "import-map-")), "node_modules");
  const linked = new Set<string>();
  const link = (pkg: string): void => {
    if (linked.has(pkg)) return;
    linked.add(pkg);
    const versions = join(NPM_CACHE, pkg);
    const newest = readdirSync(versions).filter((v) => /^\d/.test(v))
      .sort((a, b) => a.localeCompare(b, "en", { numeric: true })).pop();
    if (newest === undefined) throw new Error(`${pkg} is not in Deno's npm cache (${versions})`);
    mkdirSync(dirname(join(modules, pkg)), { recursive: true });
    symlinkSync(join(versions, newest), join(modules, pkg));
  };
  return {
    name: "deno-import-map",
    setup(build) {
      build.onResolve({ filter: /^[@a-z]/ }, async (args) => {
        if (args.pluginData === "import-map") return undefined;
        const name = [...mapped.keys()].find((key) =>
          args.path === key || args.path.startsWith(key + "/")
        );
        if (name === undefined) return undefined;
        const target = mapped.get(name)! + args.path.slice(name.length);
        link(/^(@[^/]+\/)?[^/]+/.exec(target)![0]);
        return await build.resolve(target, {
          kind: args.kind,
          resolveDir: dirname(modules),
          pluginData: "import-map",
        });
      });
    },
  };
}
