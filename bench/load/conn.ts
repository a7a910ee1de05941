/**
 * The load tool's connection: WAMP messages as raw payloads over WebSocket
 * (`ws://`) or RawSocket (`tcp://`), with Nagle off and writes batched per
 * turn of the event loop. Nothing is decoded here, so a subscriber that
 * only counts events pays for framing alone.
 *
 * @module
 */

import { TransportError } from "../../mod.ts";
import type { Serializer } from "../../wamp/mod.ts";
import { concat } from "../../transports/stream/bytes.ts";
import { type ClientTlsOptions, dial } from "../../transports/stream/dial.ts";
import {
  encodeFrame as encodeRawFrame,
  FrameReader,
  FrameType,
} from "../../transports/rawsocket/framing.ts";
import {
  decodeHandshakeReply,
  encodeHandshake,
  lengthExponent,
} from "../../transports/rawsocket/handshake.ts";
import { parseResponseHead } from "../../transports/websocket/client.ts";
import { acceptKey, encodeFrame, FrameParser, Opcode } from "../../transports/websocket/framing.ts";
import type { Wire } from "../../transports/stream/wire.ts";

const MAX = 16 * 1024 * 1024;
const utf8 = new TextEncoder();

/** One connection carrying serialized WAMP messages. */
export class Conn {
  /** Called with each incoming message payload (valid during the call only). */
  onMessage: (payload: Uint8Array) => void = () => {};
  /** Resolves when the socket is gone. */
  readonly closed: Promise<void>;
  /** Resolves {@linkcode Conn.closed}; called by the transport. */
  readonly gone: () => void;
  #wire: Wire;
  #frame: (payload: Uint8Array) => Uint8Array;

  constructor(wire: Wire, frame: (payload: Uint8Array) => Uint8Array) {
    this.#wire = wire;
    this.#frame = frame;
    let gone!: () => void;
    this.closed = new Promise<void>((resolve) => gone = resolve);
    this.gone = gone;
  }

  /** Queues one serialized message. */
  send(payload: Uint8Array): void {
    this.#wire.write(this.#frame(payload), 1);
  }

  /** Stops reading from the socket (a consumer that stalls). */
  pause(): void {
    this.#wire.socket.pause();
  }

  /** Closes the socket at once. */
  close(): void {
    this.#wire.destroy();
  }
}

/**
 * Opens a connection and completes the transport handshake.
 *
 * @param url `ws://host:port/path`, `wss://…` or `tcp://host:port`.
 * @param serializer The serializer to negotiate.
 * @param tls For `wss://`: the CA to trust, …
 */
export async function openConn(
  url: string,
  serializer: Serializer,
  tls?: ClientTlsOptions,
): Promise<Conn> {
  const u = new URL(url);
  const port = Number(u.port || 80);
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
  const wire = await dial({ host, port }, u.protocol === "wss:" ? { tls: tls ?? {} } : {});
  if (u.protocol === "ws:" || u.protocol === "wss:") return await webSocket(wire, u, serializer);
  if (u.protocol === "tcp:") return await rawSocket(wire, serializer);
  wire.destroy();
  throw new TransportError(`load: unsupported URL ${url} (ws:// or tcp://)`);
}

async function webSocket(wire: Wire, u: URL, serializer: Serializer): Promise<Conn> {
  const key = crypto.getRandomValues(new Uint8Array(16)).toBase64();
  wire.write(utf8.encode(
    `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
      `Sec-WebSocket-Protocol: ${serializer.subprotocol}\r\n\r\n`,
  ));
  const opcode = serializer.binary ? Opcode.BINARY : Opcode.TEXT;
  const c = new Conn(wire, (payload) => encodeFrame(opcode, payload, { mask: true }));
  const parser = new FrameParser({
    message: (_text, payload) => c.onMessage(payload),
    control: (op, payload) => {
      if (op === Opcode.PING) wire.write(encodeFrame(Opcode.PONG, payload, { mask: true }));
      else if (op === Opcode.CLOSE) wire.destroy();
    },
    error: () => wire.destroy(),
  }, { masked: false, maxMessageSize: MAX });
  const rest = await new Promise<Uint8Array>((resolve, reject) => {
    let head = new Uint8Array(0);
    wire.bind({
      data(chunk) {
        head = concat([head, chunk]);
        const parsed = parseResponseHead(head);
        if ("incomplete" in parsed) return;
        if ("error" in parsed || parsed.head.status !== 101) {
          wire.destroy();
          return reject(new TransportError(`load: upgrade to ${u} refused`));
        }
        if (parsed.head.headers.get("sec-websocket-accept") !== acceptKey(key)) {
          wire.destroy();
          return reject(new TransportError(`load: wrong accept key from ${u}`));
        }
        resolve(head.subarray(parsed.length));
      },
      closed: () => reject(new TransportError(`load: ${u} closed during the upgrade`)),
    });
  });
  wire.bind({
    data: (chunk) => parser.push(chunk),
    closed: () => c.gone(),
  });
  if (rest.length > 0) parser.push(rest);
  return c;
}

async function rawSocket(wire: Wire, serializer: Serializer): Promise<Conn> {
  wire.write(encodeHandshake({
    serializer: serializer.rawSocketId,
    lengthExponent: lengthExponent(MAX),
  }));
  const c = new Conn(wire, (payload) => encodeRawFrame(FrameType.MESSAGE, payload));
  const reader = new FrameReader(MAX);
  const onData = (chunk: Uint8Array) => {
    try {
      for (const frame of reader.push(chunk)) {
        if (frame.type === FrameType.MESSAGE) c.onMessage(frame.payload);
        else if (frame.type === FrameType.PING) {
          wire.write(encodeRawFrame(FrameType.PONG, frame.payload));
        }
      }
    } catch {
      wire.destroy();
    }
  };
  const rest = await new Promise<Uint8Array>((resolve, reject) => {
    let head = new Uint8Array(0);
    wire.bind({
      data(chunk) {
        head = concat([head, chunk]);
        if (head.length < 4) return;
        const reply = decodeHandshakeReply(head.subarray(0, 4));
        if ("error" in reply) {
          wire.destroy();
          return reject(new TransportError(`load: RawSocket handshake error ${reply.error}`));
        }
        resolve(head.subarray(4));
      },
      closed: () => reject(new TransportError("load: closed during the RawSocket handshake")),
    });
  });
  wire.bind({ data: onData, closed: () => c.gone() });
  if (rest.length > 0) onData(rest);
  return c;
}
