/**
 * A router's WebSocket link against its `maxMessageSize`, at the
 * boundary: on a batched subprotocol a message goes out with its framing
 * (a 4-byte length before MessagePack and CBOR, a 0x1E after JSON), so its
 * send limit leaves room for it, and a message of that limit goes out in
 * a WebSocket message of at most `maxMessageSize` bytes. No socket: the
 * link writes to a recording one.
 */

import { equal, ok, throws } from "node:assert/strict";
import { WebSocketPeer } from "../../../transports/websocket/link.ts";
import { Wire } from "../../../transports/stream/wire.ts";
import { batchFraming } from "../../../transports/stream/batched.ts";
import {
  MessageTooLargeError,
  MessageType,
  type SerializerName,
  serializers,
  type WampMessage,
} from "../../../wamp/mod.ts";
import { recordingSocket } from "../../_helpers/recording_socket.ts";
import { messageOf } from "../../_helpers/sized_message.ts";

const LIMIT = 4096;

/** A RESULT that encodes to exactly `size` bytes in `name`. */
function resultOf(name: SerializerName, size: number): WampMessage {
  return messageOf(name, size, (pad) => ({
    type: MessageType.RESULT,
    request: 1,
    details: {},
    args: [pad],
  }));
}

/** The payload length of the one WebSocket frame written (server frames are unmasked). */
function payloadLength(frame: Uint8Array): number {
  const short = frame[1]! & 0x7f;
  if (short < 126) return short;
  if (short === 126) return (frame[2]! << 8) | frame[3]!;
  throw new Error("a frame this test does not expect");
}

for (const name of ["json", "msgpack", "cbor"] as const) {
  const framing = batchFraming({ binary: serializers[name].binary, batched: true });
  Deno.test(`WebSocket (${name}.batched) sends one message of sendLimit bytes within maxMessageSize`, async () => {
    const written: Uint8Array[] = [];
    const wire = new Wire(recordingSocket(written));
    const serializer = serializers[name];
    const info = { type: "websocket", serializer: name } as const;
    const peer = new WebSocketPeer(wire, {
      role: "server",
      serializer,
      info,
      batched: true,
      maxMessageSize: LIMIT,
    });
    equal(peer.sendLimit, LIMIT - framing);
    throws(() => peer.send(resultOf(name, LIMIT - framing + 1)), MessageTooLargeError);
    peer.send(resultOf(name, LIMIT - framing));
    await Promise.resolve(); // the turn's batch goes to the wire
    wire.flush();
    equal(written.length, 1);
    const size = payloadLength(written[0]!);
    ok(size <= LIMIT, `a WebSocket message of ${size} bytes, over ${LIMIT}`);
    equal(size, LIMIT);
  });
}

Deno.test("WebSocket (json, not batched) sends a message of maxMessageSize bytes", () => {
  const written: Uint8Array[] = [];
  const wire = new Wire(recordingSocket(written));
  const info = { type: "websocket", serializer: "json" } as const;
  const peer = new WebSocketPeer(wire, {
    role: "server",
    serializer: serializers.json,
    info,
    maxMessageSize: LIMIT,
  });
  equal(peer.sendLimit, LIMIT);
  peer.send(resultOf("json", LIMIT));
  wire.flush();
  equal(payloadLength(written[0]!), LIMIT);
});
