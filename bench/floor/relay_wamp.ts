/**
 * The minimal-WAMP floor: a relay on the router's own WebSocket and
 * RawSocket stack (`node:net`, Nagle off, our framing, writes batched per
 * turn of the event loop) that does only the WAMP work a router cannot
 * avoid, and nothing else:
 *
 * - every message is decoded with the codec our serializers use
 *   (`JSON.parse`, `@msgpack/msgpack`, `cbor-x`), plainly: no validation,
 *   no pre-scan, no payload kept for splicing; and encoded whole with it
 *   (JSON text framed in place, as the router's links frame it);
 * - HELLO → WELCOME; SUBSCRIBE/REGISTER (and their undo) routed by exact
 *   URI (a `Map` by URI);
 * - PUBLISH → one EVENT, encoded once per serializer and framed once per
 *   serializer and framing, written to each subscriber but the publisher;
 *   PUBLISHED when `acknowledge` is asked;
 * - CALL → INVOCATION, YIELD → RESULT, an invocation ERROR → the call's
 *   ERROR; no callee: ERROR `wamp.error.no_such_procedure`.
 *
 * No authentication, options, meta events, limits or timeouts: the router
 * against this relay is the cost of everything else it does.
 *
 * Run: `deno run --allow-net bench/floor/relay_wamp.ts [port]`; prints
 * `listening on <port>`; WebSocket on any path, RawSocket on the same port.
 *
 * @module
 */

import net from "node:net";
import { Decoder, Encoder as MsgpackEncoder } from "@msgpack/msgpack";
import { Encoder as CborEncoder } from "cbor-x/encode";
import { concat } from "../../transports/stream/bytes.ts";
import { parseRequestHead, responseHead } from "../../transports/stream/http.ts";
import {
  acceptKey,
  encodeFrame,
  encodeTextFrame,
  FrameParser,
  Opcode,
} from "../../transports/websocket/framing.ts";
import {
  encodeFrame as encodeRawFrame,
  encodeTextFrame as encodeRawTextFrame,
  FrameReader,
  FrameType,
} from "../../transports/rawsocket/framing.ts";
import {
  decodeHandshakeRequest,
  encodeHandshake,
  encodeHandshakeError,
  HandshakeError,
  lengthExponent,
  RAWSOCKET_MAGIC,
} from "../../transports/rawsocket/handshake.ts";
import { Wire } from "../../transports/stream/wire.ts";
import { utf8Bytes } from "../../wamp/bytes.ts";
import { MessageType as T } from "../../wamp/message_type.ts";
import { announce } from "./switchboard.ts";

const MAX = 16 * 1024 * 1024;

/** A serializer's plain codec: wire arrays to bytes and back. */
interface Codec {
  name: string;
  subprotocol: string;
  rawSocketId: number;
  binary: boolean;
  decode(payload: Uint8Array): unknown;
  /** Text for JSON (framed in place, as the router's links frame it), else bytes. */
  encode(wire: unknown[]): string | Uint8Array;
}

const text = new TextDecoder();
const packer = new MsgpackEncoder({ ignoreUndefined: true });
const unpacker = new Decoder();
const cborCodec = new CborEncoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });

const CODECS: Codec[] = [
  {
    name: "json",
    subprotocol: "wamp.2.json",
    rawSocketId: 1,
    binary: false,
    decode: (p) => JSON.parse(text.decode(p)),
    encode: (w) => JSON.stringify(w),
  },
  {
    name: "msgpack",
    subprotocol: "wamp.2.msgpack",
    rawSocketId: 2,
    binary: true,
    decode: (p) => unpacker.decode(p),
    encode: (w) => packer.encode(w),
  },
  {
    name: "cbor",
    subprotocol: "wamp.2.cbor",
    rawSocketId: 3,
    binary: true,
    decode: (p) => cborCodec.decode(p),
    encode: (w) => cborCodec.encode(w),
  },
];

/** One connection's session. */
interface Peer {
  codec: Codec;
  /** Frames a serialized message for this peer's transport. */
  frame(payload: string | Uint8Array): Uint8Array;
  /** `codec.name` + the framing: peers with the same key get the same frame. */
  key: string;
  wire: Wire;
  session: number;
  subscriptions: Set<Topic>;
  registrations: Set<Procedure>;
}

interface Topic {
  uri: string;
  id: number;
  subscribers: Set<Peer>;
}

interface Procedure {
  uri: string;
  id: number;
  callee: Peer;
}

interface Invocation {
  caller: Peer;
  request: number;
  callee: Peer;
}

const topics = new Map<string, Topic>();
const topicsById = new Map<number, Topic>();
const procedures = new Map<string, Procedure>();
const proceduresById = new Map<number, Procedure>();
const invocations = new Map<number, Invocation>();
let nextId = 0;
const id = () => ++nextId;

const WELCOME_DETAILS = { roles: { broker: {}, dealer: {} } };

