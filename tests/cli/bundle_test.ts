/**
 * `deno task bundle` (cli/bundle.ts): builds the one-file artifact into a
 * temp dir, then runs it offline — an empty DENO_DIR, an unreachable npm
 * registry, `--cached-only`, no config and no lock (so Deno has no
 * package to install), network only to 127.0.0.1 — and connects clients
 * with each serializer.
 */

import { deepEqual, equal, match } from "node:assert/strict";
import { builtinModules } from "node:module";
import { bundleService } from "../../cli/bundle.ts";
import { connect } from "../../mod.ts";
import { within } from "../_helpers/router.ts";
import { ROOT, run, startService } from "./_service.ts";

/** `deno run` for the bundle: no deno.json, no lock, nothing remote. */
function runArgs(bundle: string, args: string[]): string[] {
  return [
    "run",
    "--no-config",
    "--no-lock",
    "--cached-only",
    "--allow-net=127.0.0.1",
    "--allow-read",
    "--allow-env",
    bundle,
    ...args,
  ];
}

Deno.test("deno task bundle: one JS file that starts offline with an empty DENO_DIR and serves clients", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloverleaf_bundle_test_" });
  try {
    const bundle = `${dir}/cloverleaf.js`;
    const { bytes, imports } = await within(
      bundleService({ root: ROOT, outfile: bundle }),
      120_000,
      "bundle",
    );
    equal((await Deno.stat(bundle)).size, bytes);
    // The npm code is inlined: what the bundle still imports or requires is Node's
    // built-in modules, which Deno provides.
    deepEqual(
      imports.filter((path) => !path.startsWith("node:") && !builtinModules.includes(path)),
      [],
    );

    const denoDir = `${dir}/deno_dir`;
    await Deno.mkdir(denoDir);
    const env = {
      DENO_DIR: denoDir,
      NPM_CONFIG_REGISTRY: "http://127.0.0.1:9/",
      NO_COLOR: "1",
    };
    const help = await run(Deno.execPath(), runArgs(bundle, ["--help"]), { env });
    equal(help.code, 0, help.stderr);
    match(help.stdout, /--tcp <host:port>/);

    await Deno.writeTextFile(
      `${dir}/config.yaml`,
      "realms:\n  - name: com.example.bundle\nlisteners:\n  - { type: universal, port: 0 }\n",
    );
    await using service = await startService(
      Deno.execPath(),
      runArgs(bundle, ["-c", `${dir}/config.yaml`]),
      { env },
    );
    for (const serializer of ["json", "msgpack", "cbor"] as const) {
      const session = await within(
        connect(service.urls[0]!, { realm: "com.example.bundle", serializers: [serializer] }),
        10_000,
        `${serializer} join`,
      );
      await session.register("com.example.echo", (args) => ({ args }));
      const result = await session.call("com.example.echo", {
        args: [serializer, 1, { a: [true] }],
      });
      deepEqual(result.args, [serializer, 1, { a: [true] }]);
      await session.close();
    }
    const status = await service.stop("SIGTERM");
    equal(status.code, 0, await service.stderr());
    // Deno fetched nothing: its npm cache is empty.
    const cached = [];
    for await (const entry of Deno.readDir(denoDir)) {
      if (entry.name === "npm") {
        for await (const pkg of Deno.readDir(`${denoDir}/npm`)) cached.push(pkg.name);
      }
    }
    deepEqual(cached, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
