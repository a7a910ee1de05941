/**
 * RawSocket over real sockets (`transports/rawsocket/server.ts`,
 * `transports/rawsocket/client.ts`): a real router behind a
 * `node:net`/`node:tls` server on 127.0.0.1:0 or a Unix socket, our client,
 * raw byte-level clients and fake routers for what a well-behaved peer
 * never does.
 *
 * @module
 */

import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import net from "node:net";
import tls from "node:tls";
import { ApplicationError, SessionClosedError } from "../../../client/errors.ts";
import { Session } from "../../../client/session.ts";
import { Router } from "../../../router/mod.ts";
import {
  acceptRawSocket,
  type AcceptRawSocketOptions,
  rawSocketHandler,
} from "../../../transports/rawsocket/server.ts";
import { connectRawSocket, parseRawSocketUrl } from "../../../transports/rawsocket/client.ts";
import { encodeFrame, FrameType } from "../../../transports/rawsocket/framing.ts";
import { Wire } from "../../../transports/stream/wire.ts";
import {
  ErrorUri,
  type PeerHandler,
  type SerializerName,
  TransportError,
  type WampMessage,
} from "../../../wamp/mod.ts";
import { until, within } from "../../_helpers/router.ts";

const SERIALIZERS: readonly SerializerName[] = ["json", "msgpack", "cbor"];
const hex = (s: string) => Uint8Array.fromHex(s);
const text = new TextEncoder();

// ---- a router behind a RawSocket server ---------------------------------

interface ServerOptions {
  rawsocket?: AcceptRawSocketOptions;
  /** Listen on this Unix socket path instead of 127.0.0.1:0. */
  path?: string;
  /** Serve TLS with this certificate. */
  tls?: { cert: string; key: string };
  /** Use acceptRawSocket directly, the way a sniffing listener does. */
  manual?: boolean;
}

/** A router with realm1 behind a RawSocket-only server. */
class TestServer implements AsyncDisposable {
  readonly router: Router;
  readonly logs: string[] = [];
  readonly server: net.Server;
  readonly sockets = new Set<net.Socket>();
  url = "";
  port = 0;

  constructor(options: ServerOptions) {
    this.router = new Router({
      realms: [{ name: "realm1" }],
      logger: (level, message) => this.logs.push(`${level} ${message}`),
    });
    const rs: AcceptRawSocketOptions = {
      ...options.rawsocket,
      log: (level, message) => this.logs.push(`${level} ${message}`),
    };
    const onSocket = options.manual
      ? (socket: net.Socket) => {
        const wire = new Wire(socket);
        wire.bind({ data: (chunk) => acceptRawSocket(wire, chunk, this.router, rs), closed() {} });
      }
      : rawSocketHandler(this.router, rs);
    this.server = options.tls === undefined
      ? net.createServer(onSocket)
      : tls.createServer({ cert: options.tls.cert, key: options.tls.key }, onSocket);
    this.server.on("connection", (s: net.Socket) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
  }

  static async start(options: ServerOptions = {}): Promise<TestServer> {
    const t = new TestServer(options);
    await new Promise<void>((resolve) => {
      if (options.path !== undefined) t.server.listen(options.path, resolve);
      else t.server.listen(0, "127.0.0.1", resolve);
    });
    if (options.path !== undefined) {
      t.url = `unix://${options.path}`;
    } else {
      t.port = (t.server.address() as net.AddressInfo).port;
      t.url = `${options.tls ? "tcps" : "tcp"}://127.0.0.1:${t.port}`;
    }
    return t;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await within(this.router.close(), 5000, "router.close()");
    for (const s of this.sockets) s.destroy();
    await within(new Promise((resolve) => this.server.close(resolve)), 5000, "server.close()");
  }
}

async function join(
  url: string,
  serializer: SerializerName = "json",
  options: Parameters<typeof connectRawSocket>[1] = {},
): Promise<Session> {
  const link = await within(connectRawSocket(url, { serializers: [serializer], ...options }));
  return await within(Session.join(link, { realm: "realm1", timeout: 5000 }));
}

// ---- a byte-level client and a fake router --------------------------------

/** A plain socket with a read buffer: reads exactly n bytes, boundedly. */
class RawClient {
  readonly socket: net.Socket;
  readonly ended: Promise<void>;
  #buffer = new Uint8Array(0);
  #wake: (() => void) | undefined;

  constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on("data", (chunk: Uint8Array) => {
      const next = new Uint8Array(this.#buffer.length + chunk.length);
      next.set(this.#buffer);
      next.set(chunk, this.#buffer.length);
      this.#buffer = next;
      this.#wake?.();
    });
    socket.on("error", () => {});
    this.ended = new Promise((resolve) => socket.on("close", () => resolve()));
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = net.connect({ host: "127.0.0.1", port });
    await within(new Promise((resolve) => socket.once("connect", resolve)));
    return new RawClient(socket);
  }

  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  async read(n: number): Promise<Uint8Array> {
    await within(
      new Promise<void>((resolve) => {
        const check = () => {
          if (this.#buffer.length >= n) resolve();
        };
        this.#wake = check;
        this.ended.then(check);
        check();
      }),
      5000,
      `reading ${n} bytes`,
    );
    if (this.#buffer.length < n) throw new Error(`closed after ${this.#buffer.length} of ${n}`);
    const out = this.#buffer.slice(0, n);
    this.#buffer = this.#buffer.slice(n);
    return out;
  }

  async frame(): Promise<{ type: number; payload: Uint8Array }> {
    const header = await this.read(4);
    const length = (header[1]! << 16) | (header[2]! << 8) | header[3]!;
    return { type: header[0]!, payload: await this.read(length) };
  }

  /** Waits for the server to close; true if it did, with nothing more sent. */
  async closedQuietly(): Promise<boolean> {
    await within(this.ended, 5000, "server closing the connection");
    return this.#buffer.length === 0;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A fake router: answers each connection with `script`. */
async function fakeRouter(
  script: (client: RawClient) => void | Promise<void>,
): Promise<{ url: string } & AsyncDisposable> {
  const clients: RawClient[] = [];
  const server = net.createServer((socket) => {
    const client = new RawClient(socket);
    clients.push(client);
    void Promise.resolve(script(client)).catch(() => client.close());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `tcp://127.0.0.1:${port}`,
    async [Symbol.asyncDispose]() {
      for (const c of clients) c.close();
      await within(new Promise((resolve) => server.close(resolve)));
    },
  };
}

/** A handler that records what a bare link delivers. */
function recorder(): PeerHandler & { got: WampMessage[]; closed: () => void; isClosed: boolean } {
  const r = {
    got: [] as WampMessage[],
    isClosed: false,
    receive: (msg: WampMessage) => void r.got.push(msg),
    fail: () => {},
    closed: () => void (r.isClosed = true),
  };
  return r;
}

// ---- round trips -------------------------------------------------------------

/** Call and publish between two sessions over `url`. */
async function roundTrip(url: string, serializer: SerializerName): Promise<void> {
  const a = await join(url, serializer);
  const b = await join(url, serializer);
  try {
    const bytes = new Uint8Array([0, 1, 254, 255]);
    await a.register("com.example.echo", (args, kwargs) => ({ args, kwargs }));
    const result = await within(
      b.call("com.example.echo", { args: ["héllo", 42, bytes], kwargs: { n: null } }),
    );
    deepEqual(result.args, ["héllo", 42, bytes]);
    deepEqual(result.kwargs, { n: null });
    const events: unknown[][] = [];
    await a.subscribe("com.example.topic", (e) => void events.push(e.args));
    await within(b.publish("com.example.topic", { args: [1, "two"] }, { acknowledge: true }));
    await until(() => events.length === 1);
    deepEqual(events, [[1, "two"]]);
  } finally {
    await within(b.close());
    await within(a.close());
  }
}

for (const serializer of SERIALIZERS) {
  Deno.test(`connectRawSocket() [tcp ${serializer}] call and publish round trip`, async () => {
    await using t = await TestServer.start();
    const link = await within(connectRawSocket(t.url, { serializers: [serializer] }));
    deepEqual(link.info, { type: "rawsocket", serializer, peer: t.url });
    link.close();
    await roundTrip(t.url, serializer);
  });

  Deno.test(`connectRawSocket() [unix ${serializer}] call and publish round trip`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      const path = `${dir}/wamp.sock`;
      await using t = await TestServer.start({ path });
      await roundTrip(t.url, serializer);
      await roundTrip(`unix:${path}`, serializer);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

/** A self-signed CA:FALSE leaf for 127.0.0.1, or why there is none. */
async function testCertificate(): Promise<{ cert: string; key: string } | string> {
  let dir: string | undefined;
  try {
    dir = await Deno.makeTempDir();
    const out = await new Deno.Command("openssl", {
      args: [
        ..."req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes".split(" "),
        ...["-keyout", `${dir}/key.pem`, "-out", `${dir}/cert.pem`, "-days", "2"],
        ...["-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        ...["-addext", "basicConstraints=critical,CA:FALSE"],
        ...["-addext", "extendedKeyUsage=serverAuth"],
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!out.success) return `openssl failed: ${new TextDecoder().decode(out.stderr).trim()}`;
    return {
      cert: await Deno.readTextFile(`${dir}/cert.pem`),
      key: await Deno.readTextFile(`${dir}/key.pem`),
    };
  } catch (error) {
    return `no openssl (${(error as Error).message})`;
  } finally {
    if (dir !== undefined) await Deno.remove(dir, { recursive: true });
  }
}

const certificate = await testCertificate();
Deno.test({
  name: "connectRawSocket() [tcps json] call and publish round trip, with TLS details",
  async fn() {
    if (typeof certificate === "string") throw new Error(`missing: ${certificate}`);
    await using t = await TestServer.start({ tls: certificate });
    const tlsOptions = { caCerts: [certificate.cert] };
    const link = await within(connectRawSocket(t.url, { tls: tlsOptions }));
    equal(link.info.type, "rawsocket");
    match(link.info.tls?.protocol ?? "", /^TLSv1\.[23]$/);
    link.close();
    const a = await join(t.url, "cbor", { tls: tlsOptions });
    const b = await join(t.url, "json", { tls: tlsOptions });
    await a.register("com.example.add", (args) => ({ args: [(args[0] as number) + 1] }));
    deepEqual((await within(b.call("com.example.add", { args: [41] }))).args, [42]);
    await b.close();
    await a.close();
    // A client that does not trust the certificate cannot connect.
    await rejects(connectRawSocket(t.url), TransportError);
  },
});

// ---- the handshake, byte by byte ---------------------------------------------

Deno.test("acceptRawSocket() answers handshakes byte-exactly", async (t) => {
  const cases: [string, ServerOptions, string, string][] = [
    ["json, 16 MiB → accepted with our 16 MiB", {}, "7ff10000", "7ff10000"],
    ["cbor, 512 B → accepted with our 16 MiB", {}, "7f030000", "7ff30000"],
    [
      "msgpack, maxMessageSize 1e6 → 512 KiB announced",
      {
        rawsocket: { maxMessageSize: 1_000_000 },
      },
      "7ff20000",
      "7fa20000",
    ],
    ["serializer 0 → error 1", {}, "7ff00000", "7f100000"],
    ["serializer 7 → error 1", {}, "7ff70000", "7f100000"],
    [
      "json when only cbor is offered → error 1",
      {
        rawsocket: { serializers: ["cbor"] },
      },
      "7ff10000",
      "7f100000",
    ],
    ["reserved octet 3 → error 3", {}, "7ff10001", "7f300000"],
    ["reserved octet 2 → error 3", {}, "7ff18000", "7f300000"],
  ];
  for (const [name, options, request, reply] of cases) {
    await t.step(name, async () => {
      await using server = await TestServer.start(options);
      const c = await RawClient.connect(server.port);
      c.write(hex(request));
      deepEqual(await c.read(4), hex(reply));
      if (reply.slice(3, 4) === "0") ok(await c.closedQuietly(), "closed after the error");
      c.close();
    });
  }
  await t.step("full → error 4, through acceptRawSocket({ full: true })", async () => {
    await using server = await TestServer.start({ manual: true, rawsocket: { full: true } });
    const c = await RawClient.connect(server.port);
    c.write(hex("7ff10000"));
    deepEqual(await c.read(4), hex("7f400000"));
    ok(await c.closedQuietly());
    await rejects(
      connectRawSocket(server.url),
      (e: Error) =>
        e instanceof TransportError &&
        /router refused: maximum connection count reached/.test(e.message),
    );
  });
  await t.step("a handshake sent one byte at a time", async () => {
    await using server = await TestServer.start({ manual: true });
    const c = await RawClient.connect(server.port);
    for (const byte of hex("7f310000")) {
      c.write(new Uint8Array([byte]));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    deepEqual(await c.read(4), hex("7ff10000"));
    c.close();
  });
  await t.step("a first byte other than 0x7F closes without a reply", async () => {
    await using server = await TestServer.start();
    const c = await RawClient.connect(server.port);
    c.write(text.encode("GET / HTTP/1.1\r\n\r\n"));
    ok(await c.closedQuietly());
  });
  await t.step("no handshake within handshakeTimeout closes", async () => {
    await using server = await TestServer.start({ rawsocket: { handshakeTimeout: 50 } });
    const c = await RawClient.connect(server.port);
    c.write(hex("7f")); // started, never finished
    ok(await c.closedQuietly());
    ok(server.logs.some((l) => /no handshake in 50 ms/.test(l)), server.logs.join("\n"));
  });
});

// ---- after the handshake ------------------------------------------------------

/** A raw client that has completed a json handshake. */
async function handshaken(server: TestServer, request = "7ff10000"): Promise<RawClient> {
  const c = await RawClient.connect(server.port);
  c.write(hex(request));
  equal((await c.read(4))[0], 0x7f);
  return c;
}

Deno.test("RawSocketConnection answers a PING at once with a PONG echoing its payload", async () => {
  await using server = await TestServer.start();
  const c = await handshaken(server);
  for (const payload of [text.encode("hello"), hex("00ff7f80"), new Uint8Array()]) {
    c.write(encodeFrame(FrameType.PING, payload));
    deepEqual(await c.frame(), { type: FrameType.PONG, payload });
  }
  c.close();
});

Deno.test("RawSocketConnection closes a peer whose PING asks for a PONG past the backlog limit", async () => {
  await using server = await TestServer.start();
  const c = await handshaken(server);
  // The limit is `maxBacklog` (1 MiB here): a PING past it is not echoed, whoever reads, since
  // the PONG would sit whole in the router's memory for a peer that does not.
  c.write(encodeFrame(FrameType.PING, new Uint8Array(64 * 1024)));
  deepEqual((await c.frame()).payload.length, 64 * 1024);
  c.write(encodeFrame(FrameType.PING, new Uint8Array(2 * 1024 * 1024)));
  await within(c.ended, 5000, "the connection closed");
});

Deno.test("RawSocketConnection PINGs a silent peer and closes it when nothing answers", async () => {
  await using server = await TestServer.start({
    rawsocket: { pingInterval: 20, pingTimeout: 50 },
  });
  const c = await handshaken(server);
  const ping = await c.frame();
  equal(ping.type, FrameType.PING);
  ok(ping.payload.length > 0);
  await within(c.ended, 5000, "closing a silent peer");
  ok(server.logs.some((l) => /no answer to PING in 50 ms/.test(l)), server.logs.join("\n"));
});

Deno.test("connectRawSocket() PINGs when pingInterval is set and closes when PONGs stop", async () => {
  let pings = 0;
  await using fake = await fakeRouter(async (c) => {
    await c.read(4);
    c.write(hex("7ff10000"));
    while (true) {
      const frame = await c.frame();
      if (frame.type !== FrameType.PING) continue;
      pings++;
      if (pings <= 2) c.write(encodeFrame(FrameType.PONG, frame.payload)); // then silence
    }
  });
  const link = await within(connectRawSocket(fake.url, { pingInterval: 10, pingTimeout: 30 }));
  const r = recorder();
  link.bind(r);
  await until(() => r.isClosed, 5000, "the link closing");
  ok(pings >= 3, `${pings} PINGs`);
});

Deno.test("a frame over the router's limit closes the connection; the router serves on", async () => {
  await using server = await TestServer.start({ rawsocket: { maxMessageSize: 1024 } });
  const c = await RawClient.connect(server.port);
  c.write(hex("7ff10000"));
  deepEqual(await c.read(4), hex("7f110000")); // 2^(9+1) = 1024
  // The header alone announces 1025 octets: closed before any payload is sent.
  c.write(hex("00000401"));
  ok(await c.closedQuietly());
  ok(
    server.logs.some((l) => /1025 octets is over the limit of 1024/.test(l)),
    server.logs.join("\n"),
  );
  // So does the largest header there is, and a reserved frame type.
  for (const header of ["00ffffff", "08000000", "03000001"]) {
    const d = await handshaken(server);
    d.write(hex(header));
    ok(await d.closedQuietly(), header);
  }
  await roundTrip(server.url, "json");
});

Deno.test("an undecodable message is a protocol violation: ABORT, then close", async (t) => {
  const cases: [string, Uint8Array][] = [
    ["bad JSON", text.encode("[1, ")],
    ["bad UTF-8", hex("5b31ff5d")],
  ];
  for (const [name, payload] of cases) {
    await t.step(name, async () => {
      await using server = await TestServer.start();
      const c = await handshaken(server);
      c.write(encodeFrame(FrameType.MESSAGE, payload));
      const frame = await c.frame();
      equal(frame.type, FrameType.MESSAGE);
      const abort = JSON.parse(new TextDecoder().decode(frame.payload));
      deepEqual([abort[0], abort[2]], [3, ErrorUri.PROTOCOL_VIOLATION]);
      await within(c.ended, 5000, "close after ABORT");
      ok(server.logs.some((l) => /protocol violation/.test(l)), server.logs.join("\n"));
    });
  }
});

// ---- the client against fake routers -----------------------------------------

Deno.test("connectRawSocket() refuses a router that echoes another serializer", async () => {
  await using fake = await fakeRouter(async (c) => {
    await c.read(4);
    c.write(hex("7ff20000")); // msgpack, for a json request
  });
  await rejects(
    connectRawSocket(fake.url, { serializers: ["json"] }),
    (e: Error) =>
      e instanceof TransportError &&
      /router answered with serializer 2, not 1 \(json\)/.test(e.message),
  );
});

Deno.test("connectRawSocket() says why the router refused or failed the handshake", async (t) => {
  const cases: [string, (c: RawClient) => void, RegExp][] = [
    ["error 1", (c) => c.write(hex("7f100000")), /router refused: serializer unsupported/],
    ["error 2", (c) => c.write(hex("7f200000")), /router refused: maximum message length/],
    ["error 3", (c) => c.write(hex("7f300000")), /router refused: use of reserved bits/],
    ["error 4", (c) => c.write(hex("7f400000")), /router refused: maximum connection count/],
    ["error 9", (c) => c.write(hex("7f900000")), /router refused: error 9/],
    ["bad magic", (c) => c.write(hex("00f10000")), /bad handshake reply: .*first octet is 0x00/],
    ["reserved", (c) => c.write(hex("7ff10100")), /bad handshake reply: .*reserved octets/],
    ["close", (c) => c.close(), /connection closed during the handshake/],
  ];
  for (const [name, answer, message] of cases) {
    await t.step(name, async () => {
      await using fake = await fakeRouter(async (c) => {
        await c.read(4);
        answer(c);
      });
      await rejects(
        connectRawSocket(fake.url),
        (e: Error) => e instanceof TransportError && message.test(e.message),
      );
    });
  }
  await t.step("silence → handshakeTimeout", async () => {
    await using fake = await fakeRouter(() => {});
    await rejects(
      connectRawSocket(fake.url, { handshakeTimeout: 30 }),
      /no handshake reply in 30 ms/,
    );
  });
  await t.step("abort", async () => {
    await using fake = await fakeRouter(() => {});
    const controller = new AbortController();
    const pending = connectRawSocket(fake.url, { signal: controller.signal });
    setTimeout(() => controller.abort(), 10);
    await rejects(pending, /aborted/);
  });
});

Deno.test("connectRawSocket() announces its maxMessageSize and keeps messages until bind()", async () => {
  let request: Uint8Array = new Uint8Array();
  await using fake = await fakeRouter(async (c) => {
    request = await c.read(4);
    // The reply and a first message in one write, before the client binds.
    const welcome = text.encode('[2,7,{"roles":{"broker":{}}}]');
    const frame = encodeFrame(FrameType.MESSAGE, welcome);
    const both = new Uint8Array(4 + frame.length);
    both.set(hex("7ff10000"));
    both.set(frame, 4);
    c.write(both);
    c.write(encodeFrame(FrameType.MESSAGE, text.encode('[6,{},"wamp.close.normal"]')));
  });
  const link = await within(connectRawSocket(fake.url, { maxMessageSize: 4096 }));
  deepEqual(request, hex("7f310000")); // 2^(9+3) = 4096, json
  await new Promise((resolve) => setTimeout(resolve, 30));
  const r = recorder();
  link.bind(r);
  await until(() => r.got.length === 2);
  deepEqual(r.got.map((m) => m.type), [2, 6]);
  link.close();
});

// ---- message size limits on the way out ------------------------------------

Deno.test("connectRawSocket() never sends more than the router announced", async (t) => {
  await using server = await TestServer.start({ rawsocket: { maxMessageSize: 1024 } });
  const big = "x".repeat(2000);
  const callee = await join(server.url, "cbor");
  const events: unknown[] = [];
  await callee.subscribe("com.example.topic", (e) => void events.push(e.args[0]));
  await callee.register("com.example.big", () => ({ args: [big] }));

  await t.step("a YIELD too large becomes ERROR payload_size_exceeded for the caller", async () => {
    const caller = await join(server.url, "msgpack");
    await rejects(
      caller.call("com.example.big"),
      (e) =>
        e instanceof ApplicationError && e.uri === ErrorUri.PAYLOAD_SIZE_EXCEEDED &&
        /YIELD of \d+ bytes is over the router's limit/.test(String(e.args[0])),
    );
    ok(caller.isOpen && callee.isOpen);
    await caller.close();
  });

  // A CALL or PUBLISH carries a request ID the router expects in sequence:
  // it cannot be skipped, so the session ends with payload_size_exceeded.
  const cases: [string, (s: Session) => Promise<unknown>][] = [
    [
      "an acknowledged PUBLISH",
      (s) => s.publish("com.example.topic", { args: [big] }, { acknowledge: true }),
    ],
    ["a CALL", (s) => s.call("com.example.echo", { args: [big] })],
  ];
  for (const [name, send] of cases) {
    await t.step(`${name} too large ends the session, saying why`, async () => {
      const s = await join(server.url, "json");
      await rejects(
        send(s),
        (e) =>
          e instanceof SessionClosedError && e.reason === ErrorUri.PAYLOAD_SIZE_EXCEEDED &&
          /(PUBLISH|CALL) of \d+ bytes is over the router's limit/.test(e.message),
      );
      equal((await within(s.closed)).reason, ErrorUri.PAYLOAD_SIZE_EXCEEDED);
    });
  }
  await t.step("an unacknowledged PUBLISH too large is not sent and ends the session", async () => {
    const s = await join(server.url, "json");
    equal(await s.publish("com.example.topic", { args: [big] }), undefined);
    equal((await within(s.closed)).reason, ErrorUri.PAYLOAD_SIZE_EXCEEDED);
  });

  // Nothing oversized ever reached the router, and it serves on.
  const s = await join(server.url, "json");
  await s.publish("com.example.topic", { args: ["small"] }, { acknowledge: true });
  await until(() => events.length === 1);
  deepEqual(events, ["small"]);
  ok(!server.logs.some((l) => /over the limit|protocol violation/.test(l)), server.logs.join("\n"));
  await s.close();
  await callee.close();
});

Deno.test("the router never sends more than a connection announced: the EVENT is dropped, the session stays", async () => {
  await using server = await TestServer.start();
  const small = await join(server.url, "json", { maxMessageSize: 2048 });
  const publisher = await join(server.url, "msgpack");
  const got: unknown[] = [];
  await small.subscribe("com.example.topic", (e) => void got.push(e.args[0]));
  await publisher.publish("com.example.topic", { args: ["x".repeat(4000)] }, {
    acknowledge: true,
  });
  ok(
    server.logs.some((l) => /^warn .*EVENT of \d+ bytes is over the peer's limit of 2048/.test(l)),
    server.logs.join("\n"),
  );
  // The router, the publisher and the small session carry on.
  await publisher.publish("com.example.topic", { args: ["y"] }, { acknowledge: true });
  await until(() => got.length === 1);
  deepEqual(got, ["y"]);
  await publisher.close();
  await small.close();
});

Deno.test("a router that is closing refuses the session after the handshake", async () => {
  await using server = await TestServer.start();
  await server.router.close();
  const link = await within(connectRawSocket(server.url));
  await rejects(Session.join(link, { realm: "realm1", timeout: 5000 }), SessionClosedError);
});

// ---- URLs ---------------------------------------------------------------------

Deno.test("parseRawSocketUrl() reads tcp, tcps and both unix forms", () => {
  deepEqual(parseRawSocketUrl("tcp://127.0.0.1:8080"), {
    address: { host: "127.0.0.1", port: 8080 },
    tls: false,
  });
  deepEqual(parseRawSocketUrl("tcps://example.com:443"), {
    address: { host: "example.com", port: 443 },
    tls: true,
  });
  deepEqual(parseRawSocketUrl("tcp://[::1]:9000"), {
    address: { host: "::1", port: 9000 },
    tls: false,
  });
  deepEqual(parseRawSocketUrl("unix:///tmp/a%20b.sock"), {
    address: { path: "/tmp/a b.sock" },
    tls: false,
  });
  deepEqual(parseRawSocketUrl("unix:/tmp/x.sock"), {
    address: { path: "/tmp/x.sock" },
    tls: false,
  });
  for (const bad of ["ws://127.0.0.1:8080", "tcp://127.0.0.1", "unix:relative.sock", "nonsense"]) {
    let error: unknown;
    try {
      parseRawSocketUrl(bad);
    } catch (e) {
      error = e;
    }
    ok(error instanceof TransportError, bad);
  }
});

Deno.test("connectRawSocket() rejects an unsupported URL and a refused connection", async () => {
  await rejects(connectRawSocket("ws://127.0.0.1:1/ws"), /unsupported scheme "ws:"/);
  // A port nobody listens on: take a free one and close it.
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  await rejects(connectRawSocket(`tcp://127.0.0.1:${port}`), TransportError);
});