function send(peer: Peer, wire: unknown[]): void {
  peer.wire.write(peer.frame(peer.codec.encode(wire)), 1);
}

/** The message's args and kwargs, from `at` on, as they came (absent stays absent). */
function payload(msg: unknown[], at: number): unknown[] {
  return msg.length > at + 1 ? [msg[at], msg[at + 1]] : msg.length > at ? [msg[at]] : [];
}

function message(peer: Peer, bytes: Uint8Array): void {
  let msg: unknown;
  try {
    msg = peer.codec.decode(bytes);
  } catch {
    return peer.wire.destroy();
  }
  if (!Array.isArray(msg)) return peer.wire.destroy();
  switch (msg[0]) {
    case T.HELLO:
      peer.session = id();
      return send(peer, [T.WELCOME, peer.session, WELCOME_DETAILS]);
    case T.GOODBYE:
      send(peer, [T.GOODBYE, {}, "wamp.close.goodbye_and_out"]);
      return peer.wire.end();
    case T.PUBLISH:
      return publish(peer, msg);
    case T.SUBSCRIBE: {
      const uri = String(msg[3]);
      let topic = topics.get(uri);
      if (topic === undefined) {
        topics.set(uri, topic = { uri, id: id(), subscribers: new Set() });
        topicsById.set(topic.id, topic);
      }
      topic.subscribers.add(peer);
      peer.subscriptions.add(topic);
      return send(peer, [T.SUBSCRIBED, msg[1], topic.id]);
    }
    case T.UNSUBSCRIBE: {
      const topic = topicsById.get(Number(msg[2]));
      if (topic !== undefined) unsubscribe(peer, topic);
      return send(peer, [T.UNSUBSCRIBED, msg[1]]);
    }
    case T.CALL: {
      const procedure = procedures.get(String(msg[3]));
      if (procedure === undefined) {
        return send(peer, [T.ERROR, T.CALL, msg[1], {}, "wamp.error.no_such_procedure"]);
      }
      const invocation = id();
      invocations.set(invocation, { caller: peer, request: msg[1], callee: procedure.callee });
      return send(procedure.callee, [
        T.INVOCATION,
        invocation,
        procedure.id,
        {},
        ...payload(msg, 4),
      ]);
    }
    case T.YIELD: {
      const call = answered(peer, msg[1]);
      if (call !== undefined) send(call.caller, [T.RESULT, call.request, {}, ...payload(msg, 3)]);
      return;
    }
    case T.ERROR: {
      if (msg[1] !== T.INVOCATION) return;
      const call = answered(peer, msg[2]);
      if (call === undefined) return;
      return send(call.caller, [T.ERROR, T.CALL, call.request, msg[3], msg[4], ...payload(msg, 5)]);
    }
    case T.REGISTER: {
      const uri = String(msg[3]);
      if (procedures.has(uri)) {
        return send(peer, [T.ERROR, T.REGISTER, msg[1], {}, "wamp.error.procedure_already_exists"]);
      }
      const procedure = { uri, id: id(), callee: peer };
      procedures.set(uri, procedure);
      proceduresById.set(procedure.id, procedure);
      peer.registrations.add(procedure);
      return send(peer, [T.REGISTERED, msg[1], procedure.id]);
    }
    case T.UNREGISTER: {
      const procedure = proceduresById.get(Number(msg[2]));
      if (procedure?.callee === peer) unregister(peer, procedure);
      return send(peer, [T.UNREGISTERED, msg[1]]);
    }
  }
}

/** PUBLISH: one EVENT, encoded and framed once per serializer and framing. */
function publish(peer: Peer, msg: unknown[]): void {
  const topic = topics.get(String(msg[3]));
  const publication = id();
  if (topic !== undefined) {
    const event = [T.EVENT, topic.id, publication, {}, ...payload(msg, 4)];
    const encoded = new Map<Codec, string | Uint8Array>();
    const framed = new Map<string, Uint8Array>();
    for (const sub of topic.subscribers) {
      if (sub === peer) continue; // exclude_me, the default
      let frame = framed.get(sub.key);
      if (frame === undefined) {
        let bytes = encoded.get(sub.codec);
        if (bytes === undefined) encoded.set(sub.codec, bytes = sub.codec.encode(event));
        framed.set(sub.key, frame = sub.frame(bytes));
      }
      sub.wire.write(frame, 1);
    }
  }
  const options = msg[2] as { acknowledge?: unknown } | undefined;
  if (options?.acknowledge === true) send(peer, [T.PUBLISHED, msg[1], publication]);
}

/** The call an INVOCATION answer from `callee` is for, forgotten. */
function answered(callee: Peer, invocation: unknown): Invocation | undefined {
  const call = invocations.get(Number(invocation));
  if (call === undefined || call.callee !== callee) return undefined;
  invocations.delete(Number(invocation));
  return call.caller.wire.closed ? undefined : call;
}

