/**
 * The long-poll relay (`transports/longpoll/relay.ts`), in one process over
 * real sockets: two "workers" (a long-poll service each, with its relay on
 * a Unix socket in a private directory) in front of one router, and a front port that
 * hands requests to the workers in turn, as `SO_REUSEPORT` may. Our
 * client's long-poll link joins, calls and subscribes through it, and the
 * relays' counts prove the requests crossed.
 */

import { deepEqual, equal, match, ok } from "node:assert/strict";
import { Router } from "../../../router/mod.ts";
import { Session } from "../../../client/session.ts";
import type { Event } from "../../../client/subscription.ts";
import { type LongPollOptions, LongPollService } from "../../../transports/longpoll/server.ts";
import { connectLongPoll } from "../../../transports/longpoll/client.ts";
import { LongPollRelay, ownerOf } from "../../../transports/longpoll/relay.ts";
import { until, within } from "../../_helpers/router.ts";

const SECRET = "s3cret-s3cret-s3cret";

/** Two workers' long-poll services and relays, and front ports onto them. */
interface Bed extends AsyncDisposable {
  router: Router;
  dir: string;
  relays: LongPollRelay[];
  services: LongPollService[];
  /** Base URLs: alternating between the workers per request, then worker 1 only, worker 2 only. */
  mixed: string;
  one: string;
  two: string;
}

