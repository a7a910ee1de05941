/**
 * Hostile peers against the socket transports (issue 15, items 3, 4c, 5
 * and the per-recipient encode failures of item 2), over real sockets:
 *
 * - a client that floods WebSocket or RawSocket PINGs and never reads: the
 *   router stops reading from it, and what it queues for it stays bounded
 *   by the listener's `outbound.maxBacklog`, while a healthy session works;
 * - a burst of 30,000 INVOCATIONs to a callee that answers at once: the
 *   callee stays connected (messages handed to the socket are bytes, and
 *   the byte limit governs);
 * - a connection left open after GOODBYE is closed after the hello
 *   timeout, and may still carry a new HELLO before that;
 * - an EVENT that cannot be encoded for one recipient is dropped for it
 *   with a log line; a RESULT that cannot be encoded closes that
 *   connection (over long-poll too), so its caller never hangs.
 */

import { equal, ok, rejects } from "node:assert/strict";
import net from "node:net";
import {
  connect,
  connectLocal,
  listen,
  type Listener,
  type ListenOptions,
  Router,
  Session,
} from "../../mod.ts";
import { linkedPeers } from "../../transports/mod.ts";
import type { Target } from "../../router/target.ts";
import type { Peer, PeerAcceptor, SerializerName, WampMessage } from "../../wamp/mod.ts";
import { MessageType, serializers } from "../../wamp/mod.ts";
import { jsonFrame, rawTcp } from "../_helpers/raw_rawsocket.ts";
import { until, within } from "../_helpers/router.ts";
import { RawSocketConnection } from "../../transports/rawsocket/link.ts";
import { WebSocketPeer } from "../../transports/websocket/link.ts";
import { Wire } from "../../transports/stream/wire.ts";
import { realmOf } from "../../router/router.ts";

const MAX_BACKLOG = 256 * 1024;

/** A router whose listener records every peer attached, to read its queue. */
interface Bed extends AsyncDisposable {
  router: Router;
  listener: Listener;
  peers: Peer[];
  logs: string[];
}

async function startBed(options: ListenOptions = {}): Promise<Bed> {
  const logs: string[] = [];
  const log = (level: string, message: string) => logs.push(`${level} ${message}`);
  const router = new Router({ realms: [{ name: "realm1" }], logger: log });
  const peers: Peer[] = [];
  const recorder: PeerAcceptor = {
    attach(peer, attach) {
      peers.push(peer);
      return router.attach(peer, attach);
    },
  };
  const listener = await listen(recorder, {
    port: 0,
    log,
    attach: { maxBacklog: MAX_BACKLOG },
    ...options,
  });
  return {
    router,
    listener,
    peers,
    logs,
    async [Symbol.asyncDispose]() {
      await router.close();
      await listener.close();
    },
  };
}

/** Writes `block` up to `total` bytes, until done or until the router stops taking them. */
async function floodUntilStalled(
  conn: Deno.Conn,
  block: Uint8Array,
  total: number,
): Promise<{ written: number; stalled: boolean }> {
  let written = 0;
  const writing = (async () => {
    try {
      while (written < total) {
        // Deno.Conn.write may take part of the block: write the rest, in order.
        let at = 0;
        while (at < block.length) {
          const n = await conn.write(block.subarray(at));
          at += n;
          written += n;
        }
      }
    } catch {
      // closed by the router (hard limit) or by the test
    }
  })();
  let last = -1;
  while (true) {
    const done = await Promise.race([
      writing.then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), 300)),
    ]);
    if (done) return { written, stalled: false };
    if (written === last) return { written, stalled: true };
    last = written;
  }
}

/** A healthy session over RawSocket calls a local callee. */
async function healthyRoundTrip(bed: Bed): Promise<void> {
  const callee = await connectLocal(bed.router, "realm1");
  await callee.register("com.example.echo", (args) => ({ args }));
  const caller = await within(
    connect(bed.listener.urls.rawsocket!, { realm: "realm1", serializers: ["cbor"] }),
  );
  const result = await within(caller.call("com.example.echo", { args: ["alive"] }));
  equal(result.args[0], "alive");
  await caller.close();
  await callee.close();
}

