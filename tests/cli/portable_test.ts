/**
 * The CLI's byte encodings run where `Uint8Array.prototype.toBase64` does
 * not exist (older runtimes, bundles): they go through `wamp/bytes.ts`.
 * Each check runs in a subprocess that deletes the native method before
 * importing the module.
 */

import { equal } from "node:assert/strict";
import { ROOT } from "./_service.ts";

/** Runs `code` (an ES module body) with no native base64 and returns its stdout. */
async function withoutNativeBase64(code: string): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      "--ext=ts",
      `delete (Uint8Array.prototype as { toBase64?: unknown }).toBase64;\n${code}`,
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  const decoder = new TextDecoder();
  equal(out.code, 0, decoder.decode(out.stderr));
  return decoder.decode(out.stdout).trim();
}

Deno.test("cli jsonLine prints binary as \\0 + base64 without the native toBase64", async () => {
  const printed = await withoutNativeBase64(`
    const { jsonLine } = await import("./cli/client/common.ts");
    console.log(jsonLine({ b: Uint8Array.of(1, 2, 0xfb, 0xff) }));
  `);
  equal(printed, JSON.stringify({ b: "\0AQL7/w==" }));
});

Deno.test("cli worker sockets get base64url secrets without the native toBase64", async () => {
  const printed = await withoutNativeBase64(`
    const { makeWorkerSockets, removeWorkerSockets } = await import("./cli/worker.ts");
    const sockets = await makeWorkerSockets({ workers: 2, longpoll: true, admin: false });
    await removeWorkerSockets(sockets);
    console.log(sockets.relay.secret);
  `);
  equal(/^[A-Za-z0-9_-]{32}$/.test(printed), true, printed);
});
