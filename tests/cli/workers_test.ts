/**
 * `cloverleaf --workers N`: `check` validating it, the supervisor starting
 * N workers on one port plus its own nats-server, connections landing on
 * every worker, PubSub and RPC across workers, a SIGKILLed worker
 * restarted, and SIGTERM stopping every process it started.
 *
 * Which worker a session landed on shows in its session ID: each node of
 * a cluster issues IDs from its own slot (`cluster/session_ids.ts`), the
 * ID divided by 2^37.
 */

import { deepEqual, equal, match, notEqual, ok } from "node:assert/strict";
import { connect, type Event, listen, Router, type Session } from "../../mod.ts";
import { until, within } from "../_helpers/router.ts";
import { assertUsageError, run, runCli, type Service, withConfig } from "./_service.ts";
import { freePort } from "../../cli/ports.ts";
import { callUntil, slotOf, startWorkers } from "./_workers.ts";
import { superviseWorkers } from "../../cli/workers.ts";
import { loadConfig } from "../../cli/service_config.ts";
import { parseFlags } from "../../cli/flags.ts";
import { ConfigErrors } from "../../config/mod.ts";
import type { Logger } from "../../router/mod.ts";

/** The pids in the supervisor's lines `worker <n> ready (pid <p>)` and `NATS started … (pid <p>`. */
function pids(service: Service): { workers: Map<number, number>; nats?: number } {
  const workers = new Map<number, number>();
  let nats: number | undefined;
  for (const line of service.lines) {
    const w = /Supervisor: worker (\d+) ready \(pid (\d+)\)/.exec(line);
    if (w !== null) workers.set(Number(w[1]), Number(w[2]));
    const n = /Supervisor: NATS started at \S+ \(pid (\d+)/.exec(line);
    if (n !== null) nats = Number(n[1]);
  }
  return nats === undefined ? { workers } : { workers, nats };
}

/**
 * What a NATS server answers a CONNECT without credentials, over a plain
 * socket (the NATS client library, refused, can leave a socket that
 * raises ECONNRESET outside any test).
 */
async function natsLogin(natsUrl: string): Promise<string> {
  const { hostname, port } = new URL(natsUrl);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  try {
    await conn.write(new TextEncoder().encode('CONNECT {"verbose":false}\r\nPING\r\n'));
    let text = "";
    const buffer = new Uint8Array(4096);
    const deadline = Date.now() + 5000;
    while (!text.includes("-ERR") && !text.includes("PONG") && Date.now() < deadline) {
      const n = await within(conn.read(buffer), 5000, "the NATS answer").catch(() => null);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    return text;
  } finally {
    conn.close();
  }
}

/** Whether `pid` runs (`ps`: reading /proc needs --allow-all under Deno); a zombie does not. */
async function alive(pid: number): Promise<boolean> {
  const out = await new Deno.Command("ps", { args: ["-o", "stat=", "-p", String(pid)] }).output();
  const stat = new TextDecoder().decode(out.stdout).trim();
  return stat !== "" && !stat.startsWith("Z");
}

/** Whether any of `pids` runs. */
async function anyAlive(pids: Iterable<number>): Promise<boolean> {
  for (const pid of pids) if (await alive(pid)) return true;
  return false;
}

/** Joins sessions until they cover `slots` distinct slots (at most `max` tries). */
async function spread(url: string, slots: number, max = 40): Promise<Session[]> {
  const sessions: Session[] = [];
  const seen = new Set<number>();
  while (seen.size < slots && sessions.length < max) {
    const session = await within(connect(url, { realm: "realm1" }), 10_000, "join");
    sessions.push(session);
    seen.add(slotOf(session));
  }
  return sessions;
}

/** Joins sessions until one lands on `slot`. */
async function joinSlot(url: string, slot: number, sessions: Session[]): Promise<Session> {
  for (let i = 0; i < 40; i++) {
    const session = await within(connect(url, { realm: "realm1" }), 10_000, "join");
    sessions.push(session);
    if (slotOf(session) === slot) return session;
  }
  throw new Error(`no session on slot ${slot} in 40 joins`);
}

Deno.test("listen with reusePort: two listeners share one port; without it the second fails", async () => {
  const router = new Router({ realms: [{ name: "realm1" }], logger: () => {} });
  const port = await freePort();
  const a = await listen(router, { port, reusePort: true });
  const b = await listen(router, { port, reusePort: true });
  try {
    equal(a.addr.transport === "tcp" && a.addr.port, port);
    equal(b.addr.transport === "tcp" && b.addr.port, port);
    const session = await connect(`ws://127.0.0.1:${port}/ws`, { realm: "realm1" });
    await session.close();
    let refused = false;
    await listen(router, { port }).then((l) => l.close(), () => refused = true);
    ok(refused, "a listener without reusePort cannot take the port");
  } finally {
    await router.close();
    await a.close();
    await b.close();
  }
});

Deno.test("cli check validates --workers and the workers config key", async () => {
  const ok2 = await runCli(["check", "--workers", "2"]);
  equal(ok2.stdout, "config OK: 1 realm, 1 listener, 2 workers\n");
  equal(ok2.code, 0);
  equal((await runCli(["check", "--workers", "1"])).stdout, "config OK: 1 realm, 1 listener\n");
  equal((await runCli(["check", "--workers", "auto"])).code, 0);
  assertUsageError(
    await runCli(["check", "--workers", "0"]),
    /Invalid --workers "0": expected an integer from 1 to 256 or "auto"/,
  );
  assertUsageError(await runCli(["--workers", "many"]), /Invalid --workers "many"/);
  await withConfig(JSON.stringify({ workers: 3 }), async (file) => {
    equal(
      (await runCli(["check", "-c", file])).stdout,
      "config OK: 1 realm, 1 listener, 3 workers\n",
    );
    // The flag wins over the file.
    equal(
      (await runCli(["check", "-c", file, "--workers", "1"])).stdout.includes("workers"),
      false,
    );
  });
  await withConfig(JSON.stringify({ workers: "x" }), async (file) => {
    assertUsageError(
      await runCli(["check", "-c", file]),
      /Invalid config "workers": expected an integer/,
    );
  });
  assertUsageError(
    await runCli(["check", "--workers", "2", "--listen", "127.0.0.1:0"]),
    /2 workers cannot share port 0/,
  );
  assertUsageError(
    await runCli(["check", "--workers", "2", "--listen", "127.0.0.1:9000", "--unix", "/tmp/x"]),
    /cannot share the Unix socket listener "\/tmp\/x"/,
  );
});

Deno.test("cli --workers without --allow-run exits 1 with one line", async () => {
  const out = await runCli(["--workers", "2", "--listen", `127.0.0.1:${await freePort()}`]);
  equal(out.code, 1);
  match(out.stderr, /^cloverleaf: --workers needs --allow-run/);
});

Deno.test("cli --workers with scoped --allow-net exits 1 with one line naming it", async () => {
  const port = await freePort();
  const out = await run(Deno.execPath(), [
    "run",
    "--allow-run",
    "--allow-read",
    "--allow-env",
    "--allow-write",
    `--allow-net=127.0.0.1:${port}`,
    "cli.ts",
    "--workers",
    "2",
    "--listen",
    `127.0.0.1:${port}`,
  ]);
  equal(out.code, 1);
  match(out.stderr, /^cloverleaf: --workers needs --allow-net without a scope/);
});

Deno.test("cli --workers without nats-server (and no --cluster) exits 1 with one line", async () => {
  const port = await freePort();
  const out = await run(Deno.execPath(), [
    "run",
    "-A",
    "cli.ts",
    "--workers",
    "2",
    "--listen",
    `127.0.0.1:${port}`,
  ], {
    env: { PATH: "/nonexistent" },
  });
  equal(out.code, 1);
  match(out.stderr, /^cloverleaf: --workers without --cluster needs nats-server on the PATH/);
});

Deno.test({
  name: "cli --workers 2: one port, both workers serve, PubSub and RPC across them, " +
    "a killed worker is restarted, SIGTERM stops every process",
  sanitizeResources: false,
  fn: async () => {
    const port = await freePort();
    const url = `ws://127.0.0.1:${port}/ws`;
    const known = new Set<number>();
    await using service = await startWorkers(port);
    const sessions: Session[] = [];
    try {
      const started = pids(service);
      equal(started.workers.size, 2);
      ok(started.nats !== undefined, "the supervisor's nats-server");
      // Its NATS takes only the workers: a connection without the token is refused.
      const natsUrl = /Supervisor: NATS started at (\S+)/.exec(service.lines.join("\n"))![1]!;
      match(await natsLogin(natsUrl), /-ERR 'Authorization Violation'/);
      for (const pid of [...started.workers.values(), started.nats]) known.add(pid);
      for (const pid of known) ok(await alive(pid), `pid ${pid} runs`);
      match(service.lines.join("\n"), /Worker 1: Listening on/);
      match(service.lines.join("\n"), /Worker 2: Listening on/);

      // Connections to the one port land on both workers.
      sessions.push(...await spread(url, 2));
      const slots = [...new Set(sessions.map(slotOf))];
      equal(slots.length, 2, "sessions on 2 workers");
      const onA = sessions.find((s) => slotOf(s) === slots[0])!;
      const onB = sessions.find((s) => slotOf(s) === slots[1])!;

      // PubSub across workers.
      const got: Event[] = [];
      await onB.subscribe("com.example.workers", (e) => {
        got.push(e);
      });
      const id = await onA.publish("com.example.workers", { args: ["across"] }, {
        acknowledge: true,
      });
      await until(() => got.length === 1, 5000, "the event on the other worker");
      deepEqual(got[0]!.args, ["across"]);
      equal(got[0]!.publication, id);

      // RPC across workers, both ways (callers other than the callees).
      await onA.register("com.example.on_a", () => ({ args: ["a"] }));
      await onB.register("com.example.on_b", () => ({ args: ["b"] }));
      const callerOnA = sessions.find((s) => s !== onA && slotOf(s) === slots[0]) ??
        await joinSlot(url, slots[0]!, sessions);
      const callerOnB = sessions.find((s) => s !== onB && slotOf(s) === slots[1]) ??
        await joinSlot(url, slots[1]!, sessions);
      deepEqual(await callUntil(callerOnB, "com.example.on_a"), ["a"]);
      deepEqual(await callUntil(callerOnA, "com.example.on_b"), ["b"]);

      // SIGKILL worker 1: it is restarted and serves again.
      const victim: [number, number] = [1, started.workers.get(1)!];
      Deno.kill(victim[1], "SIGKILL");
      await until(
        () => (pids(service).workers.get(victim[0]) ?? victim[1]) !== victim[1],
        15_000,
        `worker ${victim[0]} restarted`,
      );
      const restarted = pids(service).workers.get(victim[0])!;
      known.add(restarted);
      // The survivor's sessions stay; the victim's were closed.
      const survivor = sessions.find((s) => s.isOpen);
      ok(survivor !== undefined, "sessions on the surviving worker stay open");
      const survivorSlot = slotOf(survivor);
      await until(
        () => sessions.every((s) => slotOf(s) === survivorSlot || !s.isOpen),
        5000,
        "the killed worker's sessions closed",
      );
      // New connections reach the restarted worker (a new slot) and the survivor.
      const again = await spread(url, 2);
      sessions.push(...again);
      const fresh = again.find((s) => slotOf(s) !== survivorSlot);
      ok(fresh !== undefined, "a session on the restarted worker");
      notEqual(slotOf(fresh), survivorSlot);
      await survivor.register("com.example.survivor", () => ({ args: ["s"] }));
      deepEqual(await callUntil(fresh, "com.example.survivor"), ["s"]);

      // SIGTERM: GOODBYE to the sessions, every process gone.
      const status = await service.stop("SIGTERM");
      equal(status.code, 0);
      const closed = await within(fresh.closed, 5000, "session close");
      equal(closed.reason, "wamp.close.system_shutdown");
      const deadline = Date.now() + 5000;
      while (await anyAlive(known)) {
        if (Date.now() > deadline) throw new Error("processes left 5 s after SIGTERM");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      match(service.lines.join("\n"), /Supervisor: NATS stopped/);
      match(
        await service.stderr(),
        new RegExp(`worker ${victim[0]} \\(pid ${victim[1]}\\) exited with signal SIGKILL`),
      );
    } finally {
      for (const session of sessions) await session.close().catch(() => {});
      for (const pid of known) {
        if (await alive(pid)) Deno.kill(pid, "SIGKILL");
      }
    }
  },
});

/** The flags of a `deno task` in deno.json, after `deno`. */
async function taskArgs(name: string): Promise<string[]> {
  const deno = JSON.parse(
    await Deno.readTextFile(new URL("../../deno.json", import.meta.url)),
  ) as { tasks: Record<string, string> };
  const [command, ...args] = deno.tasks[name]!.split(" ");
  equal(command, "deno");
  return args;
}

Deno.test({
  name: "deno task start:workers serves with --workers 2, and a SIGKILLed supervisor " +
    "leaves no worker, no nats-server and no store behind",
  sanitizeResources: false,
  fn: async () => {
    const port = await freePort();
    const args = await taskArgs("start:workers");
    ok(args.includes("--allow-run"), "the task grants --allow-run");
    await using service = await startWorkers(port, { deno: args, listen: "--ws" });
    const known = new Set<number>();
    try {
      const started = pids(service);
      equal(started.workers.size, 2);
      for (const pid of [...started.workers.values(), started.nats!]) known.add(pid);
      const store = /store (\S+)\)/.exec(service.lines.join("\n"))![1]!;
      const s = await connect(`ws://127.0.0.1:${port}/ws`, { realm: "realm1" });
      await s.close();
      const supervisor = Number(/workers serving \(pid (\d+)\)/.exec(service.lines.join("\n"))![1]);
      Deno.kill(supervisor, "SIGKILL");
      const deadline = Date.now() + 10_000;
      while (await anyAlive(known)) {
        if (Date.now() > deadline) {
          throw new Error("processes left 10 s after the supervisor's SIGKILL");
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await until(
        () => {
          try {
            Deno.statSync(store);
            return false;
          } catch {
            return true;
          }
        },
        5000,
        "the NATS store removed",
      );
    } finally {
      for (const pid of known) {
        if (await alive(pid)) Deno.kill(pid, "SIGKILL");
      }
    }
  },
});

Deno.test({
  name: "superviseWorkers: workers that do not serve within the start timeout stop everything",
  sanitizeResources: false,
  fn: async () => {
    // A "NATS server" that accepts and never speaks: each worker waits in its cluster join.
    const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const held: Deno.Conn[] = [];
    const accepting = (async () => {
      for await (const conn of silent) held.push(conn);
    })().catch(() => {});
    const port = await freePort();
    const args = [
      "--workers",
      "2",
      "--ws",
      `127.0.0.1:${port}`,
      "--cluster",
      `nats://127.0.0.1:${silent.addr.port}`,
    ];
    const errors = new ConfigErrors();
    const config = await loadConfig(parseFlags(args), errors);
    equal(errors.errors.length, 0);
    const lines: string[] = [];
    const log: Logger = (level, message) => lines.push(`${level} ${message}`);
    const t0 = Date.now();
    try {
      const code = await superviseWorkers(args, config, log, { startTimeout: 1500 });
      equal(code, 1);
      const took = Date.now() - t0;
      ok(took < 15_000, `returned after ${took} ms`);
      const text = lines.join("\n");
      match(text, /error Supervisor: worker 1, 2 not serving after 1500 ms/);
      match(text, /Supervisor: a worker failed to start: stopping/);
      const started = [...text.matchAll(/worker \d+ started \(pid (\d+)\)/g)].map((m) =>
        Number(m[1])
      );
      equal(started.length, 2);
      ok(!await anyAlive(started), "no worker left");
    } finally {
      silent.close();
      for (const conn of held) conn.close();
      await accepting;
    }
  },
});
