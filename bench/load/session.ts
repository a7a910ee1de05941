/**
 * The load tool's peers: a {@linkcode Conn} that has joined a realm and,
 * for a subscriber or callee, subscribed or registered. Against the bare
 * relay (`floor`) there is no WAMP: the role is the URL path and the
 * handshake is the WebSocket upgrade alone.
 *
 * @module
 */

import { MessageType, type Serializer, type WampMessage } from "../../wamp/mod.ts";
import { encodeBytes } from "../../transports/stream/encode.ts";
import { type Conn, openConn } from "./conn.ts";

/** What the load runs against. */
export interface Target {
  /** A router URL (`ws://…`, `tcp://…`), or the relay's base URL (`ws://host:port`). */
  url: string;
  /** The realm to join (ignored by the relay). */
  realm: string;
  /** The serializer every peer uses. */
  serializer: Serializer;
  /** Whether the target is the bare relay of `bench/floor/` rather than a router. */
  floor: boolean;
  /** A URL per role, instead of `url` (another cluster node for subscribers or the callee). */
  urls?: Partial<Record<Role, string>>;
}

/** What a peer does. */
export type Role = "pub" | "sub" | "caller" | "callee" | "idle";

/** The topic and procedure the scenarios use. */
export const TOPIC = "bench.load.topic";
/** @see TOPIC */
export const PROCEDURE = "bench.load.echo";

/**
 * Opens a peer in `role`, ready for the scenario: joined, and subscribed
 * to {@linkcode TOPIC} or registered for {@linkcode PROCEDURE}.
 *
 * @param target Where and how.
 * @param role What the peer will do.
 */
export async function openPeer(target: Target, role: Role): Promise<Conn> {
  if (target.floor) {
    return await openConn(`${target.url.replace(/\/$/, "")}/${role}`, target.serializer);
  }
  const conn = await openConn(target.urls?.[role] ?? target.url, target.serializer);
  const s = target.serializer;
  const roles = { publisher: {}, subscriber: {}, caller: {}, callee: {} };
  conn.send(encodeBytes(s, { type: MessageType.HELLO, realm: target.realm, details: { roles } }));
  const welcome = await next(conn, s);
  if (welcome.type !== MessageType.WELCOME) {
    conn.close();
    throw new Error(`load: joining ${target.realm} at ${target.url}: ${describe(welcome)}`);
  }
  if (role === "sub") {
    conn.send(
      encodeBytes(s, { type: MessageType.SUBSCRIBE, request: 1, options: {}, topic: TOPIC }),
    );
    await expect(conn, s, MessageType.SUBSCRIBED);
  } else if (role === "callee") {
    conn.send(
      encodeBytes(s, { type: MessageType.REGISTER, request: 1, options: {}, procedure: PROCEDURE }),
    );
    await expect(conn, s, MessageType.REGISTERED);
  }
  return conn;
}

async function expect(conn: Conn, s: Serializer, type: number): Promise<void> {
  const msg = await next(conn, s);
  if (msg.type !== type) {
    conn.close();
    throw new Error(`load: expected message type ${type}, got ${describe(msg)}`);
  }
}

/**
 * The next message on `conn`, decoded (10 s at most).
 *
 * @param conn The connection.
 * @param s Its serializer.
 * @returns The message; rejects on a timeout, a closed connection or a bad message.
 */
export function next(conn: Conn, s: Serializer): Promise<WampMessage> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("load: no answer in 10 s")), 10_000);
    conn.onMessage = (payload) => {
      clearTimeout(timer);
      conn.onMessage = () => {};
      try {
        resolve(s.decode(payload));
      } catch (error) {
        reject(error);
      }
    };
    conn.closed.then(() => reject(new Error("load: connection closed")));
  });
}

function describe(msg: WampMessage): string {
  return "reason" in msg
    ? `${msg.type} ${msg.reason}`
    : "error" in msg
    ? `${msg.type} ${msg.error}`
    : String(msg.type);
}

/**
 * A message's type code read from its first bytes, without decoding it
 * (WAMP messages are short arrays whose first element is a small integer);
 * -1 when the bytes are not shaped that way.
 *
 * @param serializer The serializer that produced `payload`.
 * @param payload One serialized message.
 */
export function messageType(serializer: Serializer, payload: Uint8Array): number {
  switch (serializer.name) {
    case "json": {
      // "[" digits ","
      let type = 0;
      let i = 1;
      for (; i < payload.length && payload[i]! >= 0x30 && payload[i]! <= 0x39; i++) {
        type = type * 10 + payload[i]! - 0x30;
      }
      return payload[0] === 0x5b && i > 1 ? type : -1;
    }
    case "msgpack": // fixarray, then a positive fixint
      return (payload[0]! & 0xf0) === 0x90 && payload[1]! < 0x80 ? payload[1]! : -1;
    case "cbor": // a short array, then an unsigned integer below 24 or in one more byte
      if ((payload[0]! & 0xe0) !== 0x80) return -1;
      return payload[1]! < 24 ? payload[1]! : payload[1] === 0x18 ? payload[2]! : -1;
  }
}