/** Masked (zero key) WebSocket PING frames with 125-byte payloads, 1 MiB of them. */
function webSocketPings(): Uint8Array {
  const frame = new Uint8Array(2 + 4 + 125);
  frame[0] = 0x89;
  frame[1] = 0x80 | 125;
  const count = Math.floor((1 << 20) / frame.length);
  const block = new Uint8Array(count * frame.length);
  for (let i = 0; i < count; i++) block.set(frame, i * frame.length);
  return block;
}

/** RawSocket PING frames with 1020-byte payloads, 1 MiB of them. */
function rawSocketPings(): Uint8Array {
  const frame = new Uint8Array(4 + 1020);
  frame[0] = 1; // PING
  frame[2] = 1020 >> 8;
  frame[3] = 1020 & 0xff;
  return new Uint8Array(1 << 20).map((_, i) => frame[i % frame.length]!);
}

async function openWebSocket(url: string): Promise<Deno.Conn> {
  const u = new URL(url);
  const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
  const head = [
    `GET ${u.pathname} HTTP/1.1`,
    `Host: ${u.host}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version: 13",
    "Sec-WebSocket-Protocol: wamp.2.json",
  ].join("\r\n") + "\r\n\r\n";
  await conn.write(new TextEncoder().encode(head));
  const buffer = new Uint8Array(1024);
  let seen = "";
  while (!seen.includes("\r\n\r\n")) {
    const n = await conn.read(buffer);
    if (n === null) throw new Error("closed during the upgrade");
    seen += new TextDecoder().decode(buffer.subarray(0, n));
  }
  ok(seen.startsWith("HTTP/1.1 101"), seen);
  return conn;
}

async function openRawSocket(url: string): Promise<Deno.Conn> {
  const u = new URL(url);
  const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
  await conn.write(Uint8Array.of(0x7f, 0xf1, 0, 0));
  const reply = new Uint8Array(4);
  let got = 0;
  while (got < 4) {
    const n = await conn.read(reply.subarray(got));
    if (n === null) throw new Error("closed during the handshake");
    got += n;
  }
  equal(reply[0], 0x7f);
  return conn;
}

for (const transport of ["websocket", "rawsocket"] as const) {
  Deno.test(`[${transport}] a client that floods PINGs and never reads: the router stops reading, its queue stays bounded, a healthy session works`, async () => {
    await using bed = await startBed();
    const conn = transport === "websocket"
      ? await openWebSocket(bed.listener.urls.websocket!)
      : await openRawSocket(bed.listener.urls.rawsocket!);
    const block = transport === "websocket" ? webSocketPings() : rawSocketPings();
    try {
      const flood = await within(floodUntilStalled(conn, block, 24 << 20), 15_000, "flood");
      equal(bed.peers.length, 1);
      const peer = bed.peers[0]!;
      // What the router holds for it: its limit, plus one read's worth of PONGs.
      ok(
        peer.backlog() <= 2 * MAX_BACKLOG,
        `router queue ${peer.backlog()} bytes after ${flood.written} bytes of PINGs`,
      );
      ok(flood.stalled, `the router kept reading: ${flood.written} bytes taken`);
      await healthyRoundTrip(bed);
    } finally {
      conn.close();
    }
  });
}

Deno.test("Wire.reply() closes a connection that gets maxBacklog of replies queued while over its limit", async () => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  const accepted = new Promise<net.Socket>((resolve) => server.once("connection", resolve));
  const client = net.connect({ host: "127.0.0.1", port });
  client.on("error", () => {});
  client.pause(); // never reads
  const wire = new Wire(await accepted, { maxBacklog: 64 * 1024 });
  let closed = false;
  wire.bind({ data() {}, closed: () => closed = true });
  const chunk = new Uint8Array(64 * 1024);
  let replies = 0;
  while (replies < 10_000 && wire.reply(chunk)) {
    replies++;
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  await until(() => closed, 5000, "closed");
  ok(replies < 10_000, "replies stopped being queued");
  client.destroy();
  await new Promise((resolve) => server.close(resolve));
});

for (
  const via of ["rawsocket:json", "websocket:msgpack", "websocket:cbor", "batched:json"] as const
) {
  Deno.test(`[${via}] a callee stays connected through a burst of 30,000 INVOCATIONs`, async () => {
    await using bed = await startBed({ attach: {} });
    const [carrier, serializer] = via.split(":") as [
      "rawsocket" | "websocket" | "batched",
      SerializerName,
    ];
    const batched = carrier === "batched";
    const callee = await connect(bed.listener.urls[batched ? "websocket" : carrier]!, {
      realm: "realm1",
      serializers: [serializer],
      batched,
    });
    await callee.register("com.example.quick", () => ({}));
    // Several in-process callers, so a per-caller in-flight limit does not apply.
    const callers = await Promise.all(
      Array.from({ length: 30 }, () => connectLocal(bed.router, "realm1")),
    );
    const calls = callers.flatMap((c) =>
      Array.from({ length: 1000 }, () => c.call("com.example.quick"))
    );
    const results = await within(Promise.allSettled(calls), 20_000, "30,000 calls");
    const failed = results.filter((r) => r.status === "rejected");
    equal(failed.length, 0, String((failed[0] as PromiseRejectedResult | undefined)?.reason));
    ok(callee.isOpen, "the callee is still connected");
    ok(!bed.logs.some((l) => l.includes("slow consumer")), bed.logs.join("\n"));
    for (const c of callers) await c.close();
    await callee.close();
  });
}

/** An args list that refers to itself: no serializer can encode it. */
function cyclic(): unknown[] {
  const args: unknown[] = ["loop"];
  args.push(args);
  return args;
}

/** A server/client pair of one transport over a real socket. */
async function linkPair(
  transport: "websocket" | "rawsocket",
  serializer: SerializerName,
  logs: string[],
): Promise<
  {
    server: WebSocketPeer | RawSocketConnection;
    received: WampMessage[];
    closed: Promise<void>;
    dispose(): Promise<void>;
  }
> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  const accepted = new Promise<net.Socket>((resolve) => server.once("connection", resolve));
  const socket = net.connect({ host: "127.0.0.1", port });
  socket.on("error", () => {});
  const serverWire = new Wire(await accepted);
  const clientWire = new Wire(socket);
  const log = (level: string, message: string) => logs.push(`${level} ${message}`);
  const info = { type: transport, serializer };
  const s = serializers[serializer];
  const make = (wire: Wire, role: "server" | "client") =>
    transport === "websocket"
      ? new WebSocketPeer(wire, { role, serializer: s, info, log })
      : new RawSocketConnection(wire, {
        info,
        serializer: s,
        receiveLimit: 1 << 24,
        sendLimit: 1 << 24,
        pingInterval: 0,
        pingTimeout: 10_000,
        log,
      });
  const serverEnd = make(serverWire, "server");
  const clientEnd = make(clientWire, "client");
  const received: WampMessage[] = [];
  let markClosed!: () => void;
  const closed = new Promise<void>((resolve) => markClosed = resolve);
  clientEnd.bind({ receive: (m) => received.push(m), fail() {}, closed: () => markClosed() });
  serverEnd.bind({ receive() {}, fail() {}, closed() {} });
  if (serverEnd instanceof RawSocketConnection) serverEnd.start(new Uint8Array());
  if (clientEnd instanceof RawSocketConnection) clientEnd.start(new Uint8Array());
  return {
    server: serverEnd,
    received,
    closed,
    async dispose() {
      clientWire.destroy();
      serverWire.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

for (const transport of ["websocket", "rawsocket"] as const) {
  for (const serializer of ["json", "msgpack", "cbor"] as const) {
    Deno.test(`[${transport}:${serializer}] an EVENT that cannot be encoded is dropped for its recipient with a log line; a RESULT closes`, async () => {
      const logs: string[] = [];
      const pair = await linkPair(transport, serializer, logs);
      try {
        const event = (args: unknown[]): WampMessage => ({
          type: MessageType.EVENT,
          subscription: 1,
          publication: 2,
          details: {},
          args,
        });
        pair.server.send(event(cyclic()));
        pair.server.send(event(["after"]));
        await until(() => pair.received.length === 1, 3000, "the next EVENT");
        const next = pair.received[0]!;
        equal(next.type, MessageType.EVENT);
        equal((next as { args?: unknown[] }).args?.[0], "after");
        ok(logs.some((l) => /cannot encode EVENT/.test(l)), logs.join("\n"));
        pair.server.send({
          type: MessageType.RESULT,
          request: 1,
          details: {},
          args: cyclic(),
        });
        await within(pair.closed, 3000, "closing after an unencodable RESULT");
      } finally {
        await pair.dispose();
      }
    });
  }
}

for (const serializer of ["json", "msgpack", "cbor"] as const) {
  Deno.test(`[longpoll:${serializer}] a RESULT that cannot be encoded closes the transport: the caller does not hang`, async () => {
    await using bed = await startBed();
    // connectLocal refuses a cycle at arrival; an unchecked link lets one in,
    // standing for whatever else could make an encoder fail.
    const [routerEnd, clientEnd] = linkedPeers();
    routerEnd.bind(bed.router.attach(routerEnd));
    const callee = await Session.join(clientEnd, { realm: "realm1" });
    await callee.register("com.example.cyclic", () => ({ args: cyclic() }));
    const caller = await connect(bed.listener.urls.longpoll!, {
      realm: "realm1",
      serializers: [serializer],
    });
    await rejects(within(caller.call("com.example.cyclic"), 5000, "the call"));
    await within(caller.closed, 5000, "the caller's session closing");
    ok(bed.logs.some((l) => /cannot encode RESULT/.test(l)), bed.logs.join("\n"));
    await callee.close();
  });
}

Deno.test("a connection left open after GOODBYE is closed after helloTimeout; a new HELLO is still allowed", async () => {
  await using bed = await startBed({ attach: { helloTimeout: 400 } });
  const socket = await rawTcp(bed.listener.urls.rawsocket!);
  let seen = "";
  socket.on("data", (chunk: Uint8Array) => seen += new TextDecoder().decode(chunk));
  socket.on("error", () => {});
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.write(Uint8Array.of(0x7f, 0xf1, 0, 0));
  const hello = jsonFrame([1, "realm1", { roles: { caller: {} } }]);
  const goodbye = jsonFrame([6, {}, "wamp.close.normal"]);
  socket.write(hello);
  await until(() => seen.includes("[2,"), 3000, "WELCOME");
  // Leave and join again before the timeout: the transport may carry a new session.
  socket.write(goodbye);
  await until(() => seen.includes("[6,"), 3000, "GOODBYE reply");
  await new Promise((resolve) => setTimeout(resolve, 200));
  seen = "";
  socket.write(hello);
  await until(() => seen.includes("[2,"), 3000, "second WELCOME");
  await new Promise((resolve) => setTimeout(resolve, 500)); // joined: no timeout
  ok(!socket.destroyed && socket.readyState === "open", "a joined session is not timed out");
  socket.write(goodbye);
  await within(closed, 3000, "closing the idle connection after GOODBYE");
  ok(bed.logs.some((l) => /no session within 400 ms/.test(l)), bed.logs.join("\n"));
});

Deno.test("a killed session that never answers the router's GOODBYE is closed after helloTimeout", async () => {
  await using bed = await startBed({ attach: { helloTimeout: 400 } });
  const socket = await rawTcp(bed.listener.urls.rawsocket!);
  let seen = "";
  socket.on("data", (chunk: Uint8Array) => seen += new TextDecoder().decode(chunk));
  socket.on("error", () => {});
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.write(Uint8Array.of(0x7f, 0xf1, 0, 0));
  socket.write(jsonFrame([1, "realm1", { roles: { caller: {} } }]));
  await until(() => seen.includes("[2,"), 3000, "WELCOME");
  const id = Number(seen.match(/\[2,(\d+)/)![1]);
  (realmOf(bed.router, "realm1")!.member(id) as Target).shutdown("wamp.close.killed");
  await until(() => seen.includes('[6,{},"wamp.close.killed"]'), 3000, "the router's GOODBYE");
  // It never answers: the router closes the connection anyway.
  await within(closed, 3000, "closing the silent connection");
  ok(bed.logs.some((l) => /no GOODBYE reply within 400 ms/.test(l)), bed.logs.join("\n"));
});
