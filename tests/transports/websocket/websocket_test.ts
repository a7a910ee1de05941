/**
 * Our WebSocket transport over real sockets: upgradeWebSocket() behind a
 * bare node:net / node:tls server, connectWebSocket() and Session, Deno's
 * native WebSocket client and server for interop, and raw clients that
 * misbehave on purpose.
 */

import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import net from "node:net";
import tls from "node:tls";
import { Session } from "../../../client/session.ts";
import { Router } from "../../../router/mod.ts";
import { parseRequestHead, textResponse } from "../../../transports/stream/http.ts";
import {
  deflateMessage,
  inflateMessage,
  MAX_DEFLATE_BYTES,
} from "../../../transports/websocket/permessage_deflate.ts";
import { serveWebSocket } from "../../../transports/websocket/deno_serve.ts";
import {
  connectWebSocket,
  type ConnectWebSocketOptions,
} from "../../../transports/websocket/client.ts";
import {
  acceptKey,
  closePayload,
  encodeFrame,
  FrameParser,
  Opcode,
} from "../../../transports/websocket/framing.ts";
import { WebSocketPeer } from "../../../transports/websocket/link.ts";
import {
  upgradeWebSocket,
  type UpgradeWebSocketOptions,
} from "../../../transports/websocket/server.ts";
import { concat } from "../../../transports/stream/bytes.ts";
import { Wire } from "../../../transports/stream/wire.ts";
import { msgpack, type SerializerName, TransportError } from "../../../wamp/mod.ts";
import { until, within } from "../../_helpers/router.ts";
import { type TestPki, testPki } from "../../_helpers/tls.ts";

const utf8 = new TextEncoder();
const text = new TextDecoder();

/** A router behind upgradeWebSocket() on a bare node:net or node:tls server. */
interface TestServer extends AsyncDisposable {
  url: string;
  port: number;
  router: Router;
  /** Server-side wires, in connection order. */
  wires: Wire[];
  logs: string[];
}