function unsubscribe(peer: Peer, topic: Topic): void {
  topic.subscribers.delete(peer);
  peer.subscriptions.delete(topic);
  if (topic.subscribers.size === 0) {
    topics.delete(topic.uri);
    topicsById.delete(topic.id);
  }
}

function unregister(peer: Peer, procedure: Procedure): void {
  procedures.delete(procedure.uri);
  proceduresById.delete(procedure.id);
  peer.registrations.delete(procedure);
}

function closed(peer: Peer): void {
  for (const topic of [...peer.subscriptions]) unsubscribe(peer, topic);
  for (const procedure of [...peer.registrations]) unregister(peer, procedure);
  for (const [invocation, call] of invocations) {
    if (call.callee !== peer && call.caller !== peer) continue;
    invocations.delete(invocation);
    if (call.callee === peer && !call.caller.wire.closed) {
      send(call.caller, [T.ERROR, T.CALL, call.request, {}, "wamp.error.canceled"]);
    }
  }
}

function newPeer(wire: Wire, codec: Codec, framing: string, frame: Peer["frame"]): Peer {
  return {
    codec,
    frame,
    key: `${codec.name}/${framing}`,
    wire,
    session: 0,
    subscriptions: new Set(),
    registrations: new Set(),
  };
}

/** The first bytes tell RawSocket (0x7f) from an HTTP upgrade. */
function accept(wire: Wire): void {
  let head = new Uint8Array(0);
  wire.bind({
    data(chunk) {
      head = concat([head, chunk]);
      if (head[0] === RAWSOCKET_MAGIC) {
        if (head.length >= 4) rawSocket(wire, head.subarray(0, 4), head.subarray(4));
        return;
      }
      const parsed = parseRequestHead(head);
      if ("incomplete" in parsed) return;
      if ("error" in parsed) return wire.destroy();
      const offered = (parsed.head.headers.get("sec-websocket-protocol") ?? "").split(",")
        .map((p) => p.trim());
      const codec = CODECS.find((c) => offered.includes(c.subprotocol));
      if (codec === undefined) return wire.destroy();
      wire.write(responseHead(101, {
        upgrade: "websocket",
        connection: "Upgrade",
        "sec-websocket-accept": acceptKey(parsed.head.headers.get("sec-websocket-key") ?? ""),
        "sec-websocket-protocol": codec.subprotocol,
      }));
      webSocket(wire, codec, head.subarray(parsed.length));
    },
    closed() {},
  });
}

function webSocket(wire: Wire, codec: Codec, rest: Uint8Array): void {
  const opcode = codec.binary ? Opcode.BINARY : Opcode.TEXT;
  const peer = newPeer(
    wire,
    codec,
    "websocket",
    (p) =>
      typeof p === "string"
        ? encodeTextFrame(p) ?? encodeFrame(opcode, utf8Bytes(p))
        : encodeFrame(opcode, p),
  );
  const parser = new FrameParser({
    message: (_text, bytes) => message(peer, bytes),
    control(op, bytes) {
      if (op === Opcode.PING) wire.write(encodeFrame(Opcode.PONG, bytes));
      else if (op === Opcode.CLOSE) wire.end();
    },
    error: () => wire.destroy(),
  }, { masked: true, maxMessageSize: MAX });
  wire.bind({ data: (chunk) => parser.push(chunk), closed: () => closed(peer) });
  if (rest.length > 0) parser.push(rest);
}

function rawSocket(wire: Wire, handshake: Uint8Array, rest: Uint8Array): void {
  const request = decodeHandshakeRequest(handshake);
  const codec = "error" in request
    ? undefined
    : CODECS.find((c) => c.rawSocketId === request.serializer);
  if (codec === undefined) {
    wire.write(encodeHandshakeError(HandshakeError.SERIALIZER_UNSUPPORTED));
    return wire.end();
  }
  wire.write(
    encodeHandshake({ serializer: codec.rawSocketId, lengthExponent: lengthExponent(MAX) }),
  );
  const peer = newPeer(
    wire,
    codec,
    "rawsocket",
    (p) =>
      typeof p === "string"
        ? encodeRawTextFrame(p) ?? encodeRawFrame(FrameType.MESSAGE, utf8Bytes(p))
        : encodeRawFrame(FrameType.MESSAGE, p),
  );
  const reader = new FrameReader(MAX);
  const data = (chunk: Uint8Array) => {
    try {
      for (const frame of reader.push(chunk)) {
        if (frame.type === FrameType.MESSAGE) message(peer, frame.payload);
        else if (frame.type === FrameType.PING) {
          wire.write(encodeRawFrame(FrameType.PONG, frame.payload));
        }
      }
    } catch {
      wire.destroy();
    }
  };
  wire.bind({ data, closed: () => closed(peer) });
  if (rest.length > 0) data(rest);
}

const server = net.createServer((socket) => accept(new Wire(socket)));
server.listen(Number(Deno.args[0] ?? 0), "127.0.0.1", () => {
  announce((server.address() as net.AddressInfo).port);
});
