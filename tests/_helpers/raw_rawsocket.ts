/**
 * Bare RawSocket clients for tests and benchmarks that need a peer which
 * misbehaves: over `node:net`, a JSON one that stops reading; over
 * `Deno.connect`, one that sends and reads raw frames.
 */

import net from "node:net";
import { concat } from "../../transports/stream/bytes.ts";

/** One RawSocket frame (regular message) holding `msg` as JSON. */
export function jsonFrame(msg: unknown): Uint8Array {
  const body = new TextEncoder().encode(JSON.stringify(msg));
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

/** Connects to a `tcp://` URL. */
export async function rawTcp(url: string): Promise<net.Socket> {
  const { hostname, port } = new URL(url);
  const socket = net.connect({ host: hostname, port: Number(port) });
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return socket;
}

/**
 * Joins realm1 over RawSocket (JSON, 16 MiB), subscribes to `topic`, then
 * stops reading its socket: the kernel buffers fill, then the router's
 * queue for it.
 */
export async function stalledSubscriber(url: string, topic: string): Promise<net.Socket> {
  const socket = await rawTcp(url);
  socket.write(Uint8Array.of(0x7f, 0xf1, 0, 0));
  socket.write(jsonFrame([1, "realm1", { roles: { subscriber: {} } }]));
  socket.write(jsonFrame([32, 1, {}, topic]));
  let seen = "";
  await new Promise<void>((resolve) => {
    const onData = (chunk: Uint8Array) => {
      seen += new TextDecoder().decode(chunk);
      if (!seen.includes("[33,1,")) return;
      socket.off("data", onData);
      resolve();
    };
    socket.on("data", onData);
  });
  socket.pause();
  return socket;
}

/** A RawSocket client over `Deno.connect` that sends and reads raw frames. */
export interface RawFrames {
  /** Sends one message frame with `payload`; resolves `false` once the connection is gone. */
  send(payload: Uint8Array): Promise<boolean>;
  /** The next message frame's payload (PINGs and PONGs skipped), or `null` once closed. */
  next(): Promise<Uint8Array | null>;
  /** Closes the connection (idempotent). */
  close(): void;
}

/**
 * Connects to a `tcp://` URL and does the RawSocket handshake for the
 * serializer `serializerId` (1 json, 2 msgpack, 3 cbor) with a limit of
 * 2^(9 + `exponent`) bytes (16 MiB by default).
 */
export async function rawFrames(
  url: string,
  serializerId: number,
  exponent = 15,
): Promise<RawFrames> {
  const { hostname, port } = new URL(url);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  const chunks: Uint8Array[] = [];
  let held = 0;
  let closed = false;
  const take = async (n: number): Promise<Uint8Array | null> => {
    while (held < n) {
      const chunk = new Uint8Array(65536);
      const got = await conn.read(chunk).catch(() => null);
      if (got === null) return null;
      chunks.push(chunk.subarray(0, got));
      held += got;
    }
    const all = chunks.length === 1 ? chunks[0]! : concat(chunks);
    chunks.length = 0;
    if (all.length > n) chunks.push(all.subarray(n));
    held -= n;
    return all.subarray(0, n);
  };
  const write = async (bytes: Uint8Array): Promise<boolean> => {
    try {
      for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
      return true;
    } catch {
      return false;
    }
  };
  await write(Uint8Array.of(0x7f, (exponent << 4) | serializerId, 0, 0));
  const reply = await take(4);
  if (reply?.[0] !== 0x7f) throw new Error(`RawSocket handshake refused: ${reply}`);
  return {
    send(payload) {
      const n = payload.length;
      return write(concat([Uint8Array.of(0, n >> 16, (n >> 8) & 0xff, n & 0xff), payload]));
    },
    async next() {
      for (;;) {
        const head = await take(4);
        if (head === null) return null;
        const body = await take((head[1]! << 16) | (head[2]! << 8) | head[3]!);
        if (body === null) return null;
        if ((head[0]! & 7) === 0) return body;
      }
    },
    close() {
      if (!closed) conn.close();
      closed = true;
    },
  };
}

/** A bare JSON RawSocket client: what it got, parsed, and how to send in one write. */
export interface RawJsonClient {
  /** Every message received, in order. */
  readonly seen: unknown[][];
  /** Whether the router closed the connection. */
  readonly closed: boolean;
  /** Sends messages in one write. */
  send(...msgs: unknown[]): void;
  /** The first message received that matches, waiting for it up to `ms`. */
  until(match: (msg: unknown[]) => boolean, ms?: number): Promise<unknown[]>;
  /** Drops the connection. */
  close(): void;
}

/**
 * Connects to a `tcp://` URL and does the RawSocket handshake for JSON,
 * announcing the limit the handshake's second byte gives (`0x31`: 4 KiB,
 * `0xf1`: 16 MiB); then reads and parses every message frame.
 */
export async function rawJsonClient(url: string, limitByte: number): Promise<RawJsonClient> {
  const socket = await rawTcp(url);
  const seen: unknown[][] = [];
  let buffer = new Uint8Array(0);
  let handshake = true;
  let closed = false;
  socket.on("close", () => closed = true);
  socket.on("data", (chunk: Uint8Array) => {
    buffer = concat([buffer, chunk]);
    if (handshake) {
      if (buffer.length < 4) return;
      buffer = buffer.subarray(4);
      handshake = false;
    }
    while (buffer.length >= 4) {
      const length = new DataView(buffer.buffer, buffer.byteOffset).getUint32(0) & 0xffffff;
      if (buffer.length < 4 + length) break;
      if ((buffer[0]! & 7) === 0) {
        seen.push(JSON.parse(new TextDecoder().decode(buffer.subarray(4, 4 + length))));
      }
      buffer = buffer.subarray(4 + length);
    }
  });
  socket.write(Uint8Array.of(0x7f, limitByte, 0, 0));
  return {
    seen,
    get closed() {
      return closed;
    },
    send: (...msgs) => void socket.write(concat(msgs.map((m) => jsonFrame(m)))),
    until: async (match, ms = 4000) => {
      const deadline = Date.now() + ms;
      while (!seen.some(match)) {
        if (Date.now() > deadline) throw new Error(`the message not reached within ${ms} ms`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return seen.find(match)!;
    },
    close: () => socket.destroy(),
  };
}
