/**
 * `register --exec`'s command runner: a canceled call kills the whole
 * command (not only its shell) and answers at once; a command that echoes
 * a large invocation as it reads it does not stall on a full pipe; the
 * invocation reaches stdin as the CLI prints it (binary as "\0" + base64).
 */

import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { ApplicationError } from "../../client/mod.ts";
import { execAnswer } from "../../cli/client/register.ts";
import { within } from "../_helpers/router.ts";

Deno.test("execAnswer: a cancel kills the command's process group and the call ends at once", async () => {
  const marker = `cloverleaf-exec-${crypto.randomUUID()}`;
  const controller = new AbortController();
  const answer = execAnswer(`sleep 30 # ${marker}`, {}, controller.signal);
  await new Promise((resolve) => setTimeout(resolve, 300));
  controller.abort();
  await within(rejects(answer), 3000, "the canceled call");
  const ps = await new Deno.Command("pgrep", { args: ["-f", marker] }).output();
  equal(new TextDecoder().decode(ps.stdout).trim(), "", "no process left behind");
});

Deno.test("execAnswer: a large invocation echoed by the command comes back whole", async () => {
  const big = "x".repeat(300_000);
  const result = await within(
    execAnswer("cat", { args: [big] }, new AbortController().signal),
    10_000,
    "cat of 300 KB",
  );
  deepEqual(result.args, [{ args: [big] }]);
});

Deno.test("execAnswer: binary reaches stdin as the CLI prints it", async () => {
  const result = await execAnswer(
    "cat",
    { args: [Uint8Array.of(1, 2)] },
    new AbortController().signal,
  );
  deepEqual(result.args, [{ args: ["\0AQI="] }]);
});

Deno.test("execAnswer: past its timeout the command's process group is killed and the answer is wamp.error.timeout", async () => {
  const marker = `cloverleaf-exec-${crypto.randomUUID()}`;
  const answer = execAnswer(`sleep 30 # ${marker}`, {}, new AbortController().signal, 300);
  const error = await within(answer.then(() => undefined, (e) => e), 5000, "the timed-out command");
  ok(error instanceof ApplicationError);
  equal(error.uri, "wamp.error.timeout");
  const ps = await new Deno.Command("pgrep", { args: ["-f", marker] }).output();
  equal(new TextDecoder().decode(ps.stdout).trim(), "", "no process left behind");
});
