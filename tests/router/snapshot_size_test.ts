/**
 * A cluster snapshot's pieces are sized by a bound on their MessagePack
 * size, walked without building text.
 */

import { equal, ok } from "node:assert/strict";
import { Encoder } from "@msgpack/msgpack";
import { sizeOf } from "../../router/core/meta/snapshot_size.ts";

const packer = new Encoder();

Deno.test("sizeOf: at least the MessagePack size, bytes counted as bytes", () => {
  const values: unknown[] = [
    {
      session: 123456789012345,
      authid: "alice",
      authrole: "user",
      transport: { type: "websocket" },
    },
    { authextra: { pubkey: "ab".repeat(32), channel_binding: null, n: 1.5, ok: true } },
    ["é", "漢字", "\u{1F600}", "", [[], {}], -1, 2 ** 53],
    { bin: new Uint8Array(1000), list: Array.from({ length: 100 }, (_, i) => `x${i}`) },
  ];
  for (const value of values) {
    const packed = packer.encode(value).length;
    const bound = sizeOf(value);
    ok(bound >= packed, `${bound} < ${packed}`);
    ok(bound < packed * 12 + 64, `${bound} far over ${packed}`);
  }
  // A megabyte of binary is a megabyte and a little, not twelve as JSON text.
  // The outer dict, its key, the inner dict, its key, the bytes.
  const expected = 9 + (9 + 9) + 9 + (9 + 4) + 9 + (1 << 20);
  equal(sizeOf({ authextra: { blob: new Uint8Array(1 << 20) } }), expected);
});
