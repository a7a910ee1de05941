/**
 * A WebSocket link against its `maxMessageSize`, at the boundary: on a
 * batched subprotocol a message goes out with its framing (a 4-byte length
 * before MessagePack and CBOR, a 0x1E after JSON), so a router's send limit
 * leaves room for it, and a message of that limit goes out in a WebSocket
 * message of at most `maxMessageSize` bytes; a batch of several messages,
 * on either side, stays within it too. No socket: the link writes to a
 * recording one.
 */

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { WebSocketPeer } from "../../../transports/websocket/link.ts";
import { Wire } from "../../../transports/stream/wire.ts";
import { batchFraming } from "../../../transports/stream/batched.ts";
import { concat } from "../../../transports/stream/bytes.ts";
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

/** The payload lengths of the WebSocket frames written, in order (masked or not). */
function payloadLengths(written: Uint8Array[]): number[] {
  const bytes = concat(written);
  const lengths: number[] = [];
  for (let at = 0; at < bytes.length;) {
    const short = bytes[at + 1]! & 0x7f;
    if (short === 127) throw new Error("a frame this test does not expect");
    const length = short < 126 ? short : (bytes[at + 2]! << 8) | bytes[at + 3]!;
    const mask = bytes[at + 1]! & 0x80 ? 4 : 0;
    lengths.push(length);
    at += (short < 126 ? 2 : 4) + mask + length;
  }
  return lengths;
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
    const sizes = payloadLengths(written);
    ok(sizes.every((size) => size <= LIMIT), `WebSocket messages of ${sizes} bytes, over ${LIMIT}`);
    deepEqual(sizes, [LIMIT]);
  });

  for (const role of ["server", "client"] as const) {
    Deno.test(`WebSocket (${name}.batched, ${role} side) batches one turn's messages within maxMessageSize`, async () => {
      const written: Uint8Array[] = [];
      const wire = new Wire(recordingSocket(written));
      const info = { type: "websocket", serializer: name } as const;
      const options = { role, serializer: serializers[name], info, batched: true };
      const peer = new WebSocketPeer(wire, { ...options, maxMessageSize: LIMIT });
      const half = LIMIT / 2 - framing;
      // Two whose batch is exactly the limit go together; one byte more and
      // the next WebSocket message starts (all five went in one, of 8,226 bytes for JSON).
      for (const size of [half, half, half + 1, half, 32]) peer.send(resultOf(name, size));
      await Promise.resolve(); // the turn's last batch goes to the wire
      wire.flush();
      const sizes = payloadLengths(written);
      ok(
        sizes.every((size) => size <= LIMIT),
        `WebSocket messages of ${sizes} bytes, over ${LIMIT}`,
      );
      deepEqual(sizes, [LIMIT, half + 1 + framing, half + framing + 32 + framing]);
    });
  }
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
  deepEqual(payloadLengths(written), [LIMIT]);
});
