/**
 * What permessage-deflate costs per WebSocket message: compress and
 * inflate one EVENT's JSON (a small one and a 3 KB one), next to the
 * JSON encoding itself, and the bytes saved. Each message is compressed on
 * its own (no context takeover). Run: deno bench -A bench/deflate_bench.ts
 */

import { MessageType, serializers } from "../wamp/mod.ts";
import {
  deflateMessage,
  inflateMessage,
  negotiateDeflate,
} from "../transports/websocket/permessage_deflate.ts";

const { deflate } = negotiateDeflate("permessage-deflate", { threshold: 0 })!;
const utf8 = new TextEncoder();

for (
  const [label, args] of [
    ["small EVENT", ["hello", 42, { a: [1, 2, 3] }]],
    ["3 KB EVENT", [
      Array.from(
        { length: 64 },
        (_, i) => ({ id: i, name: `sensor-${i}`, value: i * 1.5, ok: true }),
      ),
    ]],
  ] as const
) {
  const event = {
    type: MessageType.EVENT,
    subscription: 1,
    publication: 2,
    details: {},
    args: [...args],
  };
  const bytes = utf8.encode(serializers.json.encode(event) as string);
  const compressed = deflateMessage(bytes, deflate);
  console.log(`${label}: ${bytes.length} B → ${compressed.length} B compressed`);
  Deno.bench({
    name: `JSON encode, ${label}`,
    group: label,
    baseline: true,
    fn: () => {
      utf8.encode(JSON.stringify([36, 1, 2, {}, args]));
    },
  });
  Deno.bench({
    name: `deflate, ${label}`,
    group: label,
    fn: () => {
      deflateMessage(bytes, deflate);
    },
  });
  Deno.bench({
    name: `inflate, ${label}`,
    group: label,
    fn: () => {
      inflateMessage(compressed, 16 * 1024 * 1024);
    },
  });
}