async function startBed(options: LongPollOptions = {}): Promise<Bed> {
  const router = new Router({ realms: [{ name: "realm1" }], logger: () => {} });
  const dir = await Deno.makeTempDir();
  const sockets = [`${dir}/relay-1.sock`, `${dir}/relay-2.sock`];
  const relays = [1, 2].map((worker) => new LongPollRelay({ worker, sockets, secret: SECRET }));
  const services = relays.map((via) =>
    new LongPollService(router, { ...options, relay: { via, name: "0" } })
  );
  let turn = 0;
  let opens = 0;
  const serve = (pick: (path: string) => LongPollService) =>
    Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      (req) => pick(new URL(req.url).pathname).handle(req),
    );
  const servers = [
    // Transports are opened on each worker in turn, and every other request goes to either.
    serve((path) => services[(path.endsWith("/open") ? opens++ : turn++) % 2]!),
    serve(() => services[0]!),
    serve(() => services[1]!),
  ];
  const [mixed, one, two] = servers.map((s) => `http://127.0.0.1:${s.addr.port}/lp`);
  return {
    router,
    dir,
    relays,
    services,
    mixed: mixed!,
    one: one!,
    two: two!,
    async [Symbol.asyncDispose]() {
      for (const service of services) service.close();
      await router.close();
      for (const relay of relays) await relay.close().catch(() => {});
      for (const server of servers) await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function post(
  url: string,
  body?: string,
  headers: HeadersInit = {},
  client?: Deno.HttpClient,
) {
  const init = { method: "POST", body: body ?? null, headers, ...(client ? { client } : {}) };
  const res = await within(fetch(url, init), 5000, url);
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** Opens a JSON transport by hand through `url`; returns its URL under `base`. */
async function open(url: string): Promise<string> {
  const a = await post(`${url}/open`, JSON.stringify({ protocols: ["wamp.2.json"] }));
  equal(a.status, 200, a.text);
  return JSON.parse(a.text).transport;
}

Deno.test("ownerOf() reads the worker number in front of a transport ID", () => {
  equal(ownerOf("w1-abc"), 1);
  equal(ownerOf("w256-abc_-"), 256);
  equal(ownerOf("w0-abc"), undefined);
  equal(ownerOf("abc-w2-x"), undefined);
});

Deno.test("LongPollRelay: clients join, call and subscribe with requests on either worker", async () => {
  await using bed = await startBed();
  const sessions: Session[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const link = await within(connectLongPoll(bed.mixed), 5000, "connectLongPoll");
      sessions.push(await within(Session.join(link, { realm: "realm1" }), 5000, "join"));
    }
    const [callee, caller, subscriber] = sessions as [Session, Session, Session];
    await callee.register("com.example.add", ([x, y]) => ({ args: [Number(x) + Number(y)] }));
    const events: Event[] = [];
    await subscriber.subscribe("com.example.topic", (e) => void events.push(e));
    for (let i = 0; i < 5; i++) {
      deepEqual((await within(caller.call("com.example.add", { args: [i, 1] }))).args, [i + 1]);
    }
    await caller.publish("com.example.topic", { args: ["hi"] }, { acknowledge: true });
    await until(() => events.length === 1, 5000, "the event");
    deepEqual(events[0]!.args, ["hi"]);
    const [one, two] = bed.relays.map((r) => r.counts);
    ok(one!.forwarded > 0 && two!.forwarded > 0, `both relayed: ${JSON.stringify([one, two])}`);
    // Counted once the answer is back, and once the request arrived (a held receive: only that).
    ok(one!.forwarded <= two!.served && two!.forwarded <= one!.served);
  } finally {
    for (const session of sessions) await within(session.close(), 5000, "close");
  }
});

Deno.test("LongPollRelay: a request through the other worker is answered by the owner, with Via", async () => {
  await using bed = await startBed({ pollTimeout: 60_000 });
  const id = await open(bed.one);
  equal(ownerOf(id), 1);
  const sent = await post(`${bed.two}/${id}/send`, '[1,"realm1",{"roles":{"caller":{}}}]', {
    origin: "https://app.example",
  });
  equal(sent.status, 204, sent.text);
  equal(sent.headers.get("via"), "1.1 cloverleaf-worker-2");
  equal(sent.headers.get("access-control-allow-origin"), "https://app.example");
  const welcome = await post(`${bed.two}/${id}/receive`);
  equal(welcome.status, 200);
  match(welcome.text, /^\[2,\d+,/);
  // A held receive through the relay is answered when something is queued.
  const held = post(`${bed.two}/${id}/receive`);
  await new Promise((resolve) => setTimeout(resolve, 50));
  equal((await post(`${bed.one}/${id}/send`, '[48,1,{},"wamp.session.count"]')).status, 204);
  match((await held).text, /^\[50,1,\{\},\[1\]\]$/);
  equal((await post(`${bed.two}/${id}/close`)).status, 204);
  equal(bed.services[0]!.size, 0, "closed on its owner");
});

Deno.test("LongPollRelay: the owner's body limit holds through the relay", async () => {
  await using bed = await startBed({ maxMessageSize: 100 });
  const id = await open(bed.one);
  const big = `[1,"realm1",{"x":"${"a".repeat(200)}"}]`;
  equal((await post(`${bed.two}/${id}/send`, big)).status, 413);
  const abort = await post(`${bed.two}/${id}/receive`);
  match(
    abort.text,
    /^\[3,\{"message":"Message larger than 100 bytes"\},"wamp\.error\.protocol_violation"\]/,
  );
  await until(() => bed.services[0]!.size === 0, 5000, "the transport closed on its owner");
});

Deno.test("LongPollRelay: a dead owner or an unknown worker gets 404, as an unknown transport", async () => {
  await using bed = await startBed();
  const id = await open(bed.one);
  equal((await post(`${bed.two}/w9-${id.slice(3)}/receive`)).status, 404);
  await bed.relays[0]!.close();
  const gone = await post(`${bed.two}/${id}/receive`);
  equal(gone.status, 404);
  equal(gone.text, "No such WAMP transport\n");
});

/** A client straight to a relay's Unix socket. */
function socketClient(relay: LongPollRelay): Deno.HttpClient {
  return Deno.createHttpClient({ proxy: { transport: "unix", path: relay.socket } });
}

Deno.test("LongPollRelay: the private socket refuses requests without the secret", async () => {
  await using bed = await startBed();
  const id = await open(bed.one);
  using one = socketClient(bed.relays[0]!);
  using two = socketClient(bed.relays[1]!);
  const url = `http://worker/lp/${id}/receive`;
  equal((await post(url, undefined, { "x-cloverleaf-relay-service": "0" }, one)).status, 403);
  const wrong = {
    "x-cloverleaf-relay": "x".repeat(SECRET.length),
    "x-cloverleaf-relay-service": "0",
  };
  equal((await post(url, undefined, wrong, one)).status, 403);
  equal(bed.relays[0]!.counts.refused, 2);
  // With the secret, a transport of another worker is not relayed again.
  const relayed = { "x-cloverleaf-relay": SECRET, "x-cloverleaf-relay-service": "0" };
  equal((await post(url, undefined, relayed, two)).status, 404);
  equal(bed.relays[1]!.counts.forwarded, 0);
});

Deno.test("LongPollRelay: listens on a Unix socket only, replaces a stale one, removes it on close", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const sockets = [`${dir}/relay-1.sock`, `${dir}/relay-2.sock`];
    // A predecessor's socket file (a worker killed before it could remove it).
    await Deno.writeFile(sockets[0]!, new Uint8Array());
    const relay = new LongPollRelay({ worker: 1, sockets, secret: SECRET });
    equal(relay.socket, sockets[0]);
    ok((await Deno.lstat(sockets[0]!)).isSocket, "a socket in place of the stale file");
    using client = socketClient(relay);
    equal((await post("http://worker/lp/x/receive", undefined, {}, client)).status, 403);
    await relay.close();
    await Deno.lstat(sockets[0]!).then(
      () => ok(false, "the socket file is still there"),
      (error) => ok(error instanceof Deno.errors.NotFound),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("LongPollRelay: refused requests are logged once, then counted per interval", async () => {
  const dir = await Deno.makeTempDir();
  const lines: string[] = [];
  const relay = new LongPollRelay({
    worker: 1,
    sockets: [`${dir}/relay-1.sock`],
    secret: SECRET,
    log: (level, message) => void lines.push(`${level} ${message}`),
    logInterval: 200,
  });
  try {
    using client = socketClient(relay);
    for (let i = 0; i < 5; i++) {
      equal((await post("http://worker/lp/x/receive", undefined, {}, client)).status, 403);
    }
    deepEqual(lines, ["warn Long-poll relay: request refused (403): not from a worker"]);
    await until(() => lines.length === 2, 2000, "the count line");
    equal(lines[1], "warn Long-poll relay: 4 more requests refused (403) in the last 200 ms");
    await new Promise((resolve) => setTimeout(resolve, 300));
    equal(lines.length, 2, "no line for an interval without refusals");
  } finally {
    await relay.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("LongPollRelay: only a send's body is passed on; receive and close go without theirs", async () => {
  await using bed = await startBed();
  const id = await open(bed.one);
  const seen: { op: string; bytes: number }[] = [];
  const owner = bed.services[0]!;
  // Worker 1's relay target, watched: what arrives from worker 2.
  bed.relays[0]!.add("0", {
    async serveRelayed(request: Request, closed?: AbortSignal): Promise<Response> {
      const op = new URL(request.url).pathname.split("/").pop()!;
      seen.push({ op, bytes: (await request.clone().bytes()).byteLength });
      return await owner.serveRelayed(request, closed);
    },
    admitSend: (transport, size) => owner.admitSend(transport, size),
  });
  const junk = "x".repeat(64 * 1024);
  equal((await post(`${bed.two}/${id}/send`, '[1,"realm1",{"roles":{"caller":{}}}]')).status, 204);
  equal((await post(`${bed.two}/${id}/receive`, junk)).status, 200);
  equal((await post(`${bed.two}/${id}/close`, junk)).status, 204);
  deepEqual(seen, [
    { op: "send", bytes: 36 },
    { op: "receive", bytes: 0 },
    { op: "close", bytes: 0 },
  ]);
});

Deno.test("LongPollRelay: a receive relayed to its owner whose client left is ended there, taking nothing", async () => {
  await using bed = await startBed({ pollTimeout: 2000 });
  const id = await open(bed.one);
  const left = new AbortController();
  // Held on worker 1 for a client of worker 2, who leaves.
  const held = bed.services[1]!.handle(
    new Request(`http://x/lp/${id}/receive`, { method: "POST" }),
    undefined,
    { closed: left.signal },
  );
  await new Promise((resolve) => setTimeout(resolve, 100));
  left.abort();
  await new Promise((resolve) => setTimeout(resolve, 100)); // the owner hears of it
  // The WELCOME goes to the next receive, not to the one whose client left.
  equal((await post(`${bed.one}/${id}/send`, '[1,"realm1",{"roles":{"caller":{}}}]')).status, 204);
  const next = await post(`${bed.one}/${id}/receive`);
  equal(next.status, 200);
  match(next.text, /^\[2,/);
  await held;
});

Deno.test("LongPollRelay: a send relayed to its owner whose client left before its turn is not delivered", async () => {
  await using bed = await startBed({ pollTimeout: 300 });
  const id = await open(bed.one);
  equal((await post(`${bed.one}/${id}/send`, '[1,"realm1",{"roles":{"caller":{}}}]')).status, 204);
  match((await post(`${bed.one}/${id}/receive`)).text, /^\[2,/);
  // A send on worker 1 holds the transport's turn while its body trickles in.
  const body = Promise.withResolvers<void>();
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      await body.promise;
      controller.enqueue(new TextEncoder().encode('[48,1,{},"wamp.session.count",[]]'));
      controller.close();
    },
  });
  const holding = bed.services[0]!.handle(
    new Request(`http://x/lp/${id}/send`, { method: "POST", body: stream }),
  );
  // Meanwhile a send reaches worker 2, which passes it on, and its client leaves.
  const left = new AbortController();
  const relayed = bed.services[1]!.handle(
    new Request(`http://x/lp/${id}/send`, {
      method: "POST",
      body: '[48,2,{},"wamp.session.count",[]]',
    }),
    undefined,
    { closed: left.signal },
  );
  await new Promise((resolve) => setTimeout(resolve, 100));
  left.abort();
  await relayed;
  await new Promise((resolve) => setTimeout(resolve, 100)); // the owner hears of it
  body.resolve();
  equal((await holding).status, 204);
  const results: string[] = [];
  for (let i = 0; i < 2; i++) results.push((await post(`${bed.one}/${id}/receive`)).text);
  match(results[0]!, /^\[50,1,/);
  equal(results[1], "", "the second CALL was not delivered");
});
