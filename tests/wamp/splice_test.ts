/**
 * Payloads passed through unchanged: a JSON PUBLISH's, CALL's or YIELD's
 * payload reaches JSON peers in the sender's own spelling (spliced, not
 * re-encoded), and any other message is encoded as before.
 */

import { deepEqual, equal } from "node:assert/strict";
import { json, MessageType, msgpack, type WampMessage } from "../../wamp/mod.ts";
import { spliceJson } from "../../wamp/serializers/json.ts";
import { spliceMsgpack } from "../../wamp/serializers/msgpack.ts";
import { jsonElementOffset } from "../../wamp/serializers/splice.ts";
import { encodeBytes } from "../../transports/stream/encode.ts";
import { rawWebSocket } from "../_helpers/raw_websocket.ts";
import { startRouter, within } from "../_helpers/router.ts";
import { connect, connectLocal } from "../../mod.ts";

const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);

Deno.test("jsonElementOffset() skips strings, escapes, nesting and whitespace", () => {
  const call = ' [ 48 ,\n7, {"a": ["]", "\\"}"], "b": {"c": 1}} , "p.q" ,[1]]';
  equal(call.slice(jsonElementOffset(call, 4)), "[1]]");
  equal(call.slice(jsonElementOffset(call, 3)), '"p.q" ,[1]]');
  equal(jsonElementOffset("[70,1]", 3), -1);
  equal(jsonElementOffset("{}", 1), -1);
});

Deno.test("an EVENT carrying a decoded PUBLISH's payload objects splices its JSON text", () => {
  // Long enough to be spliced (shorter text is encoded whole).
  const payload = `[1.50, "a\\"]b", {"k": [ ]}, "${"x".repeat(1024)}"], {"z": 1}`;
  const publish = json.decode(`[16, 1, {}, "t.x", ${payload}]`);
  if (publish.type !== MessageType.PUBLISH) throw new Error("not a PUBLISH");
  const event: WampMessage = {
    type: MessageType.EVENT,
    subscription: 5,
    publication: 6,
    details: { publisher: 3 },
    args: publish.args!,
    kwargs: publish.kwargs!,
  };
  equal(spliceJson(event), `[36,5,6,{"publisher":3},${payload}]`);
  // Another subscription's EVENT with the same payload: spliced too (the payload found once).
  equal(spliceJson({ ...event, subscription: 8 }), `[36,8,6,{"publisher":3},${payload}]`);
  equal(text(encodeBytes(json, event)), `[36,5,6,{"publisher":3},${payload}]`);
  // Same meaning as encoding it afresh; another serializer encodes it afresh.
  deepEqual(json.decode(text(encodeBytes(json, event))), json.decode(json.encode(event)));
  deepEqual(msgpack.decode(encodeBytes(msgpack, event)), event);
  // Other payload objects, or a payload that is not the decoded one: encoded as usual.
  equal(spliceJson({ ...event, args: [...publish.args!] }), undefined);
  equal(spliceJson({ ...event, kwargs: { z: 1 } }), undefined);
  const { kwargs: _, ...argsOnly } = event;
  equal(spliceJson(argsOnly as WampMessage), undefined);
});

Deno.test("a short spliced EVENT, INVOCATION or RESULT is the text json.encode writes", () => {
  const details = [{}, { publisher: 3, topic: "t.x" }, { x_bin: new Uint8Array([1, 2]) }, {
    procedure: "a.b",
    x_u: undefined,
    x_n: null,
  }];
  for (const spelled of ['[1.5, "a", {"k": []}]', '[1], {"z": [true]}']) {
    const call = json.decode(`[48, 9, {}, "a.b", ${spelled}]`);
    if (call.type !== MessageType.CALL) throw new Error("not a CALL");
    const payload = call.kwargs === undefined ? { args: call.args! } : {
      args: call.args!,
      kwargs: call.kwargs,
    };
    for (const d of details as Record<string, unknown>[]) {
      const messages: WampMessage[] = [
        {
          type: MessageType.EVENT,
          subscription: 2 ** 53,
          publication: 7,
          details: d,
          ...payload,
        },
        {
          type: MessageType.INVOCATION,
          request: 1,
          registration: 2 ** 52 + 1,
          details: d,
          ...payload,
        },
        { type: MessageType.RESULT, request: 12, details: d, ...payload },
      ];
      for (const msg of messages) equal(spliceJson(msg), json.encode(msg), JSON.stringify(msg));
    }
  }
});

Deno.test("payloads that toWire would write otherwise are never spliced", () => {
  for (
    const frame of [
      '[16,1,{},"t.x",[]]', // empty Arguments: dropped when encoded
      '[16,1,{},"t.x",[1],{}]', // empty ArgumentsKw: dropped
      '[16,1,{},"t.x",null,{"a":1}]', // null Arguments: written as []
      '[16,1,{},"t.x",[1],null]', // null ArgumentsKw
    ]
  ) {
    const msg = json.decode(frame);
    if (msg.type !== MessageType.PUBLISH) throw new Error("not a PUBLISH");
    const event = {
      type: MessageType.EVENT,
      subscription: 1,
      publication: 2,
      details: {},
      ...(msg.args === undefined ? {} : { args: msg.args }),
      ...(msg.kwargs === undefined ? {} : { kwargs: msg.kwargs }),
    } as WampMessage;
    equal(spliceJson(event), undefined, frame);
    equal(text(encodeBytes(json, event)), json.encode(event), frame);
  }
});

