/**
 * `--workers` keeps secrets off the workers' command lines: `--http-token`
 * given to the supervisor reaches each worker by environment (which only
 * the service's user and root can read), not by argv (which `ps` shows
 * every user). The workers share one decoy secret, so an unknown authid's
 * CHALLENGE is the same from each (a difference would tell it unknown).
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { freePort } from "../../cli/ports.ts";
import { workerArgs } from "../../cli/workers.ts";
import { rawWebSocket } from "../_helpers/raw_websocket.ts";
import { startWorkers } from "./_workers.ts";

Deno.test("workerArgs drops --workers and the secret flags, in both spellings", () => {
  deepEqual(
    workerArgs([
      "--workers",
      "2",
      "--http-bridge",
      "/api",
      "--http-token",
      "s3cret-s3cret-s3cret",
      "--http-token-file=/run/token",
      "--http-token=x",
      "--http-token-file",
      "/run/token",
      "--workers=3",
      "--listen",
      "127.0.0.1:8080",
    ], 1),
    ["--http-bridge", "/api", "--listen", "127.0.0.1:8080", "--worker", "1"],
  );
});

Deno.test({
  name: "cli --workers 2 --http-token: no worker's command line (ps) holds the token, " +
    "and every worker serves the bridge with it",
  sanitizeResources: false,
  fn: async () => {
    const token = `worker-token-${crypto.randomUUID()}`;
    const port = await freePort();
    // Each worker refuses to start without the token: both serving means both got it.
    await using service = await startWorkers(port, {
      extra: ["--http-bridge", "/api", "--http-token", token],
    });
    const pids = service.lines.flatMap((line) => {
      const m = /Supervisor: worker \d+ ready \(pid (\d+)\)/.exec(line);
      return m === null ? [] : [Number(m[1])];
    });
    equal(pids.length, 2, service.lines.join("\n"));
    for (const pid of pids) {
      // What `ps` shows every user: the command line, in full (reading /proc needs -A here).
      const ps = await new Deno.Command("ps", { args: ["-ww", "-o", "args=", "-p", String(pid)] })
        .output();
      const argv = new TextDecoder().decode(ps.stdout).trim();
      ok(/ --worker \d/.test(argv), `pid ${pid} is a worker: ${argv}`);
      ok(argv.includes("--http-bridge /api"), argv);
      equal(argv.includes(token), false, `the token on ${pid}'s command line`);
    }
    const publish = async (bearer: string) => {
      const response = await fetch(`http://127.0.0.1:${port}/api/publish`, {
        method: "POST",
        headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
        body: JSON.stringify({ topic: "com.example.news", args: [1] }),
      });
      await response.body?.cancel();
      return response.status;
    };
    for (let i = 0; i < 4; i++) equal(await publish(token), 202);
    equal(await publish("not-the-token-at-all"), 401);
    equal((await service.stop("SIGTERM")).code, 0);
  },
});

/** On one connection: joins anonymously (the session ID names the worker), leaves, then asks a WAMP-CRA CHALLENGE for an unknown authid. */
async function workerAndDecoy(port: number): Promise<[number, string]> {
  await using ws = await rawWebSocket(`ws://127.0.0.1:${port}/ws`, ["wamp.2.json"]);
  const next = async () => JSON.parse(new TextDecoder().decode((await ws.read()).payload));
  await ws.send(JSON.stringify([1, "realm1", { roles: { caller: {} } }]));
  const welcome = await next();
  equal(welcome[0], 2, JSON.stringify(welcome));
  await ws.send(JSON.stringify([6, {}, "wamp.close.normal"]));
  equal((await next())[0], 6);
  await ws.send(
    JSON.stringify([1, "realm1", {
      roles: { caller: {} },
      authmethods: ["wampcra"],
      authid: "nobody",
    }]),
  );
  const challenge = await next();
  equal(challenge[0], 4, JSON.stringify(challenge));
  const { salt, iterations, keylen } = challenge[2];
  return [Math.floor(welcome[1] / 2 ** 37), JSON.stringify({ salt, iterations, keylen })];
}

Deno.test({
  name: "cli --workers 2: an unknown authid gets the same WAMP-CRA decoy from every worker",
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const config = `${dir}/cloverleaf.json`;
    await Deno.writeTextFile(
      config,
      JSON.stringify({
        realms: [{
          name: "realm1",
          anonymous: true,
          auth: {
            wampcra: {
              users: {
                peter: {
                  role: "user",
                  secret: "2kAPXRz0OSf7KiWb7EdE5RrZe1lPMwpueszWag6oQEc=",
                  salt: "c2FsdHNhbHRzYWx0c2FsdA==",
                  iterations: 500,
                  keylen: 32,
                },
                paul: {
                  role: "user",
                  secret: "2kAPXRz0OSf7KiWb7EdE5RrZe1lPMwpueszWag6oQEc=",
                  salt: "gzIxt2ZIS442VP+dZAJ/dA==",
                  iterations: 1000,
                  keylen: 32,
                },
              },
            },
          },
        }],
      }),
    );
    const port = await freePort();
    try {
      await using _service = await startWorkers(port, { extra: ["--config", config] });
      const decoys = new Map<number, Set<string>>();
      for (let i = 0; i < 24 && (decoys.size < 2 || i < 8); i++) {
        const [worker, decoy] = await workerAndDecoy(port);
        decoys.set(worker, (decoys.get(worker) ?? new Set()).add(decoy));
      }
      equal(decoys.size, 2, "both workers answered");
      const all = new Set([...decoys.values()].flatMap((set) => [...set]));
      equal(all.size, 1, [...all].join("\n"));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
