/**
 * What the router logs, over real sockets: JSON lines with their fields,
 * authentication failures at warn without the secret, a missing dynamic
 * authorizer at warn, joins summed up under a burst, protocol violations
 * with the peer address, and slow-consumer warnings limited per session.
 */

import { deepEqual, equal, match, ok } from "node:assert/strict";
import { connect, type Logger, type LogLevel, type Session } from "../../mod.ts";
import { formatLogLine, type LogFields } from "../../router/mod.ts";
import { ErrorUri, MessageType } from "../../wamp/mod.ts";
import { startRouter, type TestRouterOptions, until, within } from "../_helpers/router.ts";
import {
  assertNoSecrets,
  CREDENTIALS as C,
  rawWamp,
  SECRET_STRINGS,
  STATIC_REALM_JSON,
} from "../_helpers/auth.ts";
import { FakePeer } from "../_helpers/fake_peer.ts";
import { Router } from "../../router/router.ts";
import { DROP_LOG_INTERVAL } from "../../router/target.ts";

/** One logged line, as a JSON log collector would read it back. */
interface Line {
  level: LogLevel;
  time: string;
  msg: string;
  [field: string]: unknown;
}

/** A logger writing JSON lines (and text lines, for the secret check) into arrays. */
function jsonLog(): { logger: Logger; json: string[]; text: string[]; lines: () => Line[] } {
  const json: string[] = [];
  const text: string[] = [];
  const logger: Logger = (level, message, fields) => {
    const time = new Date().toISOString();
    json.push(formatLogLine("json", level, message, fields, time));
    text.push(formatLogLine("text", level, message, fields, time));
  };
  return { logger, json, text, lines: () => json.map((l) => JSON.parse(l) as Line) };
}

async function withRouter(
  options: TestRouterOptions,
  fn: (
    t: Awaited<ReturnType<typeof startRouter>>,
    log: ReturnType<typeof jsonLog>,
  ) => Promise<void>,
): Promise<void> {
  const log = jsonLog();
  await using t = await startRouter({ ...options, logger: log.logger });
  await fn(t, log);
}

Deno.test("logging: JSON lines parse and carry realm, session, authid, authrole, transport, peer", async () => {
  const log = jsonLog();
  {
    await using t = await startRouter({ logger: log.logger });
    const session = await within(connect(t.url, { realm: "realm1" }), 5000, "join");
    await session.close();
    await until(() => log.lines().some((l) => /left realm/.test(l.msg)), 5000, "the left line");
  }
  const lines = log.lines();
  for (const line of lines) {
    ok(["debug", "info", "warn", "error"].includes(line.level), JSON.stringify(line));
    equal(new Date(line.time).toISOString(), line.time, "time is ISO 8601");
    equal(typeof line.msg, "string");
  }
  const added = lines.find((l) => l.msg === 'Realm "realm1" added');
  equal(added?.level, "info");
  equal(added?.realm, "realm1");
  const joined = lines.find((l) => / joined realm "realm1"/.test(l.msg))!;
  ok(joined, log.json.join("\n"));
  equal(joined.level, "info");
  equal(joined.realm, "realm1");
  equal(typeof joined.session, "number");
  equal(joined.authrole, "anonymous");
  equal(typeof joined.authid, "string");
  equal(joined.transport, "websocket");
  match(String(joined.peer), /127\.0\.0\.1/);
  const left = lines.find((l) => / left realm "realm1"/.test(l.msg))!;
  equal(left.session, joined.session);
  equal(left.authid, joined.authid);
  ok(lines.some((l) => /Router shutting down/.test(l.msg) && l.level === "info"));
  ok(lines.some((l) => l.msg === "Router closed"));
});

Deno.test("logging: a failed ticket and WAMP-CRA authentication log at warn, never the secret", async () => {
  await withRouter({ realms: [JSON.parse(STATIC_REALM_JSON)] }, async (t, log) => {
    const attempts = [
      { authid: "alice", ticket: C.wrong, method: "ticket" },
      { authid: "alice", ticket: C.aliceTicket.slice(0, -1), method: "ticket" },
      { authid: "bob", secret: C.wrong, method: "wampcra" },
      { authid: "carl", secret: C.wrong, method: "wampcra" },
    ];
    for (const { method: _, ...credentials } of attempts) {
      const joining = connect(t.url, { realm: "realm1", ...credentials });
      await within(joining.then(() => ok(false, "joined"), () => {}), 5000, "the refusal");
    }
    // A right one too: its ticket must not be logged either.
    const alice = await connect(t.url, { realm: "realm1", authid: "alice", ticket: C.aliceTicket });
    await alice.close();
    const failures = log.lines().filter((l) => /authentication failed/.test(l.msg));
    deepEqual(failures.map((l) => [l.level, l.method, l.authid]), [
      ["warn", "ticket", "alice"],
      ["warn", "ticket", "alice"],
      ["warn", "wampcra", "bob"],
      ["warn", "wampcra", "carl"],
    ]);
    for (const line of failures) {
      equal(line.realm, "realm1");
      equal(typeof line.session, "number");
      equal(line.transport, "websocket");
      match(String(line.peer), /127\.0\.0\.1/);
      match(String(line.reason), /wrong (ticket|wampcra signature) for/);
    }
    assertNoSecrets(log.json);
    assertNoSecrets(log.text);
    const partial = C.aliceTicket.slice(0, -1);
    ok(!log.json.some((l) => l.includes(partial)), "the near-miss ticket is not logged");
    ok(SECRET_STRINGS.length > 0);
  });
});