Deno.test("a MessagePack payload passes on as its bytes, unless it holds msgpackr's undefined", () => {
  // [16, 1, {}, "t", [1.0 as float 64], {"k": 1}]
  const payload = [0x91, 0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0x81, 0xa1, 0x6b, 0x01];
  const publish = msgpack.decode(Uint8Array.of(0x96, 0x10, 0x01, 0x80, 0xa1, 0x74, ...payload));
  if (publish.type !== MessageType.PUBLISH) throw new Error("not a PUBLISH");
  const event: WampMessage = {
    type: MessageType.EVENT,
    subscription: 5,
    publication: 6,
    details: {},
    args: publish.args!,
    kwargs: publish.kwargs!,
  };
  // Encoded afresh, 1.0 would become the integer 1: the float's bytes show the splice.
  deepEqual([...encodeBytes(msgpack, event)], [0x96, 0x24, 0x05, 0x06, 0x80, ...payload]);
  deepEqual(msgpack.decode(encodeBytes(msgpack, event)), event);
  equal(spliceMsgpack({ ...event, args: [1] }), undefined);
  // [16, 1, {}, "t", [undefined]]: encoded afresh (nil), not passed on as ext type 0.
  const odd = msgpack.decode(Uint8Array.of(0x95, 0x10, 0x01, 0x80, 0xa1, 0x74, 0x91, 0xd4, 0, 0));
  if (odd.type !== MessageType.PUBLISH) throw new Error("not a PUBLISH");
  const oddEvent: WampMessage = {
    type: MessageType.EVENT,
    subscription: 5,
    publication: 6,
    details: {},
    args: odd.args!,
  };
  equal(spliceMsgpack(oddEvent), undefined);
  deepEqual([...encodeBytes(msgpack, oddEvent)], [0x95, 0x24, 0x05, 0x06, 0x80, 0x91, 0xc0]);
});

/** A raw JSON WebSocket peer that sees the router's text exactly as sent. */
async function peer(url: string) {
  const ws = await rawWebSocket(url, ["wamp.2.json"]);
  const next = async (what: string): Promise<string> => {
    for (;;) {
      const frame = await within(ws.read(), 5000, what);
      if (frame.opcode === 1) return text(frame.payload);
    }
  };
  await ws.send('[1,"realm1",{"roles":{"publisher":{},"subscriber":{},"caller":{},"callee":{}}}]');
  equal(JSON.parse(await next("WELCOME"))[0], MessageType.WELCOME);
  return { ws, next };
}

Deno.test("over a real socket, EVENT, INVOCATION and RESULT carry the sender's JSON spelling", async () => {
  await using r = await startRouter();
  const url = r.listener.urls.websocket!;
  const sub = await peer(url);
  const pub = await peer(url);
  await sub.ws.send('[32,1,{},"t.x"]');
  equal(JSON.parse(await sub.next("SUBSCRIBED"))[0], MessageType.SUBSCRIBED);
  const long = "x".repeat(1024);
  const published = `[1.50, "a\\"]b", {"k": [ ]}], {"z": 1, "u": "é", "l": "${long}"}`;
  await pub.ws.send(`[16, 1, {"acknowledge": true}, "t.x", ${published}]`);
  const event = await sub.next("EVENT");
  equal(event.endsWith(`,${published}]`), true, event);
  const [type, , , details, args, kwargs] = JSON.parse(event);
  deepEqual([type, details, args, kwargs], [36, {}, [1.5, 'a"]b', { k: [] }], {
    z: 1,
    u: "é",
    l: long,
  }]);
  equal(JSON.parse(await pub.next("PUBLISHED"))[0], MessageType.PUBLISHED);

  await sub.ws.send('[64,2,{},"p.echo"]');
  equal(JSON.parse(await sub.next("REGISTERED"))[0], MessageType.REGISTERED);
  await pub.ws.send(`[48, 2, {}, "p.echo", [ 1, 2 ,3, "${long}" ]]`);
  const invocation = await sub.next("INVOCATION");
  equal(invocation.endsWith(`,[ 1, 2 ,3, "${long}" ]]`), true, invocation);
  const request = JSON.parse(invocation)[1];
  await sub.ws.send(`[70, ${request}, {}, [], {"sum":  6, "l": "${long}"}]`);
  const result = await pub.next("RESULT");
  equal(result, `[50,2,{},[], {"sum":  6, "l": "${long}"}]`);
  // A short payload is encoded whole, with the same meaning.
  await pub.ws.send('[48, 3, {}, "p.echo", [ 1, 2 ,3 ]]');
  const short = await sub.next("INVOCATION");
  equal(short.endsWith(",[1,2,3]]"), true, short);
  await sub.ws.send(`[70, ${JSON.parse(short)[1]}, {}, [], {"sum":  6}]`);
  equal(await pub.next("RESULT"), '[50,3,{},[],{"sum":6}]');
  // Text with \u escapes is encoded afresh: a duplicate key could hide what the checks never saw.
  await pub.ws.send('[16, 4, {}, "t.x", [1], {"u": "\\u0000AQI=", "d": "x", "d": "\\u00e9"}]');
  const escaped = await sub.next("EVENT");
  equal(escaped.endsWith(',[1],{"u":"\\u0000AQI=","d":"é"}]'), true, escaped);
  sub.ws.close();
  pub.ws.close();
});

Deno.test("a local callee that changes its args in place: the remote caller gets the changed values", async () => {
  await using r = await startRouter();
  const callee = await connectLocal(r.router, "realm1");
  await callee.register("p.double", (args) => {
    args[0] = Number(args[0]) * 2;
    return { args };
  });
  for (const serializer of ["json", "msgpack"] as const) {
    const caller = await connect(r.listener.urls.websocket!, {
      realm: "realm1",
      serializers: [serializer],
    });
    try {
      deepEqual((await caller.call("p.double", { args: [21] })).args, [42]);
    } finally {
      await caller.close();
    }
  }
  await callee.close();
});
