/**
 * The HTTP long-poll transport: our client against a real router behind
 * `Deno.serve` on port 0, and raw HTTP against the service.
 */

import { deepEqual, equal, match, ok } from "node:assert/strict";
import { Router } from "../../../router/mod.ts";
import { Session } from "../../../client/session.ts";
import type { Event } from "../../../client/subscription.ts";
import { type LongPollOptions, LongPollService } from "../../../transports/longpoll/server.ts";
import {
  connectLongPoll,
  type ConnectLongPollOptions,
} from "../../../transports/longpoll/client.ts";
import {
  type AttachOptions,
  type Link,
  MessageType,
  type SerializerName,
  serializers,
  TransportError,
} from "../../../wamp/mod.ts";
import { tcpPeer } from "../../../transports/stream/wire.ts";
import { until, within } from "../../_helpers/router.ts";

/** A router behind a long-poll service on a real port. */
interface Bed extends AsyncDisposable {
  router: Router;
  service: LongPollService;
  /** The service's base URL. */
  url: string;
  /** Router log lines. */
  logs: string[];
  /** The protocol each `open` negotiated. */
  protocols: string[];
}

function startBed(
  options: LongPollOptions = {},
  { attach = {}, tls }: { attach?: AttachOptions; tls?: { cert: string; key: string } } = {},
): Bed {
  const logs: string[] = [];
  const router = new Router({
    realms: [{ name: "realm1" }],
    logger: (level, message) => logs.push(`${level} ${message}`),
  });
  const service = new LongPollService(router, { ...options, attach });
  const protocols: string[] = [];
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {}, ...tls },
    async (req, info) => {
      const res = await service.handle(
        req,
        tcpPeer(info.remoteAddr.hostname, info.remoteAddr.port),
      );
      if (req.url.includes("/open") && res.status === 200) {
        protocols.push((await res.clone().json()).protocol);
      }
      return res;
    },
  );
  return {
    router,
    service,
    url: `${tls ? "https" : "http"}://127.0.0.1:${server.addr.port}${options.path ?? "/lp"}`,
    logs,
    protocols,
    async [Symbol.asyncDispose]() {
      service.close();
      await router.close();
      await server.shutdown();
    },
  };
}

/** A joined session whose link can be waited for. */
interface Joined extends AsyncDisposable {
  session: Session;
  /** Resolves when the link has reported its closure (all requests settled). */
  linkClosed: Promise<void>;
}

/** Opens a long-poll link, wrapped to tell when it is gone, and joins realm1. */
async function join(url: string, options: ConnectLongPollOptions = {}): Promise<Joined> {
  const link = await within(connectLongPoll(url, options), 5000, "connectLongPoll");
  let done!: () => void;
  const linkClosed = new Promise<void>((resolve) => done = resolve);
  const wrapped: Link = {
    info: link.info,
    send: (msg) => link.send(msg),
    backlog: () => link.backlog(),
    queued: () => link.queued(),
    close: () => link.close(),
    bind: (handler) =>
      link.bind({
        receive: (msg) => handler.receive(msg),
        fail: (error) => handler.fail(error),
        closed: () => {
          handler.closed();
          done();
        },
      }),
  };
  const session = await within(Session.join(wrapped, { realm: "realm1" }), 5000, "join");
  return {
    session,
    linkClosed,
    async [Symbol.asyncDispose]() {
      await within(session.close(), 5000, "session.close()");
      await within(linkClosed, 5000, "link closure");
    },
  };
}

/** A raw HTTP answer, body read. */
interface Answer {
  status: number;
  headers: Headers;
  body: Uint8Array;
}

async function post(url: string, body?: BodyInit, headers: HeadersInit = {}): Promise<Answer> {
  const res = await within(fetch(url, { method: "POST", body: body ?? null, headers }), 5000, url);
  return { status: res.status, headers: res.headers, body: await res.bytes() };
}

const text = (a: Answer) => new TextDecoder().decode(a.body);