Deno.test("logging: a dynamic authorizer that is not registered logs at warn (first, 10th, 100th…)", async () => {
  const realm = {
    name: "realm1",
    roles: [{ name: "anonymous", authorizer: "com.example.authorize" }],
  };
  await withRouter({ realms: [realm] }, async (t, log) => {
    const session = await connect(t.url, { realm: "realm1" });
    try {
      for (let i = 0; i < 12; i++) {
        const error = await session.call("com.example.add", { args: [1, 2] }).then(
          () => undefined,
          (e: { uri?: string }) => e,
        );
        equal(error?.uri, ErrorUri.NOT_AUTHORIZED);
      }
    } finally {
      await session.close();
    }
    const warnings = log.lines().filter((l) => /Dynamic authorizer/.test(l.msg));
    deepEqual(warnings.map((l) => [l.level, l.denied]), [["warn", 1], ["warn", 10]]);
    const [first] = warnings;
    match(first!.msg, /procedure "com\.example\.authorize" failed \(not registered\)/);
    equal(first!.reason, ErrorUri.NO_SUCH_PROCEDURE);
    equal(first!.realm, "realm1");
    equal(first!.authrole, "anonymous");
    equal(first!.action, "call");
    equal(first!.uri, "com.example.add");
  });
});

Deno.test("logging: a dynamic authorizer function that throws logs at warn with its error", async () => {
  const realm = {
    name: "realm1",
    roles: [{
      name: "anonymous",
      authorizer: () => {
        throw new Error("policy store unreachable");
      },
    }],
  };
  await withRouter({ realms: [realm] }, async (t, log) => {
    const session = await connect(t.url, { realm: "realm1" });
    try {
      const published = session.publish("com.example.t", {}, { acknowledge: true });
      const error = await published.then(() => undefined, (e: { uri?: string }) => e);
      equal(error?.uri, ErrorUri.NOT_AUTHORIZED);
    } finally {
      await session.close();
    }
    const line = log.lines().find((l) => /Dynamic authorizer/.test(l.msg))!;
    equal(line.level, "warn");
    match(
      line.msg,
      /function failed \(policy store unreachable\): publish "com\.example\.t" denied/,
    );
    equal(line.reason, "policy store unreachable");
  });
});

Deno.test("logging: a burst of joins is summed up above sessionLogRate", async () => {
  const RATE = 5, N = 40;
  await withRouter({ sessionLogRate: RATE }, async (t, log) => {
    const started = Date.now();
    const sessions: Session[] = await within(
      Promise.all(Array.from({ length: N }, () => connect(t.url, { realm: "realm1" }))),
      20_000,
      "the joins",
    );
    await Promise.all(sessions.map((s) => s.close()));
    // The summary comes within a second of the burst.
    const summed = () => log.lines().filter((l) => /sessions joined, \d+ left/.test(l.msg));
    await until(
      () => summed().reduce((n, l) => n + Number(l.joined) + Number(l.left), 0) > 0,
      5000,
      "a summary line",
    );
    const seconds = Math.ceil((Date.now() - started) / 1000) + 1;
    await t.router.close(); // flushes what is left
    const lines = log.lines();
    const single = lines.filter((l) => / (joined|left) realm "realm1"/.test(l.msg));
    const summaries = summed();
    const joins = single.filter((l) => / joined /.test(l.msg)).length +
      summaries.reduce((n, l) => n + Number(l.joined), 0);
    const leaves = single.filter((l) => / left /.test(l.msg)).length +
      summaries.reduce((n, l) => n + Number(l.left), 0);
    equal(joins, N, "every join counted once");
    equal(leaves, N, "every leave counted once");
    ok(single.length <= RATE * seconds, `${single.length} single lines in ${seconds} s`);
    ok(single.length + summaries.length < N, "fewer lines than joins");
    for (const summary of summaries) equal(summary.level, "info");
  });
});