async function startServer(
  options: UpgradeWebSocketOptions = {},
  pki?: TestPki,
): Promise<TestServer> {
  const router = new Router({ realms: [{ name: "realm1" }], logger: () => {} });
  const wires: Wire[] = [];
  const logs: string[] = [];
  const onSocket = (socket: net.Socket) => {
    const wire = new Wire(socket);
    wires.push(wire);
    let buffered: Uint8Array = new Uint8Array(0);
    wire.bind({
      data(chunk) {
        buffered = concat([buffered, chunk]);
        const parsed = parseRequestHead(buffered);
        if ("incomplete" in parsed) return;
        if ("error" in parsed) {
          wire.write(textResponse(400, parsed.error));
          return wire.end();
        }
        upgradeWebSocket(wire, parsed.head, buffered.subarray(parsed.length), router, {
          log: (level, message) => logs.push(`${level} ${message}`),
          ...options,
        });
      },
      closed() {},
    });
  };
  const server = pki === undefined
    ? net.createServer(onSocket)
    : tls.createServer({ cert: pki.cert, key: pki.key }, onSocket);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `${pki === undefined ? "ws" : "wss"}://127.0.0.1:${port}/ws`,
    port,
    router,
    wires,
    logs,
    async [Symbol.asyncDispose]() {
      await router.close();
      await until(() => wires.every((w) => w.closed), 5000, "server wires closed").catch(() => {});
      for (const w of wires) w.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Connects with our client and joins realm1; closes on dispose. */
async function join(
  url: string,
  options: ConnectWebSocketOptions = {},
): Promise<Session & AsyncDisposable> {
  const link = await connectWebSocket(url, options);
  const session = await Session.join(link, { realm: "realm1" });
  return Object.assign(session, {
    async [Symbol.asyncDispose]() {
      if (session.isOpen) await session.close();
      link.close();
    },
  });
}

interface Frame {
  opcode: number;
  payload: Uint8Array;
  compressed?: boolean;
}

/** A client that writes whatever bytes it is told and reads frames with FrameParser. */
class RawClient implements AsyncDisposable {
  head = "";
  frames: Frame[] = [];
  ended = false;
  #socket: net.Socket;
  #waiters: (() => void)[] = [];

  private constructor(socket: net.Socket) {
    this.#socket = socket;
  }

  /** Connects and sends `request` (a whole head, or the request line and headers). */
  static open(port: number, request: string, options: { deflate?: boolean } = {}) {
    return within(
      new Promise<RawClient>((resolve, reject) => {
        const socket = net.connect(port, "127.0.0.1");
        const client = new RawClient(socket);
        const parser = new FrameParser({
          message: (isText, payload, compressed) =>
            client.#push({ opcode: isText ? 1 : 2, payload: payload.slice(), compressed }),
          control: (opcode, payload) => client.#push({ opcode, payload: payload.slice() }),
          error: (code) => client.#push({ opcode: -1, payload: new Uint8Array([code]) }),
        }, { masked: false, maxMessageSize: 1 << 26, compression: options.deflate ?? true });
        let buffered: Uint8Array = new Uint8Array(0);
        socket.on("error", reject);
        socket.on("connect", () => socket.write(request));
        socket.on("data", (chunk: Uint8Array) => {
          if (client.head !== "") return parser.push(chunk);
          buffered = concat([buffered, chunk]);
          const end = text.decode(buffered).indexOf("\r\n\r\n");
          if (end < 0) return;
          client.head = text.decode(buffered.subarray(0, end));
          resolve(client);
          parser.push(buffered.subarray(end + 4));
        });
        socket.on("close", () => {
          client.ended = true;
          client.#wake();
          if (client.head === "") reject(new Error("closed before a response"));
        });
      }),
      5000,
      "raw client handshake",
    );
  }

  #push(frame: Frame): void {
    this.frames.push(frame);
    this.#wake();
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** The next frame, within 5 s. */
  async next(what = "frame"): Promise<Frame> {
    const deadline = Date.now() + 5000;
    while (this.frames.length === 0) {
      if (this.ended) throw new Error(`connection ended while waiting for ${what}`);
      if (Date.now() > deadline) throw new Error(`no ${what} within 5 s`);
      await within(new Promise<void>((resolve) => this.#waiters.push(resolve)), 5000, what);
    }
    return this.frames.shift()!;
  }

  /** The next frame that is not a ping. */
  async nextData(what = "message"): Promise<Frame> {
    for (;;) {
      const frame = await this.next(what);
      if (frame.opcode !== Opcode.PING) return frame;
    }
  }

  write(bytes: Uint8Array): void {
    this.#socket.write(bytes);
  }

  send(data: string | Uint8Array, options: { opcode?: number; compressed?: boolean } = {}): void {
    const payload = typeof data === "string" ? utf8.encode(data) : data;
    const opcode = options.opcode ?? (typeof data === "string" ? Opcode.TEXT : Opcode.BINARY);
    this.write(
      encodeFrame(opcode, payload, { mask: true, compressed: options.compressed ?? false }),
    );
  }

  /** Resolves when the server has closed the TCP connection. */
  async waitEnd(): Promise<void> {
    await until(() => this.ended, 5000, "server closing the connection");
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#socket.destroy();
    await until(() => this.ended, 5000, "raw socket closed");
  }
}

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";

/** An upgrade request head; `headers` override or (with `null`) remove the defaults. */
function upgradeRequest(
  headers: Record<string, string | null> = {},
  requestLine = "GET /ws HTTP/1.1",
): string {
  const all: Record<string, string | null> = {
    Host: "127.0.0.1",
    Upgrade: "websocket",
    Connection: "Upgrade",
    "Sec-WebSocket-Key": KEY,
    "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Protocol": "wamp.2.json",
    ...headers,
  };
  const lines = [requestLine];
  for (const [name, value] of Object.entries(all)) {
    if (value !== null) lines.push(`${name}: ${value}`);
  }
  return lines.join("\r\n") + "\r\n\r\n";
}

/** The close code of a close frame. */
function closeCode(frame: Frame): number {
  equal(frame.opcode, Opcode.CLOSE, `expected a close frame, got opcode ${frame.opcode}`);
  return (frame.payload[0]! << 8) | frame.payload[1]!;
}

const HELLO = '[1,"realm1",{"roles":{"caller":{},"publisher":{},"subscriber":{}}}]';

Deno.test("upgradeWebSocket() refuses bad upgrades with a status and a clear text", async () => {
  await using t = await startServer({ allowedOrigins: ["https://*.example.com"] });
  const cases: [string, string, RegExp][] = [
    [upgradeRequest({}, "GET /nope HTTP/1.1"), "404", /Not found: \/nope/],
    [upgradeRequest({}, "POST /ws HTTP/1.1"), "400", /method POST, not GET/],
    [upgradeRequest({}, "GET /ws HTTP/1.0"), "400", /HTTP\/1\.0, not HTTP\/1\.1/],
    [upgradeRequest({ Host: null }), "400", /no Host header/],
    [upgradeRequest({ Upgrade: "h2c" }), "400", /no Upgrade: websocket/],
    [upgradeRequest({ Connection: "keep-alive" }), "400", /no Connection: upgrade/],
    [upgradeRequest({ "Sec-WebSocket-Key": null }), "400", /no Sec-WebSocket-Key/],
    [upgradeRequest({ "Sec-WebSocket-Key": "short" }), "400", /not 16 bytes of base64/],
    [upgradeRequest({ "Sec-WebSocket-Version": "8" }), "426", /use 13/],
    [upgradeRequest({ Origin: "https://evil.example.net" }), "403", /Origin not allowed/],
    [
      upgradeRequest({ "Sec-WebSocket-Protocol": "wamp.2.bogus, chat" }),
      "400",
      /use one of wamp\.2\.json, wamp\.2\.json\.batched, wamp\.2\.msgpack, wamp\.2\.msgpack\.batched, wamp\.2\.cbor, wamp\.2\.cbor\.batched/,
    ],
    [upgradeRequest({ "Sec-WebSocket-Protocol": null }), "400", /No supported WAMP subprotocol/],
  ];
  for (const [request, status, body] of cases) {
    await using raw = await RawClient.open(t.port, request);
    match(raw.head, new RegExp(`^HTTP/1\\.1 ${status} `), request.split("\r\n")[0]);
    await raw.waitEnd();
    // The body follows the head; FrameParser saw it as garbage, so read the log instead.
    ok(t.logs.some((l) => body.test(l)), `${body} in ${t.logs.at(-1)}`);
    if (status === "426") match(raw.head, /sec-websocket-version: 13/i);
  }
});

Deno.test("upgradeWebSocket() answers 101 with the accept key, the client's first supported subprotocol, deflate and the cookie", async () => {
  await using t = await startServer({ compression: { enabled: true }, cookie: {} });
  await using raw = await RawClient.open(
    t.port,
    upgradeRequest({
      "Sec-WebSocket-Protocol": "chat, wamp.2.cbor.batched, wamp.2.json",
      "Sec-WebSocket-Extensions": "x-foo, permessage-deflate; client_max_window_bits",
      Origin: "https://anything.example.org",
      Cookie: "cbtid=AAAAAAAAAAAAAAAAAAAAAAAA",
    }),
  );
  match(raw.head, /^HTTP\/1\.1 101 Switching Protocols/);
  match(
    raw.head,
    new RegExp(`sec-websocket-accept: ${acceptKey(KEY).replace(/[+/]/g, "\\$&")}`, "i"),
  );
  equal(acceptKey(KEY), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  match(raw.head, /sec-websocket-protocol: wamp\.2\.cbor\.batched\r?$/im);
  match(
    raw.head,
    /sec-websocket-extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover/i,
  );
  // An unknown cookie is replaced by a fresh one.
  const cookie = /set-cookie: cbtid=([\w-]+); Max-Age=86400; Path=\/; HttpOnly; SameSite=Lax/i
    .exec(raw.head);
  ok(cookie !== null && cookie[1] !== "AAAAAAAAAAAAAAAAAAAAAAAA");

  // Without compression enabled, no extension is accepted.
  await using plain = await startServer();
  await using raw2 = await RawClient.open(
    plain.port,
    upgradeRequest({ "Sec-WebSocket-Extensions": "permessage-deflate" }),
  );
  match(raw2.head, /^HTTP\/1\.1 101/);
  ok(!/sec-websocket-extensions/i.test(raw2.head));
  ok(!/set-cookie/i.test(raw2.head));
});

const MODES = ["plain", "batched", "compressed", "tls"] as const;
const SERIALIZERS: SerializerName[] = ["json", "msgpack", "cbor"];

for (const mode of MODES) {
  for (const serializer of SERIALIZERS) {
    Deno.test(`WAMP over our WebSocket: call and publish (${serializer}, ${mode})`, async () => {
      const pki = mode === "tls" ? await testPki() : undefined;
      const compressed = mode === "compressed";
      await using t = await startServer(
        { compression: { enabled: compressed }, pingInterval: 0 },
        pki,
      );
      const options: ConnectWebSocketOptions = {
        serializers: [serializer],
        batched: mode === "batched",
        compression: compressed,
        ...(pki === undefined ? {} : { tls: { caCerts: [pki.ca] } }),
      };
      const link = await connectWebSocket(t.url, options);
      ok(link instanceof WebSocketPeer);
      equal(link.info.serializer, serializer);
      equal(link.subprotocol, `wamp.2.${serializer}${mode === "batched" ? ".batched" : ""}`);
      equal(link.compression, compressed);
      if (mode === "tls") match(link.info.tls?.protocol ?? "", /^TLSv1\.[23]$/);
      await using callee = Object.assign(await Session.join(link, { realm: "realm1" }), {
        async [Symbol.asyncDispose]() {
          await callee.close();
        },
      });
      await using caller = await join(t.url, options);
      await callee.register("com.example.echo", (args, kwargs) => ({ args, kwargs }));
      const events: unknown[] = [];
      await callee.subscribe("com.example.topic", (event) => void events.push(event.args));

      const result = await caller.call("com.example.echo", {
        args: [1, "two"],
        kwargs: { k: [3] },
      });
      deepEqual(result.args, [1, "two"]);
      deepEqual(result.kwargs, { k: [3] });
      await caller.publish("com.example.topic", { args: ["a"] }, { acknowledge: true });
      await caller.publish("com.example.topic", { args: ["b"] }, { acknowledge: true });
      await until(() => events.length === 2, 5000, "events");
      deepEqual(events, [["a"], ["b"]]);

      // A large payload, in one message each way.
      const big = "compressible text ".repeat(4000); // 72,000 bytes
      const wire = t.wires.at(-1)!; // the caller's connection
      const [read, written] = [wire.bytesRead, wire.bytesWritten];
      deepEqual((await caller.call("com.example.echo", { args: [big] })).args, [big]);
      const [inbound, outbound] = [wire.bytesRead - read, wire.bytesWritten - written];
      if (compressed) {
        // RSV1 was used both ways: far fewer bytes than the payload crossed the wire.
        ok(inbound < 10_000, `client to server: ${inbound} bytes`);
        ok(outbound < 10_000, `server to client: ${outbound} bytes`);
      } else if (mode !== "tls") {
        ok(inbound > big.length && outbound > big.length);
      }
    });
  }
}

Deno.test("a compressed and an uncompressed client on the same server get the same events", async () => {
  await using t = await startServer({ compression: { enabled: true, threshold: 64 } });
  await using zipped = await join(t.url, { compression: true, serializers: ["msgpack"] });
  await using plain = await join(t.url, { serializers: ["msgpack"] });
  await using json = await join(t.url, { compression: true, serializers: ["json"] });
  const got: Record<string, unknown[]> = { zipped: [], plain: [], json: [] };
  for (const [name, session] of [["zipped", zipped], ["plain", plain], ["json", json]] as const) {
    await session.subscribe("com.example.news", (event) => void got[name]!.push(event.args[0]));
  }
  await using publisher = await join(t.url, { serializers: ["cbor"] });
  const payloads = ["small", "large ".repeat(1000), "x", "again ".repeat(200)];
  for (const p of payloads) {
    await publisher.publish("com.example.news", { args: [p] }, { acknowledge: true });
  }
  await until(() => Object.values(got).every((g) => g.length === payloads.length), 5000, "events");
  deepEqual(got, { zipped: payloads, plain: payloads, json: payloads });
});

Deno.test("Deno's native WebSocket client works against upgradeWebSocket()", async () => {
  await using t = await startServer({ compression: { enabled: true } });
  for (const protocol of ["wamp.2.json", "wamp.2.msgpack"]) {
    const ws = new WebSocket(t.url, [protocol]);
    ws.binaryType = "arraybuffer";
    const messages: unknown[] = [];
    const closed = new Promise<CloseEvent>((resolve) => ws.onclose = resolve);
    ws.onmessage = (e) =>
      messages.push(
        typeof e.data === "string" ? JSON.parse(e.data) : msgpack.decode(new Uint8Array(e.data)),
      );
    await within(
      new Promise((resolve, reject) => {
        ws.onopen = resolve;
        ws.onerror = reject;
      }),
      5000,
      "native open",
    );
    equal(ws.protocol, protocol);
    const hello = [1, "realm1", { roles: { caller: {} } }];
    if (protocol === "wamp.2.json") ws.send(JSON.stringify(hello));
    else ws.send(msgpack.encode({ type: 1, realm: "realm1", details: { roles: { caller: {} } } }));
    await until(() => messages.length === 1, 5000, "WELCOME");
    const welcome = messages[0] as unknown[] | { type: number };
    equal(Array.isArray(welcome) ? welcome[0] : welcome.type, 2);
    ws.close(1000);
    const event = await within(closed, 5000, "native close");
    equal(event.code, 1000);
    ok(event.wasClean);
  }
});

Deno.test("connectWebSocket() works against Deno.serve + Deno.upgradeWebSocket", async () => {
  const router = new Router({ realms: [{ name: "realm1" }], logger: () => {} });
  const listener = serveWebSocket(router, { port: 0 });
  try {
    for (const serializer of SERIALIZERS) {
      // Batched and deflate are offered; the native server takes neither.
      const link = await connectWebSocket(listener.url, {
        serializers: [serializer],
        batched: true,
        compression: true,
      });
      ok(link instanceof WebSocketPeer);
      equal(link.subprotocol, `wamp.2.${serializer}`);
      equal(link.compression, false);
      const session = await Session.join(link, { realm: "realm1" });
      await session.register("com.example.echo", (args) => ({ args }));
      deepEqual((await session.call("com.example.echo", { args: ["hi", 2] })).args, ["hi", 2]);
      await session.close();
      link.close();
    }
  } finally {
    await router.close();
    await listener.close();
  }
});

/**
 * A server that answers every request with `response` (the accept key
 * filled in), then closes (`end`) or ignores everything after.
 */
async function fakeServer(
  response: (key: string) => string,
  end = true,
): Promise<net.Server & AsyncDisposable> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    let head = "";
    let answered = false;
    socket.on("data", (chunk: Uint8Array) => {
      if (answered) return; // then reads and ignores everything
      head += text.decode(chunk);
      if (!head.includes("\r\n\r\n")) return;
      answered = true;
      const key = /sec-websocket-key: (\S+)/i.exec(head)?.[1] ?? "";
      if (end) socket.end(response(acceptKey(key)));
      else socket.write(response(acceptKey(key)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return Object.assign(server, {
    async [Symbol.asyncDispose]() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  });
}

Deno.test("connectWebSocket() refuses a bad handshake with TransportError", async () => {
  const ok101 = (accept: string, extra = "") =>
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${extra}\r\n`;
  const cases: [string, (accept: string) => string, RegExp, ConnectWebSocketOptions?][] = [
    [
      "403",
      () => "HTTP/1.1 403 Forbidden\r\nContent-Length: 19\r\n\r\nOrigin not allowed\n",
      /HTTP 403 Forbidden: Origin not allowed/,
    ],
    [
      "accept",
      () => ok101("AAAA", "Sec-WebSocket-Protocol: wamp.2.json\r\n"),
      /wrong Sec-WebSocket-Accept/,
    ],
    ["no protocol", (a) => ok101(a), /server chose no subprotocol/],
    [
      "unoffered",
      (a) => ok101(a, "Sec-WebSocket-Protocol: wamp.2.cbor\r\n"),
      /chose subprotocol "wamp.2.cbor"/,
    ],
    [
      "batched not offered",
      (a) => ok101(a, "Sec-WebSocket-Protocol: wamp.2.json.batched\r\n"),
      /chose subprotocol "wamp.2.json.batched"/,
    ],
    [
      "extension not offered",
      (a) =>
        ok101(
          a,
          "Sec-WebSocket-Protocol: wamp.2.json\r\nSec-WebSocket-Extensions: permessage-deflate\r\n",
        ),
      /extensions "permessage-deflate" we did not offer/,
    ],
    [
      "context takeover",
      (a) =>
        ok101(
          a,
          "Sec-WebSocket-Protocol: wamp.2.json\r\nSec-WebSocket-Extensions: permessage-deflate\r\n",
        ),
      /without server_no_context_takeover/,
      { compression: true },
    ],
    ["not http", () => "SSH-2.0-OpenSSH\r\n\r\n", /malformed status line/],
  ];
  for (const [name, response, message, options] of cases) {
    await using server = await fakeServer(response);
    const { port } = server.address() as net.AddressInfo;
    await rejects(
      connectWebSocket(`ws://127.0.0.1:${port}/ws`, { serializers: ["json"], ...options }),
      (error) => error instanceof TransportError && message.test(error.message),
      name,
    );
  }
  await rejects(connectWebSocket("http://127.0.0.1:1/"), TransportError);
  await rejects(connectWebSocket("ws://127.0.0.1:1/", { headers: { Upgrade: "x" } }), TypeError);
});

Deno.test("a message over maxMessageSize closes with 1009 and the router keeps serving others", async () => {
  await using t = await startServer({ maxMessageSize: 1000, pingInterval: 0 });
  await using healthy = await join(t.url);
  await healthy.register("com.example.echo", (args) => ({ args }));

  // Refused from the frame header: nothing of the payload is sent.
  {
    await using raw = await RawClient.open(t.port, upgradeRequest());
    raw.write(new Uint8Array([0x81, 0xfe, 0x27, 0x10, 1, 2, 3, 4])); // 10,000 bytes announced
    equal(closeCode(await raw.next("close")), 1009);
    await raw.waitEnd();
  }
  // Our client sending a large call: its session ends; the other goes on.
  {
    await using big = await join(t.url);
    await rejects(big.call("com.example.echo", { args: ["x".repeat(2000)] }));
    await within(big.closed, 5000, "session end");
  }
  deepEqual((await healthy.call("com.example.echo", { args: ["still here"] })).args, [
    "still here",
  ]);
});

Deno.test("protocol errors close with 1002, 1007 or 1009; undecodable WAMP gets ABORT", async () => {
  await using t = await startServer({
    maxMessageSize: 100_000,
    compression: { enabled: true },
    pingInterval: 0,
  });
  const deflate = { threshold: 0, level: 9, windowBits: 15 };
  const cases: [string, (raw: RawClient) => void, number, string?][] = [
    [
      "bad UTF-8",
      (raw) => raw.send(new Uint8Array([0x5b, 0xff, 0x5d]), { opcode: Opcode.TEXT }),
      1007,
    ],
    ["unmasked frame", (raw) => raw.write(encodeFrame(Opcode.TEXT, utf8.encode(HELLO))), 1002],
    ["reserved opcode", (raw) => raw.send(new Uint8Array(1), { opcode: 3 }), 1002],
    ["bad close code", (raw) => raw.send(closePayload(1005), { opcode: Opcode.CLOSE }), 1002],
    [
      "bad deflate data",
      (raw) => raw.send(new Uint8Array([0xff, 0xff, 0xff]), { compressed: true }),
      1007,
    ],
    ["empty batch", (raw) => raw.send(""), 1002, "wamp.2.json.batched"],
    ["no separator", (raw) => raw.send(HELLO), 1002, "wamp.2.json.batched"],
    ["text on msgpack.batched", (raw) => raw.send("x"), 1003, "wamp.2.msgpack.batched"],
  ];
  for (const [name, act, code, protocol] of cases) {
    await using raw = await RawClient.open(
      t.port,
      upgradeRequest({
        "Sec-WebSocket-Protocol": protocol ?? "wamp.2.json",
        "Sec-WebSocket-Extensions": "permessage-deflate",
      }),
    );
    act(raw);
    equal(closeCode(await raw.nextData(`close for ${name}`)), code, name);
    await raw.waitEnd();
  }
  // Not WAMP: the router answers ABORT, then closes normally.
  await using raw = await RawClient.open(t.port, upgradeRequest());
  raw.send("[1, not json");
  const abort = JSON.parse(text.decode((await raw.nextData("ABORT")).payload));
  deepEqual([abort[0], abort[2]], [3, "wamp.error.protocol_violation"]);
  const close = await raw.nextData("close");
  equal(closeCode(close), 1000);
  raw.send(closePayload(1000), { opcode: Opcode.CLOSE });
  await raw.waitEnd();
  // A zip bomb before HELLO: inflating stops at 64 KiB (the pre-join limit), ABORT.
  await using bomber = await RawClient.open(
    t.port,
    upgradeRequest({ "Sec-WebSocket-Extensions": "permessage-deflate" }),
  );
  bomber.send(deflateMessage(new Uint8Array(5_000_000), deflate), { compressed: true });
  const refused = JSON.parse(text.decode((await bomber.nextData("ABORT")).payload));
  deepEqual([refused[0], refused[2]], [3, "wamp.error.protocol_violation"]);
  match(refused[1].message, /before the session joined: \d+ bytes, more inflated/);
});

Deno.test("raw clients: fragments, ping/pong, compressed input, batches and the close handshake", async () => {
  await using t = await startServer({ compression: { enabled: true }, pingInterval: 0 });
  {
    await using raw = await RawClient.open(t.port, upgradeRequest());
    // HELLO in three fragments with a ping between them.
    const hello = utf8.encode(HELLO);
    raw.write(encodeFrame(Opcode.TEXT, hello.subarray(0, 5), { mask: true, fin: false }));
    raw.write(encodeFrame(Opcode.PING, utf8.encode("are you there"), { mask: true }));
    raw.write(encodeFrame(Opcode.CONTINUATION, hello.subarray(5, 20), { mask: true, fin: false }));
    raw.write(encodeFrame(Opcode.CONTINUATION, hello.subarray(20), { mask: true }));
    const pong = await raw.next("pong");
    deepEqual([pong.opcode, text.decode(pong.payload)], [Opcode.PONG, "are you there"]);
    const welcome = await raw.next("WELCOME");
    equal(welcome.opcode, Opcode.TEXT);
    equal(JSON.parse(text.decode(welcome.payload))[0], 2);
    // The close handshake: our close is echoed, then the server ends the stream.
    raw.send(closePayload(1000, "bye"), { opcode: Opcode.CLOSE });
    equal(closeCode(await raw.next("close echo")), 1000);
    await raw.waitEnd();
  }
  {
    // A compressed HELLO on a deflate connection.
    await using raw = await RawClient.open(
      t.port,
      upgradeRequest({ "Sec-WebSocket-Extensions": "permessage-deflate" }),
    );
    const packed = deflateMessage(utf8.encode(HELLO), { threshold: 0, level: 6, windowBits: 15 });
    raw.send(packed, { opcode: Opcode.TEXT, compressed: true });
    const welcome = await raw.next("WELCOME");
    ok(welcome.compressed, "a WELCOME over 256 bytes comes compressed");
    equal(JSON.parse(text.decode(inflateMessage(welcome.payload, 1 << 20)))[0], 2);
  }
  {
    // Batched JSON: HELLO and WELCOME in the batch format; three PUBLISHes in one batch.
    await using subscriber = await RawClient.open(
      t.port,
      upgradeRequest({ "Sec-WebSocket-Protocol": "wamp.2.json.batched" }),
    );
    match(subscriber.head, /sec-websocket-protocol: wamp\.2\.json\.batched/i);
    subscriber.send(`${HELLO}\u001e`);
    const welcome = text.decode((await subscriber.next("WELCOME")).payload);
    ok(welcome.endsWith("\u001e"));
    equal(JSON.parse(welcome.slice(0, -1))[0], 2);
    subscriber.send('[32,1,{},"com.example.t"]\u001e');
    equal(
      JSON.parse(text.decode((await subscriber.next("SUBSCRIBED")).payload).slice(0, -1))[0],
      33,
    );
    await using publisher = await join(t.url, { batched: true, serializers: ["msgpack"] });
    for (const n of [1, 2, 3]) void publisher.publish("com.example.t", { args: [n] });
    const events: number[] = [];
    let batches = 0;
    while (events.length < 3) {
      const batch = text.decode((await subscriber.next("EVENT batch")).payload).split("\u001e");
      batches++;
      equal(batch.pop(), "");
      for (const m of batch) events.push(JSON.parse(m)[4][0]);
    }
    deepEqual(events, [1, 2, 3]);
    // The three PUBLISHes left in one batch, were routed in one turn, and
    // their EVENTs came back in one batch.
    equal(batches, 1);
  }
});

Deno.test("keepalive: a peer that never answers pings is closed with 1001; peers that answer stay", async () => {
  await using t = await startServer({ pingInterval: 50, pingTimeout: 250 });
  {
    await using raw = await RawClient.open(t.port, upgradeRequest());
    equal((await raw.next("ping")).opcode, Opcode.PING);
    equal(closeCode(await raw.next("close")), 1001);
    await raw.waitEnd();
    ok(t.logs.some((l) => /no answer to ping in 250 ms/.test(l)));
  }
  const pause = async (ms: number) => {
    const start = Date.now();
    while (Date.now() - start < ms) await new Promise((resolve) => setTimeout(resolve, 25));
  };
  // Our client answers the server's pings: its session outlives several timeouts.
  await using quiet = await join(t.url);
  await quiet.register("com.example.echo", (args) => ({ args }));
  await pause(700);
  ok(quiet.isOpen);
  deepEqual((await quiet.call("com.example.echo", { args: [1] })).args, [1]);
  // Our client pinging a server that never pings: the server's pongs keep it open.
  await using silent = await startServer({ pingInterval: 0 });
  await using pinging = await join(silent.url, { pingInterval: 30, pingTimeout: 250 });
  await pinging.register("com.example.echo", (args) => ({ args }));
  await pause(400);
  ok(pinging.isOpen);
  deepEqual((await pinging.call("com.example.echo", { args: [2] })).args, [2]);
  // Our client pinging a server that never answers: the link closes.
  await using mute = await fakeServer(
    (accept) =>
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: wamp.2.json\r\n\r\n`,
    false,
  );
  const { port } = mute.address() as net.AddressInfo;
  const link = await connectWebSocket(`ws://127.0.0.1:${port}/`, {
    pingInterval: 30,
    pingTimeout: 100,
  });
  let closed = false;
  link.bind({ receive() {}, fail() {}, closed: () => closed = true });
  await until(() => closed, 5000, "link closed for want of a pong");
});

Deno.test("a large EVENT to batched subscribers goes as one frame shared by them, small ones in batches", async () => {
  for (const compressed of [false, true]) {
    await using t = await startServer({ compression: { enabled: compressed }, pingInterval: 0 });
    const options = { serializers: ["msgpack" as const], batched: true, compression: compressed };
    const subscribers = [await join(t.url, options), await join(t.url, options)];
    await using publisher = await join(t.url, { serializers: ["json"] });
    const seen: number[][] = [[], []];
    for (const [i, s] of subscribers.entries()) {
      await s.subscribe("com.example.big", (e) => void seen[i]!.push(String(e.args[0]).length));
    }
    const written: Uint8Array[] = [];
    for (const wire of t.wires.slice(0, 2)) {
      const write = wire.write.bind(wire);
      wire.write = (
        bytes,
        messages,
      ) => (bytes.length > 100_000 && written.push(bytes), write(bytes, messages));
    }
    // Incompressible, so that its compressed frame is large too.
    const big = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(60_000)))).repeat(
      3,
    );
    await publisher.publish("com.example.big", { args: ["small"] }, { acknowledge: true });
    await publisher.publish("com.example.big", { args: [big] }, { acknowledge: true });
    await publisher.publish("com.example.big", { args: ["small"] }, { acknowledge: true });
    await until(() => seen.every((s) => s.length === 3), 5000, "the EVENTs");
    deepEqual(seen, [[5, big.length, 5], [5, big.length, 5]]);
    equal(written.length, 2, `${compressed}: one large frame per subscriber`);
    ok(written[0] === written[1], `${compressed}: the same frame`);
    equal((written[0]![0]! & 0x40) !== 0, compressed, "RSV1: compressed or not");
    for (const s of subscribers) await s[Symbol.asyncDispose]();
  }
});

Deno.test("permessage-deflate: a message over MAX_DEFLATE_BYTES goes uncompressed, one under it compressed", async () => {
  await using t = await startServer({ compression: { enabled: true }, pingInterval: 0 });
  await using subscriber = await join(t.url, { serializers: ["json"], compression: true });
  await using publisher = await join(t.url, { serializers: ["json"] });
  const sizes: number[] = [];
  await subscriber.subscribe("com.example.t", (e) => void sizes.push(String(e.args[0]).length));
  const frames: Uint8Array[] = [];
  const wire = t.wires[0]!;
  const write = wire.write.bind(wire);
  wire.write = (bytes, messages) => (frames.push(bytes), write(bytes, messages));
  // Base64 of random bytes: compressible (4 to 3), not past the inflate ratio a peer allows.
  const random = new Uint8Array(MAX_DEFLATE_BYTES);
  for (let i = 0; i < random.length; i += 65536) {
    crypto.getRandomValues(random.subarray(i, i + 65536));
  }
  let text = "";
  for (let i = 0; i < random.length; i += 30_000) {
    text += btoa(String.fromCharCode(...random.subarray(i, i + 30_000)));
  }
  for (const n of [MAX_DEFLATE_BYTES - 1000, MAX_DEFLATE_BYTES + 1000]) {
    await publisher.publish("com.example.t", { args: [text.slice(0, n)] }, { acknowledge: true });
  }
  await until(() => sizes.length === 2, 5000, "the EVENTs");
  deepEqual(sizes, [MAX_DEFLATE_BYTES - 1000, MAX_DEFLATE_BYTES + 1000]);
  const rsv1 = frames.filter((f) => f.length > 1000 || (f[0]! & 0x40) !== 0).map((f) =>
    (f[0]! & 0x40) !== 0
  );
  deepEqual(rsv1, [true, false]);
});

Deno.test("batched and compressed: a message to compress goes alone, compressed once for all; batches go uncompressed", async () => {
  await using t = await startServer({ compression: { enabled: true }, pingInterval: 0 });
  const options = { serializers: ["json" as const], batched: true, compression: true };
  const subscribers = [await join(t.url, options), await join(t.url, options)];
  await using publisher = await join(t.url, { serializers: ["json"] });
  const seen: string[][] = [[], []];
  for (const [i, s] of subscribers.entries()) {
    await s.subscribe("com.example.z", (e) => void seen[i]!.push(String(e.args[0])));
  }
  const written: Uint8Array[][] = [[], []];
  for (const [i, wire] of t.wires.slice(0, 2).entries()) {
    const write = wire.write.bind(wire);
    wire.write = (bytes, messages) => (written[i]!.push(bytes), write(bytes, messages));
  }
  const mid = "compress me ".repeat(200); // 2.4 KB: over the threshold, far under 64 KiB
  await publisher.publish("com.example.z", { args: [mid] }, { acknowledge: true });
  await publisher.publish("com.example.z", { args: ["tiny"] }, { acknowledge: true });
  await until(() => seen.every((s) => s.length === 2), 5000, "the EVENTs");
  deepEqual(seen, [[mid, "tiny"], [mid, "tiny"]]);
  const [a, b] = written;
  ok(a!.length === 2 && b!.length === 2, `${a!.length} and ${b!.length} writes`);
  ok(a![0] === b![0], "one compressed frame for both");
  equal(a![0]![0]! & 0x40, 0x40, "compressed");
  equal(a![1]![0]! & 0x40, 0, "the batch of the small one is not");
  for (const s of subscribers) await s[Symbol.asyncDispose]();
});
