/**
 * `./client` in a browser: client/mod.ts bundled by esbuild for the
 * browser (no externals: its module graph holds no `node:*` import), served
 * with a page by the test, and driven in Debian's headless Chromium against
 * a router started by the test: join, register, call, subscribe, publish,
 * and logins with WAMP-CRA (salted: PBKDF2), cryptosign (Ed25519) and
 * WAMP-SCRAM, all through WebCrypto and the global `WebSocket`.
 *
 * @module
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { bundle } from "../_helpers/browser.ts";
import { EXPECTED, portableRouter } from "./_portable.ts";

const CLIENT = fileURLToPath(new URL("../../client/mod.ts", import.meta.url));
const SCENARIO = fileURLToPath(new URL("./_portable_scenario.ts", import.meta.url));
/** Drives Chromium in a `deno run -A` child: playwright-core needs `--allow-all`. */
const CHROMIUM = fileURLToPath(new URL("./_chromium.ts", import.meta.url));
/** The lockfile of the test-only packages (playwright-core). */
const DEV_LOCK = fileURLToPath(new URL("../../deno.dev.lock", import.meta.url));

Deno.test("client/mod.ts bundles for the browser with no externals and no node: import", async () => {
  const { code } = await bundle(CLIENT, { minify: true });
  ok(!/\bfrom\s*["']node:/.test(code), "a static node: import in the bundle");
  ok(!/\bimport\s*\(\s*["']node:/.test(code), "a dynamic node: import in the bundle");
});

Deno.test("headless Chromium runs the bundled client against the router: RPC, PubSub, CRA, cryptosign, SCRAM", async () => {
  const client = await bundle(CLIENT);
  const scenario = await bundle(SCENARIO);
  const { router, config } = await portableRouter();
  const files: Record<string, string> = {
    "/client.js": client.code,
    "/scenario.js": scenario.code,
    "/": `<!doctype html><meta charset="utf-8"><title>cloverleaf</title>
<script type="module">
  import * as client from "/client.js";
  import { scenario } from "/scenario.js";
  const config = ${JSON.stringify(config)};
  scenario(client, config).then(
    (result) => { window.outcome = { result }; },
    (error) => { window.outcome = { error: String(error?.stack ?? error) }; },
  );
</script>`,
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const path = new URL(request.url).pathname;
    const body = files[path];
    if (body === undefined) return new Response("not found", { status: 404 });
    const type = path === "/" ? "text/html" : "text/javascript";
    return new Response(body, { headers: { "content-type": type } });
  });
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `--lock=${DEV_LOCK}`, CHROMIUM, `http://127.0.0.1:${server.addr.port}/`],
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(60_000),
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    equal(output.code, 0, `Chromium run failed: ${stderr}`);
    const { outcome, errors, deno, userAgent } = JSON.parse(
      new TextDecoder().decode(output.stdout),
    );
    deepEqual(errors, []);
    deepEqual(outcome, { result: EXPECTED });
    equal(deno, "undefined");
    ok(/HeadlessChrome\//.test(userAgent), userAgent);
  } finally {
    await server.shutdown();
    await router[Symbol.asyncDispose]();
  }
});