Deno.test("logging: a protocol violation logs at warn with the peer address", async () => {
  await withRouter({}, async (t, log) => {
    await using raw = await rawWamp(t.url);
    await raw.send([MessageType.HELLO, "realm1", { roles: { caller: {} } }]);
    equal((await raw.next("WELCOME"))?.[0], MessageType.WELCOME);
    await raw.send([MessageType.CALL, 7, {}, "com.example.x"]); // request ID out of sequence
    equal((await raw.next("ABORT"))?.[0], MessageType.ABORT);
    await until(() => log.lines().some((l) => /protocol violation/.test(l.msg)), 5000, "the line");
    const line = log.lines().find((l) => /protocol violation/.test(l.msg))!;
    equal(line.level, "warn");
    match(String(line.peer), /127\.0\.0\.1:\d+/);
    equal(line.realm, "realm1");
    equal(line.transport, "websocket");
    match(String(line.reason), /out of sequence/);
  });
});

Deno.test("logging: slow-consumer warnings come at most once per session per interval, with a count", async () => {
  const logs: [LogLevel, string, LogFields | undefined][] = [];
  const router = new Router({
    realms: [{ name: "realm1" }],
    logger: (level, message, fields) => logs.push([level, message, fields]),
  });
  const join = (roles: Record<string, object>, options = {}) => {
    const peer = new FakePeer();
    const handler = router.attach(peer, options);
    handler.receive({ type: MessageType.HELLO, realm: "realm1", details: { roles } });
    peer.take();
    return { peer, handler };
  };
  const sub = join({ subscriber: {} }, { maxBacklog: 10, slowConsumer: "drop" });
  sub.handler.receive({ type: MessageType.SUBSCRIBE, request: 1, options: {}, topic: "t" });
  sub.peer.take();
  const pub = join({ publisher: {} });
  let request = 0;
  const publish = () =>
    pub.handler.receive({ type: MessageType.PUBLISH, request: ++request, options: {}, topic: "t" });
  // Ten episodes: falls behind, drops two events, catches up.
  for (let episode = 0; episode < 10; episode++) {
    sub.peer.bytesQueued = 11;
    publish();
    publish();
    sub.peer.bytesQueued = 0;
    publish();
  }
  const warnings = logs.filter(([level, m]) => level === "warn" && /slow consumer/.test(m));
  equal(warnings.length, 1, "one warning within the interval");
  equal(warnings[0]![2]?.dropped, 1);
  equal(warnings[0]![2]?.reason, "slow consumer: dropping events");
  equal(warnings[0]![2]?.event, "slow_consumer"); // limited per kind by Router.log
  equal(
    logs.filter(([, m]) => /caught up/.test(m)).length,
    1,
    "caught up once (the logged episode)",
  );
  // After the interval, the next episode warns again, counting the drops not reported.
  const now = Date.now;
  Date.now = () => now() + DROP_LOG_INTERVAL + 1000;
  try {
    sub.peer.bytesQueued = 11;
    publish();
  } finally {
    Date.now = now;
  }
  const later = logs.filter(([level, m]) => level === "warn" && /slow consumer/.test(m));
  equal(later.length, 2);
  match(later[1]![1], /dropping events \(18 dropped since the last warning\)$/);
  equal(later[1]![2]?.dropped, 21);
  await router.close(undefined, 0);
});

Deno.test("logging: the client logs a failing event handler through its injected logger", async () => {
  await withRouter({}, async (t) => {
    const lines: [LogLevel, string, LogFields | undefined][] = [];
    const logger: Logger = (level, message, fields) => lines.push([level, message, fields]);
    const session = await connect(t.url, { realm: "realm1", logger });
    try {
      await session.subscribe("com.example.t", () => {
        throw new Error("handler broke");
      });
      await session.subscribe("com.example.t", () => Promise.reject(new Error("async broke")));
      await session.publish("com.example.t", {}, { acknowledge: true, exclude_me: false });
      await until(() => lines.length === 2, 5000, "two lines");
    } finally {
      await session.close();
    }
    for (const [level, message, fields] of lines) {
      equal(level, "error");
      match(message, /^The event handler of com\.example\.t failed: Error: (async|handler) broke$/);
      match(String(fields?.reason), /^(async|handler) broke$/);
    }
  });
});

Deno.test("logging: client code writes through its logger, never console.error", async () => {
  const files: string[] = [];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(new URL(dir, import.meta.url))) {
      if (entry.isDirectory) await walk(`${dir}${entry.name}/`);
      else if (entry.name.endsWith(".ts")) files.push(`${dir}${entry.name}`);
    }
  };
  await walk("../../client/");
  ok(files.length > 10, files.join());
  for (const file of files) {
    const text = await Deno.readTextFile(new URL(file, import.meta.url));
    ok(!/console\.(error|log|info|debug)\(/.test(text), `${file} writes to the console`);
  }
});
