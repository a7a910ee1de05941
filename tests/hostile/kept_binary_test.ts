/**
 * What the router keeps past a turn owns its byte strings: the MessagePack
 * and CBOR decoders return byte strings as views into their frame (copying
 * each in every decode doubled a binary PUBLISH's decode cost), so each
 * retention point copies the small ones as it measures what it keeps
 * (`keptPayloadSize`). A 1-byte binary in a retained event, event history or
 * a testament must not keep its 512 KiB frame alive.
 */

import { equal, ok } from "node:assert/strict";
import type { PublishOptions } from "../../wamp/options.ts";
import type { CallMessage, PublishMessage } from "../../wamp/messages.ts";
import { MetaProcedure } from "../../wamp/uris.ts";
import { Testaments } from "../../router/core/meta/testament.ts";
import type { MetaEvents } from "../../router/core/meta/events.ts";
import { MessageType } from "../../wamp/message_type.ts";
import { cbor } from "../../wamp/serializers/cbor.ts";
import { msgpack } from "../../wamp/serializers/msgpack.ts";
import { EventHistory } from "../../router/core/broker/event_history.ts";
import type { Publication } from "../../router/core/broker/publication.ts";
import type { SessionInfo } from "../../router/core/types.ts";
import { realmOf } from "../../router/router.ts";
import { join, startRouter, within } from "../_helpers/router.ts";

const PAD = 512 * 1024;

for (const via of ["ws:msgpack", "tcp:cbor"] as const) {
  Deno.test(`${via}: a retained event's 1-byte binary does not pin its 512 KiB frame`, async () => {
    await using t = await startRouter();
    const publisher = await join(t, via);
    // The padding is in the options: not retained, but in the frame the binary is decoded from.
    const options = { retain: true, acknowledge: true, x_pad: "p".repeat(PAD) } as PublishOptions;
    await within(
      publisher.publish("com.kept.bin", {
        args: [Uint8Array.of(7)],
        kwargs: { b: Uint8Array.of(8, 9) },
      }, options),
      5000,
      "PUBLISHED",
    );
    const retained = realmOf(t.router, "realm1")!.broker.retained;
    const [pub] = retained.for("com.kept.bin", "exact", { id: 0 } as SessionInfo);
    ok(pub !== undefined, "nothing retained");
    const arg = pub.args![0] as Uint8Array;
    const kw = pub.kwargs!.b as Uint8Array;
    equal(arg[0], 7);
    equal(kw[1], 9);
    ok(arg.buffer.byteLength < 1024, `the binary arg holds ${arg.buffer.byteLength} bytes`);
    ok(kw.buffer.byteLength < 1024, `the binary kwarg holds ${kw.buffer.byteLength} bytes`);
    await publisher.close();
  });
}

/** A frame copied into the start of a 4 MiB buffer, as a read chunk holds it. */
function inBigBuffer(frame: Uint8Array): Uint8Array {
  const big = new Uint8Array(frame.length + 4 * 1024 * 1024);
  big.set(frame);
  return big.subarray(0, frame.length);
}

for (const s of [msgpack, cbor]) {
  Deno.test(`${s.name}: event history keeps binaries of their own, args, kwargs and passthru payload`, () => {
    const decode = (msg: PublishMessage): PublishMessage =>
      s.decode(inBigBuffer(s.encode(msg) as Uint8Array)) as PublishMessage;
    const plain = decode({
      type: MessageType.PUBLISH,
      request: 1,
      options: {},
      topic: "t",
      args: [Uint8Array.of(1), [{ deep: Uint8Array.of(2) }]],
      kwargs: { k: Uint8Array.of(3) },
    });
    // The decoders leave views: the frame's 4 MiB buffer.
    ok((plain.args![0] as Uint8Array).buffer.byteLength > 4 * 1024 * 1024);
    const history = new EventHistory();
    history.enable(1, 10);
    const pub = {
      id: 1,
      topic: "t",
      timestamp: 0,
      details: {},
      args: plain.args,
      kwargs: plain.kwargs,
    };
    history.append(1, pub as Publication);
    equal(history.bytes(1) > 0, true);
    const args = pub.args as [Uint8Array, { deep: Uint8Array }[]];
    equal(args[0].buffer.byteLength, 1);
    equal(args[1][0]!.deep.buffer.byteLength, 1);
    equal((pub.kwargs!.k as Uint8Array).buffer.byteLength, 1);
    // Payload passthru: the opaque payload stands where args goes.
    const opaque = s.decode(
      inBigBuffer(s.encode({
        type: MessageType.PUBLISH,
        request: 2,
        options: { enc_algo: "cryptobox" },
        topic: "t",
        payload: Uint8Array.of(4, 5),
      } as PublishMessage) as Uint8Array),
    ) as PublishMessage & { payload: Uint8Array };
    const ppt = { id: 2, topic: "t", timestamp: 0, details: {}, payload: opaque.payload };
    history.append(1, ppt as Publication);
    equal(ppt.payload.buffer.byteLength, 2);
    equal(ppt.payload[1], 5);
  });
}

for (const s of [msgpack, cbor]) {
  Deno.test(`${s.name}: a testament keeps binaries of its own`, () => {
    const call = s.decode(inBigBuffer(s.encode({
      type: MessageType.CALL,
      request: 1,
      options: {},
      procedure: MetaProcedure.SESSION_ADD_TESTAMENT,
      args: ["com.kept.will", [Uint8Array.of(7)], { k: [Uint8Array.of(8)] }],
    } as CallMessage) as Uint8Array)) as CallMessage;
    const testaments = new Testaments({} as MetaEvents, false);
    const caller = { id: 1, realm: "realm1", authid: "a", authrole: "r" } as SessionInfo;
    testaments.procedures()[MetaProcedure.SESSION_ADD_TESTAMENT]!(caller, call.args!, {});
    const [, args, kwargs] = call.args as [string, Uint8Array[], { k: Uint8Array[] }];
    equal(args[0]!.buffer.byteLength, 1);
    equal(kwargs.k[0]!.buffer.byteLength, 1);
    equal(kwargs.k[0]![0], 8);
  });
}
