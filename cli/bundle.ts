/**
 * `deno task bundle`: writes `cloverleaf.js`, the router service as one
 * JavaScript file with the npm code inlined, that `deno run` starts with
 * no network and no npm cache:
 *
 * ```sh
 * deno task bundle
 * deno run --no-config --allow-net --allow-read --allow-write --allow-env cloverleaf.js --help
 * ```
 *
 * esbuild bundles `cli.ts` for Node (`node:` modules stay imports, which
 * Deno provides). Bare imports resolve to the packages `deno.lock` pins,
 * in Deno's npm cache (filled first by `deno cache cli.ts`), through a
 * temporary directory of links `<name>` → the cached package.
 *
 * @module
 */

import { importEsbuild } from "../tests/_deps.ts";

/** Where the bundle goes by default, from the repository root. */
export const BUNDLE_FILE = "cloverleaf.js";

/** What {@linkcode bundleService} wrote. */
export interface BundleResult {
  /** The bundle's size in bytes. */
  bytes: number;
  /** The modules it still imports (`node:` ones only, when all is well). */
  imports: string[];
}

/** Options for {@linkcode bundleService}. */
export interface BundleOptions {
  /** The repository root. */
  root: string;
  /** The file to write. */
  outfile: string;
  /** Minify. @default {true} */
  minify?: boolean;
}

async function deno(root: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), { args, cwd: root, stderr: "piped" })
    .output();
  if (!out.success) {
    const why = new TextDecoder().decode(out.stderr).trim().split("\n")[0];
    throw new Error(`deno ${args[0]} failed: ${why}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/** The npm packages `deno.lock` pins (`name@version` → name, version). */
async function lockedPackages(root: string): Promise<[string, string][]> {
  const lock = JSON.parse(await Deno.readTextFile(`${root}deno.lock`)) as {
    npm?: Record<string, unknown>;
  };
  return Object.keys(lock.npm ?? {}).map((id) => {
    const at = id.lastIndexOf("@");
    return [id.slice(0, at), id.slice(at + 1).replace(/_.*$/, "")];
  });
}

/**
 * Bundles the service into one file.
 *
 * @param options The root and the output file.
 * @returns Its size and the modules it still imports.
 * @throws {Error} When a package is missing from the cache or esbuild fails.
 */
export async function bundleService(options: BundleOptions): Promise<BundleResult> {
  const { root } = options;
  await deno(root, "cache", "cli.ts");
  const info = JSON.parse(await deno(root, "info", "--json")) as { npmCache: string };
  const modules = await Deno.makeTempDir({ prefix: "cloverleaf_bundle_" });
  try {
    const seen = new Map<string, string>();
    for (const [name, version] of await lockedPackages(root)) {
      if (seen.has(name)) {
        throw new Error(`deno.lock holds ${name} twice (${seen.get(name)}, ${version})`);
      }
      seen.set(name, version);
      const dir = `${info.npmCache}/registry.npmjs.org/${name}/${version}`;
      await Deno.stat(`${dir}/package.json`);
      if (name.includes("/")) {
        await Deno.mkdir(`${modules}/${name.split("/")[0]}`, { recursive: true });
      }
      await Deno.symlink(dir, `${modules}/${name}`);
    }
    const esbuild = await importEsbuild();
    try {
      const result = await esbuild.build({
        entryPoints: [`${root}cli.ts`],
        outfile: options.outfile,
        bundle: true,
        format: "esm",
        platform: "node",
        target: "esnext",
        nodePaths: [modules],
        minify: options.minify ?? true,
        legalComments: "eof",
        logLevel: "silent",
        // CommonJS packages call require() for node: modules.
        banner: {
          js: 'import { createRequire as __clvRequire } from "node:module";\n' +
            "const require = __clvRequire(import.meta.url);",
        },
        metafile: true,
      });
      const output = Object.values(result.metafile.outputs)[0];
      return {
        bytes: output?.bytes ?? 0,
        imports: [...new Set(output?.imports.map((i) => i.path) ?? [])].sort(),
      };
    } finally {
      await esbuild.stop();
    }
  } finally {
    await Deno.remove(modules, { recursive: true });
  }
}

if (import.meta.main) {
  const root = new URL("../", import.meta.url).pathname;
  const outfile = Deno.args[0] ?? `${root}${BUNDLE_FILE}`;
  const { bytes } = await bundleService({ root, outfile });
  console.log(`wrote ${outfile} (${(bytes / 1024).toFixed(0)} KiB)`);
}