/** Opens a transport by hand. */
async function open(url: string, protocol = "wamp.2.json"): Promise<string> {
  const a = await post(`${url}/open?x=${Math.random()}`, JSON.stringify({ protocols: [protocol] }));
  equal(a.status, 200, text(a));
  const opened = JSON.parse(text(a));
  equal(opened.protocol, protocol);
  return opened.transport;
}

/** Opens a raw JSON transport and joins realm1; returns its URL. */
async function rawJoin(url: string): Promise<string> {
  const transport = `${url}/${await open(url)}`;
  equal((await post(`${transport}/send`, '[1,"realm1",{"roles":{"subscriber":{}}}]')).status, 204);
  const welcome = await post(`${transport}/receive`);
  match(text(welcome), /^\[2,/);
  return transport;
}

const SERIALIZERS: SerializerName[] = ["json", "msgpack", "cbor"];

for (const serializer of SERIALIZERS) {
  for (const batched of [true, false]) {
    const protocol = `wamp.2.${serializer}${batched ? ".batched" : ""}`;
    Deno.test(`connectLongPoll() [${protocol}] call and publish/subscribe`, async () => {
      await using bed = startBed();
      await using a = await join(bed.url, { serializers: [serializer], batched });
      await using b = await join(bed.url, { serializers: [serializer], batched });
      deepEqual(bed.protocols, [protocol, protocol]);
      equal(a.session.details.authrole, "anonymous");
      await a.session.register("com.example.add", ([x, y]) => ({ args: [Number(x) + Number(y)] }));
      const events: Event[] = [];
      await a.session.subscribe("com.example.topic", (e) => void events.push(e));
      const result = await within(
        b.session.call("com.example.add", { args: [2, 3] }),
        5000,
        "call",
      );
      deepEqual(result.args, [5]);
      const bytes = new Uint8Array([0, 1, 2, 255]);
      await b.session.publish("com.example.topic", { args: ["hi", bytes], kwargs: { n: 1 } }, {
        acknowledge: true,
      });
      await until(() => events.length === 1, 5000, "event");
      deepEqual(events[0]!.args, ["hi", bytes]);
      deepEqual(events[0]!.kwargs, { n: 1 });
      const info = await b.session.call("wamp.session.get", { args: [a.session.id] });
      const transport = (info.args[0] as { transport: Record<string, unknown> }).transport;
      equal(transport.type, "longpoll");
      equal(transport.serializer, serializer);
      match(String(transport.peer), /^tcp4:127\.0\.0\.1:\d+$/);
    });
  }
}

for (const [serializer, batched] of [["json", true], ["cbor", false]] as const) {
  Deno.test(`connectLongPoll() [${serializer}${batched ? " batched" : ""}] keeps the order of 500 publishes`, async () => {
    await using bed = startBed();
    await using sub = await join(bed.url, { serializers: [serializer], batched });
    await using pub = await join(bed.url, { serializers: [serializer], batched });
    const seen: number[] = [];
    await sub.session.subscribe("com.example.burst", (e) => void seen.push(e.args[0] as number));
    for (let i = 0; i < 499; i++) pub.session.publish("com.example.burst", { args: [i] });
    await pub.session.publish("com.example.burst", { args: [499] }, { acknowledge: true });
    await until(() => seen.length === 500, 10_000, "500 events");
    deepEqual(seen, Array.from({ length: 500 }, (_, i) => i));
  });
}

Deno.test("LongPollService answers a held receive as soon as an event arrives", async () => {
  await using bed = startBed({ pollTimeout: 60_000 });
  const transport = await rawJoin(bed.url);
  equal((await post(`${transport}/send`, '[32,1,{},"com.example.now"]')).status, 204);
  match(text(await post(`${transport}/receive`)), /^\[33,1,\d+\]$/);
  let answered: Answer | undefined;
  const held = post(`${transport}/receive`).then((a) => answered = a);
  await new Promise((resolve) => setTimeout(resolve, 100));
  equal(answered, undefined, "the receive is held while nothing is queued");
  await using pub = await join(bed.url);
  await pub.session.publish("com.example.now", { args: ["now"] });
  await within(held, 5000, "held receive");
  equal(answered!.status, 200);
  equal(answered!.headers.get("content-type"), "application/json; charset=utf-8");
  match(text(answered!), /^\[36,\d+,\d+,\{\},\["now"\]\]$/);
  equal((await post(`${transport}/close`)).status, 204);
});

Deno.test("LongPollService answers an idle receive with 204 after pollTimeout", async () => {
  await using bed = startBed({ pollTimeout: 50 });
  const transport = await rawJoin(bed.url);
  const idle = await post(`${transport}/receive`);
  equal(idle.status, 204);
  equal(idle.body.byteLength, 0);
  equal((await post(`${transport}/close`)).status, 204);
});

Deno.test("LongPollService ends a held receive with 204 when a newer one arrives", async () => {
  await using bed = startBed({ pollTimeout: 60_000 });
  const transport = await rawJoin(bed.url);
  // Whichever reaches the server first is ended by the other.
  const receives = [post(`${transport}/receive`), post(`${transport}/receive`)];
  const ended = await within(Promise.race(receives), 5000, "the older receive");
  equal(ended.status, 204);
  equal((await post(`${transport}/close`)).status, 204);
  const statuses = (await within(Promise.all(receives), 5000, "both")).map((a) => a.status);
  deepEqual(statuses.sort(), [204, 404]);
  await until(() => bed.router.connectionCount === 0, 5000, "session gone");
});

Deno.test("LongPollService closes a transport that stops polling after sessionTimeout", async () => {
  await using bed = startBed({ pollTimeout: 50, sessionTimeout: 500 });
  await using healthy = await join(bed.url);
  await rawJoin(bed.url); // then never polls again
  equal(bed.router.connectionCount, 2);
  await until(() => bed.router.connectionCount === 1, 5000, "idle session closed");
  equal(bed.service.size, 1);
  // The client that keeps polling (held receives count as activity) stays.
  await new Promise((resolve) => setTimeout(resolve, 700));
  ok(healthy.session.isOpen);
  equal(bed.router.connectionCount, 1);
});

Deno.test("LongPollService counts a transport's queue for the slow-consumer policy", async () => {
  await using bed = startBed({}, { attach: { maxBacklogMessages: 10 } });
  const transport = await rawJoin(bed.url);
  equal((await post(`${transport}/send`, '[32,1,{},"com.example.slow"]')).status, 204);
  match(text(await post(`${transport}/receive`)), /^\[33,/);
  await using pub = await join(bed.url);
  for (let i = 0; i < 20; i++) pub.session.publish("com.example.slow", { args: [i] });
  await pub.session.publish("com.example.slow", {}, { acknowledge: true });
  ok(bed.logs.some((l) => /slow consumer/.test(l)), bed.logs.join("\n"));
  // Unbatched: one EVENT per receive; 5 were queued (EVENTs take half the limit), the rest dropped.
  const got: string[] = [];
  for (let i = 0; i < 5; i++) got.push(text(await post(`${transport}/receive`)));
  deepEqual(got.map((t) => JSON.parse(t)[4]), [[0], [1], [2], [3], [4]]);
  equal((await post(`${transport}/close`)).status, 204);
});

Deno.test("LongPollService batched receive returns everything queued as one batch", async () => {
  await using bed = startBed();
  const url = `${bed.url}/${await open(bed.url, "wamp.2.msgpack.batched")}`;
  const hello = serializers.msgpack.encode({
    type: MessageType.HELLO,
    realm: "realm1",
    details: { roles: { subscriber: {} } },
  }) as Uint8Array;
  const subscribe = serializers.msgpack.encode({
    type: MessageType.SUBSCRIBE,
    request: 1,
    options: {},
    topic: "com.example.t",
  }) as Uint8Array;
  const batch = new Uint8Array(8 + hello.byteLength + subscribe.byteLength);
  const view = new DataView(batch.buffer);
  view.setUint32(0, hello.byteLength);
  batch.set(hello, 4);
  view.setUint32(4 + hello.byteLength, subscribe.byteLength);
  batch.set(subscribe, 8 + hello.byteLength);
  equal((await post(`${url}/send`, batch)).status, 204);
  const answer = await post(`${url}/receive`);
  equal(answer.headers.get("content-type"), "application/octet-stream");
  const types: number[] = [];
  for (let at = 0; at < answer.body.byteLength;) {
    const length = new DataView(answer.body.buffer, at).getUint32(0);
    types.push(serializers.msgpack.decode(answer.body.subarray(at + 4, at + 4 + length)).type);
    at += 4 + length;
  }
  deepEqual(types, [MessageType.WELCOME, MessageType.SUBSCRIBED]);
  equal((await post(`${url}/close`)).status, 204);
});

Deno.test("LongPollService batched receive stops a batch at maxMessageSize bytes, one message at least", async () => {
  await using bed = startBed({ maxMessageSize: 4096 });
  const url = `${bed.url}/${await open(bed.url, "wamp.2.json.batched")}`;
  const rs = "\x1e";
  const joining = `[1,"realm1",{"roles":{"subscriber":{}}}]${rs}[32,1,{},"com.example.t"]${rs}`;
  equal((await post(`${url}/send`, joining)).status, 204);
  const joined = text(await post(`${url}/receive`)).split(rs);
  deepEqual(joined.map((m) => m === "" ? "" : JSON.parse(m)[0]), [2, 33, ""]);
  await using pub = await join(bed.url);
  // Five EVENTs of about 1,530 bytes each: two fit in 4,096 bytes, three do not.
  for (let i = 0; i < 5; i++) {
    await pub.session.publish("com.example.t", { args: ["x".repeat(1500), i] }, {
      acknowledge: true,
    });
  }
  const batches: number[][] = [];
  while (batches.flat().length < 5) {
    const answer = await post(`${url}/receive`);
    ok(answer.body.byteLength <= 4096, `a batch of ${answer.body.byteLength} bytes`);
    batches.push(text(answer).split(rs).slice(0, -1).map((m) => JSON.parse(m)[4][1]));
  }
  deepEqual(batches, [[0, 1], [2, 3], [4]]);
  equal((await post(`${url}/close`)).status, 204);
});

Deno.test("LongPollService answers 400 when no supported protocol is offered", async () => {
  await using bed = startBed({ batched: false, serializers: ["json", "cbor"] });
  const none = await post(
    `${bed.url}/open`,
    '{"protocols":["wamp.2.bogus","wamp.2.json.batched"]}',
  );
  equal(none.status, 400);
  match(text(none), /wamp\.2\.json, wamp\.2\.cbor/);
  equal((await post(`${bed.url}/open`, "not json")).status, 400);
  equal((await post(`${bed.url}/open`, '{"protocols":"wamp.2.json"}')).status, 400);
  equal(bed.service.size, 0);
  const picked = await post(`${bed.url}/open`, '{"protocols":["wamp.2.msgpack","wamp.2.cbor"]}');
  equal(JSON.parse(text(picked)).protocol, "wamp.2.cbor");
});

Deno.test("LongPollService answers 404 for an unknown transport and a closed one", async () => {
  await using bed = startBed();
  for (const op of ["send", "receive", "close"]) {
    equal((await post(`${bed.url}/nosuchtransport/${op}`, "[]")).status, 404);
  }
  equal((await post(`${bed.url}/nosuchtransport/other`)).status, 404);
  const transport = await rawJoin(bed.url);
  equal((await post(`${transport}/close`)).status, 204);
  equal((await post(`${transport}/receive`)).status, 404);
  equal((await post(`${transport}/send`, '[6,{},"wamp.close.normal"]')).status, 404);
  await until(() => bed.router.connectionCount === 0, 5000, "session gone");
});

Deno.test("LongPollService transport IDs are long, random and distinct", async () => {
  await using bed = startBed();
  const ids = new Set<string>();
  for (let i = 0; i < 5; i++) ids.add(await open(bed.url));
  equal(ids.size, 5);
  for (const id of ids) match(id, /^[A-Za-z0-9_-]{32}$/);
});

Deno.test("LongPollService answers 413 to an oversize body and fails the session", async () => {
  await using bed = startBed({ maxMessageSize: 1024 });
  const transport = await rawJoin(bed.url);
  const big = `[16,1,{},"com.example.big",["${"x".repeat(2000)}"]]`;
  equal((await post(`${transport}/send`, big)).status, 413);
  match(
    text(await post(`${transport}/receive`)),
    /^\[3,\{"message":".*"\},"wamp\.error\.protocol_violation"\]$/,
  );
  equal((await post(`${transport}/receive`)).status, 404);
  equal((await post(`${bed.url}/open`, `{"protocols":["${"x".repeat(70_000)}"]}`)).status, 413);
});

Deno.test("LongPollService: an undecodable send gets 400, then ABORT on the next receive", async () => {
  await using bed = startBed();
  const transport = await rawJoin(bed.url);
  equal((await post(`${transport}/send`, "not json")).status, 400);
  match(text(await post(`${transport}/receive`)), /^\[3,.*"wamp\.error\.protocol_violation"\]$/);
  equal((await post(`${transport}/receive`)).status, 404);
  await until(() => bed.router.connectionCount === 0, 5000, "session gone");
});

Deno.test("LongPollService answers CORS preflights and echoes the Origin", async () => {
  await using bed = startBed();
  const res = await fetch(`${bed.url}/open`, {
    method: "OPTIONS",
    headers: {
      origin: "https://app.example.com",
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type",
    },
  });
  await res.body?.cancel();
  equal(res.status, 204);
  equal(res.headers.get("access-control-allow-origin"), "https://app.example.com");
  equal(res.headers.get("access-control-allow-credentials"), "true");
  match(res.headers.get("access-control-allow-methods") ?? "", /POST/);
  equal(res.headers.get("access-control-allow-headers"), "content-type");
  const opened = await post(`${bed.url}/open`, '{"protocols":["wamp.2.json"]}', {
    origin: "https://app.example.com",
  });
  equal(opened.headers.get("access-control-allow-origin"), "https://app.example.com");
  match(opened.headers.get("cache-control") ?? "", /no-store/);
  const anonymous = await post(`${bed.url}/nosuch/receive`);
  equal(anonymous.headers.get("access-control-allow-origin"), "*");
});

Deno.test("LongPollService routes only its own paths and methods", async () => {
  await using bed = startBed({ maxTransports: 1 });
  ok(bed.service.handles("/lp"));
  ok(bed.service.handles("/lp/open"));
  ok(!bed.service.handles("/lpx/open"));
  ok(!bed.service.handles("/"));
  const notice = await fetch(bed.url);
  equal(notice.status, 200);
  match(await notice.text(), /long-poll/);
  const put = await fetch(`${bed.url}/open`, { method: "PUT", body: "{}" });
  await put.body?.cancel();
  equal(put.status, 405);
  await open(bed.url);
  equal((await post(`${bed.url}/open`, '{"protocols":["wamp.2.json"]}')).status, 503);
});

Deno.test("LongPollService.close() ends every transport and refuses new ones", async () => {
  await using bed = startBed();
  const j = await join(bed.url);
  equal(bed.router.connectionCount, 1);
  bed.service.close();
  await within(j.linkClosed, 5000, "link closed");
  const closed = await within(j.session.closed, 5000, "session closed");
  equal(closed.reason, "wamp.close.transport_lost");
  equal(bed.router.connectionCount, 0);
  equal((await post(`${bed.url}/open`, '{"protocols":["wamp.2.json"]}')).status, 503);
});

Deno.test("connectLongPoll() rejects with TransportError when it cannot open", async () => {
  await using bed = startBed({ serializers: ["json"] });
  const cases: [string, ConnectLongPollOptions][] = [
    [bed.url, { serializers: ["cbor"] }], // 400: not offered
    [bed.url.replace("/lp", "/elsewhere"), {}], // 404
    ["ws://127.0.0.1:1/lp", {}], // wrong scheme
  ];
  for (const [url, options] of cases) {
    const error = await connectLongPoll(url, options).then(() => undefined, (e) => e);
    ok(error instanceof TransportError, String(error));
  }
  equal(bed.protocols.length, 0);
});

Deno.test("LongPollService can sit at the root path", async () => {
  await using bed = startBed({ path: "/" });
  equal(bed.service.path, "/");
  ok(bed.service.handles("/open"));
  await using j = await join(bed.url);
  ok(j.session.isOpen);
});

/** A self-signed leaf certificate for 127.0.0.1, or why there is none. */
async function testCertificate(): Promise<{ cert: string; key: string } | string> {
  const dir = await Deno.makeTempDir();
  try {
    const out = await new Deno.Command("openssl", {
      args: [
        ..."req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2".split(" "),
        ...["-keyout", `${dir}/key.pem`, "-out", `${dir}/cert.pem`, "-subj", "/CN=localhost"],
        ...["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        ...["-addext", "basicConstraints=critical,CA:FALSE"],
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!out.success) return `openssl failed: ${new TextDecoder().decode(out.stderr).trim()}`;
    const [cert, key] = [`${dir}/cert.pem`, `${dir}/key.pem`].map((f) => Deno.readTextFileSync(f));
    return { cert: cert!, key: key! };
  } catch (error) {
    return `no openssl (${(error as Error).message})`;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const certificate = await testCertificate();
Deno.test({
  name: "connectLongPoll() over https with caCerts",
  async fn() {
    if (typeof certificate === "string") throw new Error(`missing: ${certificate}`);
    await using bed = startBed({}, { tls: certificate });
    await using a = await join(bed.url, { caCerts: [certificate.cert], serializers: ["cbor"] });
    await a.session.register("com.example.one", () => ({ args: [1] }));
    deepEqual((await a.session.call("com.example.one")).args, [1]);
    // Without the certificate, opening fails.
    const error = await connectLongPoll(bed.url).then(() => undefined, (e) => e);
    ok(error instanceof TransportError, String(error));
  },
});

/** A scripted long-poll server: one bad receive, then held until close. */
function scriptedServer(protocol: string) {
  const sends: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let closed!: () => void;
  const closing = new Promise<void>((resolve) => closed = resolve);
  let receives = 0;
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    const op = new URL(req.url).pathname.split("/").pop();
    if (op === "open") return Response.json({ protocol, transport: "t1" });
    if (op === "send") {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      sends.push(await req.text());
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      return new Response(null, { status: 204 });
    }
    if (op === "close") closed();
    if (op === "receive" && ++receives === 1) return new Response("not json");
    if (op === "receive") await closing;
    return new Response(null, { status: op === "close" ? 204 : 404 });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/lp`,
    sends,
    maxInFlight: () => maxInFlight,
    shutdown: () => server.shutdown(),
  };
}

for (const batched of [false, true]) {
  Deno.test(`connectLongPoll() [json${batched ? " batched" : ""}] posts sends one at a time, in order; a bad receive fails`, async () => {
    const script = scriptedServer(`wamp.2.json${batched ? ".batched" : ""}`);
    try {
      const link = await connectLongPoll(script.url, { serializers: ["json"], batched });
      const failures: Error[] = [];
      let done!: () => void;
      const closed = new Promise<void>((resolve) => done = resolve);
      link.bind({ receive() {}, fail: (e) => void failures.push(e), closed: done });
      for (let i = 1; i <= 3; i++) {
        link.send({ type: MessageType.PUBLISH, request: i, options: {}, topic: "a.b" });
      }
      await until(() => script.sends.join("").split("[16").length === 4, 5000, "3 sends");
      const expected = [1, 2, 3].map((i) => `[16,${i},{},"a.b"]${batched ? "\u001e" : ""}`);
      deepEqual(script.sends, batched ? [expected.join("")] : expected);
      equal(script.maxInFlight(), 1);
      await until(() => failures.length === 1, 5000, "fail() for the bad receive");
      link.close();
      await within(closed, 5000, "closed()");
    } finally {
      await script.shutdown();
    }
  });
}
