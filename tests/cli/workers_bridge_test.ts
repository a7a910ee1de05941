/**
 * `--workers 2` with a signed HTTP bridge path: the same signed request,
 * sent again on fresh connections (which land on either worker), is taken
 * once in all: the workers share the memory of used signatures through
 * the supervisor's NATS.
 */

import { deepEqual } from "node:assert/strict";
import { signRequest } from "../../bridge/auth.ts";
import { freePort } from "../../cli/ports.ts";
import { withConfig } from "./_service.ts";
import { startWorkers } from "./_workers.ts";

const AUTH = { key: "app1", secret: "a-secret-of-the-workers", timestampDelta: 60 };
const CONFIG = JSON.stringify({
  realms: [{
    name: "realm1",
    roles: [{
      name: "backend",
      permissions: [{ uri: "com.example.", match: "prefix", allow: { publish: true } }],
    }],
  }],
  bridges: [{ path: "/pub", type: "publisher", realm: "realm1", role: "backend", auth: AUTH }],
});

/** POSTs on a connection of its own (so it may land on either worker); the status. */
async function postAlone(url: string, body: string): Promise<number> {
  using client = Deno.createHttpClient({});
  const response = await fetch(url, {
    client,
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  await response.body?.cancel();
  return response.status;
}

Deno.test("--workers 2: a signed bridge request sent 12 times on fresh connections is taken once", async () => {
  await withConfig(CONFIG, async (file) => {
    const port = await freePort();
    await using _service = await startWorkers(port, {
      deno: ["run", "-A", "cli.ts", "--config", file],
    });
    const body = JSON.stringify({ topic: "com.example.signed", args: [1] });
    const target = await signRequest("/pub", { ...AUTH, body });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      statuses.push(await postAlone(`http://127.0.0.1:${port}${target}`, body));
    }
    deepEqual(statuses.sort(), [202, ...Array(11).fill(401)]);
  });
});
