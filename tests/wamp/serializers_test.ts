import { deepEqual, equal, ok } from "node:assert/strict";
import { MessageType } from "../../wamp/message_type.ts";
import type { WampMessage } from "../../wamp/messages.ts";
import {
  binaryToJson,
  cbor,
  json,
  jsonToBinary,
  msgpack,
  serializerForSubprotocol,
  serializers,
} from "../../wamp/serializers/mod.ts";
import { plainBytes, runSerializerSuite } from "./serializer_suite.ts";

runSerializerSuite(json);
runSerializerSuite(msgpack);
runSerializerSuite(cbor);

// The spec's example (serialization_binary_json.md).
const BYTES_HEX = "10e3ff9053075c526f5fc06d4fe37cdb";
const BYTES = Uint8Array.fromHex(BYTES_HEX);
const JSON_STRING = "\\u0000EOP/kFMHXFJvX8BtT+N82w==";

// [36, 1, 2, {}, [<bytes>]]
const JSON_EVENT = `[36,1,2,{},["${JSON_STRING}"]]`;
const MSGPACK_EVENT = "9524010280" + "91c410" + BYTES_HEX;
const CBOR_EVENT = "85182401" + "02a0" + "8150" + BYTES_HEX;

const EVENT: WampMessage = {
  type: MessageType.EVENT,
  subscription: 1,
  publication: 2,
  details: {},
  args: [BYTES],
};

function hex(frame: string | Uint8Array): string {
  return (typeof frame === "string" ? new TextEncoder().encode(frame) : frame)
    .toHex();
}

Deno.test("serializers lists json, msgpack and cbor with their wire identities", () => {
  deepEqual(
    Object.values(serializers).map((
      s,
    ) => [s.name, s.subprotocol, s.binary, s.rawSocketId]),
    [
      ["json", "wamp.2.json", false, 1],
      ["msgpack", "wamp.2.msgpack", true, 2],
      ["cbor", "wamp.2.cbor", true, 3],
    ],
  );
});

Deno.test("serializerForSubprotocol() finds serializers by subprotocol", () => {
  equal(serializerForSubprotocol("wamp.2.json"), json);
  equal(serializerForSubprotocol("wamp.2.msgpack"), msgpack);
  equal(serializerForSubprotocol("wamp.2.cbor"), cbor);
  equal(serializerForSubprotocol("wamp.2.ubjson"), undefined);
  equal(serializerForSubprotocol("wamp.2.json.batched"), undefined);
});

Deno.test("json.encode() writes msgpack bin as a \\u0000-prefixed base64 string", () => {
  const msg = msgpack.decode(Uint8Array.fromHex(MSGPACK_EVENT));
  deepEqual(plainBytes(msg), EVENT);
  equal(json.encode(msg), JSON_EVENT);
});

Deno.test("json.encode() writes cbor byte strings as \\u0000-prefixed base64 strings", () => {
  const msg = cbor.decode(Uint8Array.fromHex(CBOR_EVENT));
  deepEqual(plainBytes(msg), EVENT);
  equal(json.encode(msg), JSON_EVENT);
});

Deno.test("msgpack.encode() writes a json \\u0000-prefixed string as bin", () => {
  const msg = json.decode(JSON_EVENT);
  deepEqual(msg, EVENT);
  equal(hex(msgpack.encode(msg)), MSGPACK_EVENT);
});

Deno.test("cbor.encode() writes a json \\u0000-prefixed string as a byte string", () => {
  const msg = json.decode(JSON_EVENT);
  const frame = cbor.encode(msg);
  ok(hex(frame).endsWith("8150" + BYTES_HEX), hex(frame));
  deepEqual(plainBytes(cbor.decode(frame)), EVENT);
});

Deno.test("json.encode() and decode() convert binary nested in kwargs and details", () => {
  const msg: WampMessage = {
    type: MessageType.CALL,
    request: 1,
    options: {},
    procedure: "com.myapp.store",
    args: ["plain", [BYTES]],
    kwargs: { blob: BYTES, list: [{ inner: BYTES }] },
  };
  const frame = json.encode(msgpack.decode(msgpack.encode(msg)));
  equal(typeof frame, "string");
  equal((frame as string).split(JSON_STRING).length - 1, 3);
  deepEqual(json.decode(frame), msg);
});

Deno.test("json.decode() leaves strings without a leading U+0000 alone", () => {
  deepEqual(
    json.decode('[36,1,2,{},["a\\u0000b","","EOP/kFMHXFJvX8BtT+N82w=="]]'),
    {
      type: MessageType.EVENT,
      subscription: 1,
      publication: 2,
      details: {},
      args: ["a\u0000b", "", "EOP/kFMHXFJvX8BtT+N82w=="],
    },
  );
});

Deno.test("json.decode() reads a lone U+0000 as empty bytes", () => {
  deepEqual(json.decode('[36,1,2,{},["\\u0000"]]'), {
    type: MessageType.EVENT,
    subscription: 1,
    publication: 2,
    details: {},
    args: [new Uint8Array(0)],
  });
});

Deno.test("binaryToJson() returns the same value when it holds no bytes", () => {
  const value = [1, "x", { a: [true] }];
  equal(binaryToJson(value), value);
});

Deno.test("binaryToJson() does not modify its input", () => {
  const value = { a: [BYTES] };
  deepEqual(binaryToJson(value), { a: ["\u0000EOP/kFMHXFJvX8BtT+N82w=="] });
  equal(value.a[0], BYTES);
});

Deno.test("jsonToBinary() converts in place", () => {
  const value = { a: ["\u0000EOP/kFMHXFJvX8BtT+N82w==", "text"] };
  equal(jsonToBinary(value), value);
  deepEqual(value, { a: [BYTES, "text"] });
});

Deno.test("cbor.encode() writes IDs above 2^32 as CBOR integers, not floats", () => {
  // PUBLISHED [17, 239714735, 4429313566], bytes from the wamp-proto testsuite.
  const msg: WampMessage = {
    type: MessageType.PUBLISHED,
    request: 239714735,
    publication: 4429313566,
  };
  equal(hex(cbor.encode(msg)), "83111a0e49c1af1b000000010801f61e");
  equal(
    hex(cbor.encode({ ...msg, publication: 2 ** 53 })),
    "83111a0e49c1af1b0020000000000000",
  );
});

Deno.test("cbor.decode() reads 64-bit CBOR integers as numbers", () => {
  deepEqual(
    cbor.decode(Uint8Array.fromHex("83111a0e49c1af1b000000010801f61e")),
    {
      type: MessageType.PUBLISHED,
      request: 239714735,
      publication: 4429313566,
    },
  );
  // [50, 1, {}, [-9129137332]]
  deepEqual(
    cbor.decode(
      Uint8Array.fromHex("841832" + "01a0" + "81" + "3b00000002202394b3"),
    ),
    {
      type: MessageType.RESULT,
      request: 1,
      details: {},
      args: [-9129137332],
    },
  );
});

Deno.test("msgpack.encode() writes IDs above 2^32 as uint64", () => {
  const msg: WampMessage = {
    type: MessageType.PUBLISHED,
    request: 239714735,
    publication: 4429313566,
  };
  equal(hex(msgpack.encode(msg)), "9311ce0e49c1afcf000000010801f61e");
});
