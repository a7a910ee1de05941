import { deepEqual, equal, throws } from "node:assert/strict";
import {
  batchedSubprotocol,
  joinBatch,
  splitBatch,
  splitTextBatch,
} from "../../../transports/stream/batched.ts";
import { cbor, json, msgpack, ProtocolViolationError } from "../../../wamp/mod.ts";

const utf8 = new TextEncoder();
const text = new TextDecoder();

const VECTORS = new URL(
  "../../../../shared/wamp-vectors/generated-auth-transport.json",
  import.meta.url,
);

interface BatchedVector {
  subprotocol: string;
  messages?: string[];
  ws_payload_hex: string;
}

/** The "batched" vectors, or why they cannot be read. */
function loadVectors(): BatchedVector[] | string {
  try {
    const data = JSON.parse(Deno.readTextFileSync(VECTORS));
    return Array.isArray(data.batched) ? data.batched : "no batched key";
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return `${VECTORS.pathname} missing`;
    if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
      return "run with --allow-read to read ../shared/wamp-vectors";
    }
    throw error;
  }
}

const vectors = loadVectors();

/** The vector for a subprotocol. */
function vector(subprotocol: string): BatchedVector {
  if (typeof vectors === "string") throw new Error(`missing: ${vectors}`);
  const found = vectors.find((v) => v.subprotocol === subprotocol);
  if (found === undefined) throw new Error(`no vector for ${subprotocol}`);
  return found;
}

Deno.test("batchedSubprotocol() appends .batched", () => {
  deepEqual([json, msgpack, cbor].map(batchedSubprotocol), [
    "wamp.2.json.batched",
    "wamp.2.msgpack.batched",
    "wamp.2.cbor.batched",
  ]);
});

Deno.test("joinBatch() and splitTextBatch() match the JSON batched vector", () => {
  const v = vector("wamp.2.json.batched");
  const payload = Uint8Array.fromHex(v.ws_payload_hex);
  deepEqual(joinBatch(v.messages!.map((m) => utf8.encode(m)), false), payload);
  deepEqual(splitTextBatch(text.decode(payload)), v.messages);
  // Each message decodes with the JSON serializer.
  deepEqual(splitTextBatch(text.decode(payload)).map((m) => json.decode(m).type), [36, 17]);
});

Deno.test("joinBatch() and splitBatch() match the MessagePack batched vector", () => {
  const payload = Uint8Array.fromHex(vector("wamp.2.msgpack.batched").ws_payload_hex);
  const [only] = splitBatch(payload);
  deepEqual(msgpack.decode(only!), { type: 17, request: 1, publication: 2 });
  deepEqual(joinBatch([only!], true), payload);
});

Deno.test("joinBatch() and splitBatch() round-trip CBOR with a length prefix per message", () => {
  const messages = [
    cbor.encode({ type: 17, request: 1, publication: 2 }) as Uint8Array,
    (cbor.encode({ type: 17, request: 3, publication: 4 }) as Uint8Array).slice(),
  ];
  const payload = joinBatch(messages, true);
  equal(payload.length, messages[0]!.length + messages[1]!.length + 8);
  deepEqual(splitBatch(payload).map((m) => cbor.decode(m)), [
    { type: 17, request: 1, publication: 2 },
    { type: 17, request: 3, publication: 4 },
  ]);
});

Deno.test("splitBatch() and splitTextBatch() refuse empty and malformed batches", () => {
  for (
    const bad of [
      [],
      [0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 2, 0x90],
      [0, 0, 0, 1, 0x90, 0],
    ]
  ) throws(() => splitBatch(new Uint8Array(bad)), ProtocolViolationError, String(bad));
  for (const bad of ["", "[17,1,2]", "\u001e", "[17,1,2]\u001e\u001e", "\u001e[17,1,2]\u001e"]) {
    throws(() => splitTextBatch(bad), ProtocolViolationError, JSON.stringify(bad));
  }
});
