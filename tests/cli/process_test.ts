/** `cli/process.ts`: stopping children gently, then surely; waiting for SIGINT/SIGTERM. */

import { equal, ok } from "node:assert/strict";
import { interrupted, stopChild } from "../../cli/process.ts";
import { within } from "../_helpers/router.ts";

/** A shell that prints "ready" once its traps are set, then sleeps. */
function shell(script: string): Deno.ChildProcess {
  return new Deno.Command("/bin/sh", {
    // Short sleeps: none outlives the shell by more than 50 ms.
    args: ["-c", `${script}\necho ready; while :; do sleep 0.05; done`],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
}

async function ready(child: Deno.ChildProcess): Promise<void> {
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("ready")) {
    const { value, done } = await within(reader.read(), 5000, "ready");
    if (done) break;
    text += value;
  }
  reader.releaseLock();
}

Deno.test("stopChild() asks with SIGTERM: a child that obeys exits by it", async () => {
  const child = shell("trap 'exit 7' TERM");
  await ready(child);
  await within(stopChild(child, 5000), 5000, "stopChild");
  equal((await child.status).code, 7);
  await child.stdin.close();
  await child.stdout.cancel().catch(() => {});
});

Deno.test("stopChild() kills a child that ignores SIGTERM once the timeout passes", async () => {
  const child = shell("trap '' TERM");
  await ready(child);
  const t0 = Date.now();
  await within(stopChild(child, 300), 5000, "stopChild");
  const status = await child.status;
  equal(status.signal, "SIGKILL");
  ok(Date.now() - t0 >= 250, "waited for the timeout first");
  await child.stdin.close().catch(() => {});
  await child.stdout.cancel().catch(() => {});
});

Deno.test("stopChild() asks and kills the given ways (a pipe to close)", async () => {
  const child = shell(
    // A background job reads /dev/null unless given stdin (fd 3 here).
    "exec 3<&0; trap '' TERM; trap 'exit 3' USR1; (read _ <&3; kill -USR1 $$) &",
  );
  await ready(child);
  const writer = child.stdin.getWriter();
  let killed = false;
  await within(
    stopChild(child, 5000, {
      ask: () => writer.close(),
      kill: () => killed = true,
    }),
    5000,
    "stopChild",
  );
  ok(!killed, "the closed pipe was enough");
  equal((await child.status).code, 3);
  await child.stdout.cancel().catch(() => {});
});

Deno.test("interrupted() resolves on SIGTERM, and keeps the process alive until disposed", async () => {
  const stop = interrupted();
  try {
    Deno.kill(Deno.pid, "SIGTERM");
    await within(stop.promise, 5000, "SIGTERM seen");
  } finally {
    stop.dispose();
  }
});
