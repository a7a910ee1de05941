/** Encode/decode cost per serializer for a typical EVENT. Run: deno task bench */

import { cbor, type EventMessage, json, MessageType, msgpack, type Serializer } from "../mod.ts";

const event: EventMessage = {
  type: MessageType.EVENT,
  subscription: 123456,
  publication: 7890123456789,
  details: {},
  args: ["hello", 42, { a: [1, 2, 3] }],
  kwargs: { k: "v" },
};

for (const s of [json, msgpack, cbor] as Serializer[]) {
  const frame = s.encode(event);
  Deno.bench({
    name: `${s.name} encode EVENT`,
    group: "encode",
    baseline: s.name === "json",
    fn() {
      // A fresh object each time, so the fan-out encode cache does not apply.
      s.encode({ ...event });
    },
  });
  Deno.bench({
    name: `${s.name} decode EVENT`,
    group: "decode",
    baseline: s.name === "json",
    fn() {
      s.decode(frame);
    },
  });
}
