import { deepEqual, equal, ok } from "node:assert/strict";
import {
  acceptKey,
  CloseCode,
  closePayload,
  encodeFrame,
  encodeTextFrame,
  FrameParser,
  type FrameParserOptions,
  Opcode,
  parseClosePayload,
  validCloseCode,
} from "../../../transports/websocket/framing.ts";

type Event =
  | { message: string | number[]; text: boolean; compressed: boolean }
  | { control: number; payload: number[] }
  | { error: number; reason: string };

const utf8 = new TextEncoder();
const text = new TextDecoder();

function collect(
  options: Partial<FrameParserOptions> = {},
): { parser: FrameParser; events: Event[] } {
  const events: Event[] = [];
  const parser = new FrameParser({
    message: (isText, payload, compressed) =>
      events.push({
        message: isText ? text.decode(payload) : [...payload],
        text: isText,
        compressed,
      }),
    control: (opcode, payload) => events.push({ control: opcode, payload: [...payload] }),
    error: (code, reason) => events.push({ error: code, reason }),
  }, { masked: true, maxMessageSize: 1 << 20, ...options });
  return { parser, events };
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A frame header built by hand: FIN/RSV/opcode byte, then the length bytes. */
function rawHeader(b0: number, length: number, mask?: number[]): Uint8Array {
  const bytes = [b0];
  const m = mask === undefined ? 0 : 0x80;
  if (length < 126) bytes.push(m | length);
  else if (length < 65536) bytes.push(m | 126, length >> 8, length & 0xff);
  else {
    bytes.push(m | 127, 0, 0, 0, 0);
    bytes.push(
      (length >>> 24) & 0xff,
      (length >>> 16) & 0xff,
      (length >>> 8) & 0xff,
      length & 0xff,
    );
  }
  if (mask !== undefined) bytes.push(...mask);
  return new Uint8Array(bytes);
}

Deno.test("acceptKey() matches the RFC 6455 example", () => {
  equal(acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
});

Deno.test("encodeFrame() matches the RFC 6455 §5.7 examples", () => {
  // A single-frame unmasked text message "Hello".
  deepEqual(
    encodeFrame(Opcode.TEXT, utf8.encode("Hello")),
    new Uint8Array([0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]),
  );
  // Unmasked ping "Hello".
  deepEqual(
    encodeFrame(Opcode.PING, utf8.encode("Hello")),
    new Uint8Array([0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]),
  );
  // 256 bytes binary: 16-bit length; 65536 bytes: 64-bit length.
  deepEqual([...encodeFrame(Opcode.BINARY, new Uint8Array(256)).subarray(0, 4)], [
    0x82,
    0x7e,
    0x01,
    0x00,
  ]);
  deepEqual([...encodeFrame(Opcode.BINARY, new Uint8Array(65536)).subarray(0, 10)], [
    0x82,
    0x7f,
    0,
    0,
    0,
    0,
    0,
    1,
    0,
    0,
  ]);
  // RSV1 and FIN=0.
  equal(encodeFrame(Opcode.TEXT, new Uint8Array(1), { compressed: true })[0], 0xc1);
  equal(encodeFrame(Opcode.TEXT, new Uint8Array(1), { fin: false })[0], 0x01);
});

Deno.test("FrameParser parses the RFC 6455 §5.7 masked example", () => {
  const { parser, events } = collect();
  parser.push(new Uint8Array([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]));
  deepEqual(events, [{ message: "Hello", text: true, compressed: false }]);
});

Deno.test("FrameParser parses the RFC 6455 §5.7 fragmented unmasked example", () => {
  const { parser, events } = collect({ masked: false });
  parser.push(new Uint8Array([0x01, 0x03, 0x48, 0x65, 0x6c]));
  parser.push(new Uint8Array([0x80, 0x02, 0x6c, 0x6f]));
  deepEqual(events, [{ message: "Hello", text: true, compressed: false }]);
});

Deno.test("FrameParser round-trips masked frames of every length form, byte by byte", () => {
  for (const size of [0, 1, 5, 125, 126, 127, 65535, 65536, 70000]) {
    const payload = new Uint8Array(size).map((_, i) => (i * 7) & 0xff);
    const frame = encodeFrame(Opcode.BINARY, payload, { mask: true });
    for (const step of size > 1000 ? [1, 4093, frame.length] : [1, 3, frame.length]) {
      const { parser, events } = collect();
      const copy = frame.slice(); // the parser unmasks in place
      for (let at = 0; at < copy.length; at += step) parser.push(copy.subarray(at, at + step));
      equal(events.length, 1, `size ${size}, step ${step}`);
      deepEqual(events[0], { message: [...payload], text: false, compressed: false });
    }
  }
});

Deno.test("FrameParser parses several frames in one chunk, with control frames between fragments", () => {
  const { parser, events } = collect();
  const chunk = concat(
    encodeFrame(Opcode.TEXT, utf8.encode("ab"), { mask: true, fin: false }),
    encodeFrame(Opcode.PING, utf8.encode("p"), { mask: true }),
    encodeFrame(Opcode.CONTINUATION, utf8.encode("cd"), { mask: true, fin: false }),
    encodeFrame(Opcode.CONTINUATION, utf8.encode("e"), { mask: true }),
    encodeFrame(Opcode.BINARY, new Uint8Array([1, 2]), { mask: true }),
    encodeFrame(Opcode.CLOSE, closePayload(1000, "bye"), { mask: true }),
  );
  parser.push(chunk);
  deepEqual(events, [
    { control: Opcode.PING, payload: [0x70] },
    { message: "abcde", text: true, compressed: false },
    { message: [1, 2], text: false, compressed: false },
    { control: Opcode.CLOSE, payload: [...closePayload(1000, "bye")] },
  ]);
});

Deno.test("FrameParser keeps fragments intact when the chunks they came in are reused", () => {
  const { parser, events } = collect();
  const first = encodeFrame(Opcode.TEXT, utf8.encode("abc"), { mask: true, fin: false });
  parser.push(first);
  first.fill(0);
  parser.push(encodeFrame(Opcode.CONTINUATION, utf8.encode("def"), { mask: true }));
  deepEqual(events, [{ message: "abcdef", text: true, compressed: false }]);
});

Deno.test("FrameParser reports RSV1 as compressed only when compression is on", () => {
  const frame = () => encodeFrame(Opcode.TEXT, utf8.encode("x"), { mask: true, compressed: true });
  const on = collect({ compression: true });
  on.parser.push(frame());
  deepEqual(on.events, [{ message: "x", text: true, compressed: true }]);
  const off = collect();
  off.parser.push(frame());
  deepEqual(off.events, [{ error: 1002, reason: "RSV1 set without compression" }]);
  const continuation = collect({ compression: true });
  continuation.parser.push(concat(
    encodeFrame(Opcode.TEXT, utf8.encode("x"), { mask: true, compressed: true, fin: false }),
    encodeFrame(Opcode.CONTINUATION, utf8.encode("y"), { mask: true, compressed: true }),
  ));
  deepEqual(continuation.events, [{ error: 1002, reason: "RSV1 set on a continuation" }]);
});

Deno.test("FrameParser refuses protocol errors with 1002 and stops", () => {
  const mask = [1, 2, 3, 4];
  const cases: [string, Uint8Array, boolean?][] = [
    ["unmasked client frame", rawHeader(0x81, 0), true],
    ["masked server frame", rawHeader(0x81, 0, mask), false],
    ["RSV2", rawHeader(0xa1, 0, mask)],
    ["RSV3", rawHeader(0x91, 0, mask)],
    ["reserved data opcode 3", rawHeader(0x83, 0, mask)],
    ["reserved control opcode 0xB", rawHeader(0x8b, 0, mask)],
    ["fragmented ping", rawHeader(0x09, 0, mask)],
    ["control frame of 126 bytes", concat(rawHeader(0x89, 126, mask), new Uint8Array(126))],
    ["continuation first", rawHeader(0x80, 0, mask)],
    [
      "text inside a fragmented message",
      concat(rawHeader(0x01, 0, mask), rawHeader(0x81, 0, mask)),
    ],
    [
      "64-bit length with the top bit",
      new Uint8Array([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4]),
    ],
  ];
  for (const [name, bytes, masked] of cases) {
    const { parser, events } = collect({ masked: masked ?? true });
    parser.push(bytes.slice());
    parser.push(encodeFrame(Opcode.TEXT, utf8.encode("after"), { mask: masked ?? true }));
    equal(events.length, 1, name);
    equal((events[0] as { error: number }).error, CloseCode.PROTOCOL_ERROR, name);
  }
});

Deno.test("FrameParser refuses an oversize message from the frame header alone", () => {
  const { parser, events } = collect({ maxMessageSize: 1000 });
  // Only the header of a 2^40-byte frame: refused before any payload.
  parser.push(new Uint8Array([0x82, 0xff, 0, 0, 1, 0, 0, 0, 0, 0, 1, 2, 3, 4]));
  deepEqual(events, [{ error: 1009, reason: "message over 1000 bytes" }]);

  // Fragments adding up to more than the limit: refused at the fragment's header.
  const fragmented = collect({ maxMessageSize: 1000 });
  fragmented.parser.push(
    encodeFrame(Opcode.BINARY, new Uint8Array(600), { mask: true, fin: false }),
  );
  fragmented.parser.push(rawHeader(0x80, 600, [0, 0, 0, 0]));
  deepEqual(fragmented.events, [{ error: 1009, reason: "message over 1000 bytes" }]);

  // Exactly at the limit is fine; control frames do not count.
  const exact = collect({ maxMessageSize: 1000 });
  exact.parser.push(encodeFrame(Opcode.BINARY, new Uint8Array(1000), { mask: true }));
  equal(exact.events.length, 1);
  ok("message" in exact.events[0]!);
});

Deno.test("closePayload() and parseClosePayload() handle codes and reasons", () => {
  deepEqual(parseClosePayload(closePayload(1000, "bye")), { code: 1000, reason: "bye" });
  deepEqual(parseClosePayload(new Uint8Array()), { code: 1005, reason: "" });
  equal((parseClosePayload(new Uint8Array([3])) as { error: number }).error, 1002);
  equal((parseClosePayload(closePayload(999)) as { error: number }).error, 1002);
  equal((parseClosePayload(closePayload(1006)) as { error: number }).error, 1002);
  equal((parseClosePayload(closePayload(5000)) as { error: number }).error, 1002);
  deepEqual(parseClosePayload(closePayload(4000, "app")), { code: 4000, reason: "app" });
  const badUtf8 = new Uint8Array([0x03, 0xe8, 0xff, 0xfe]);
  equal((parseClosePayload(badUtf8) as { error: number }).error, 1007);
  // A long reason is cut to fit a control frame, never inside a character.
  const long = closePayload(1000, "é".repeat(100));
  ok(long.length <= 125);
  equal((parseClosePayload(long) as { reason: string }).reason, "é".repeat(61));
  for (const code of [1000, 1001, 1002, 1003, 1007, 1011, 1014, 3000, 4999]) {
    ok(validCloseCode(code));
  }
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000]) ok(!validCloseCode(code));
});

Deno.test("encodeFrame() masks with a fresh key per frame", () => {
  const payload = utf8.encode("same payload");
  const a = encodeFrame(Opcode.TEXT, payload, { mask: true });
  const b = encodeFrame(Opcode.TEXT, payload, { mask: true });
  equal(a[1]! & 0x80, 0x80);
  ok(!a.subarray(2, 6).every((v, i) => v === b[2 + i]), "keys differ");
  deepEqual(payload, utf8.encode("same payload"), "the input is not modified");
});

Deno.test("FrameParser reads the RFC 7692 §7.2.3.1 compressed frame", () => {
  const got: [boolean, number[], boolean][] = [];
  const parser = new FrameParser({
    message: (isText, payload, compressed) => got.push([isText, [...payload], compressed]),
    control: () => {},
    error: (code) => got.push([false, [code], false]),
  }, { masked: false, maxMessageSize: 100, compression: true });
  parser.push(new Uint8Array([0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]));
  deepEqual(got, [[true, [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00], true]]);
});

Deno.test("FrameParser reassembles 1,000,000 one-byte fragments without keeping one object per fragment", () => {
  const FRAGMENTS = 1_000_000;
  let got: Uint8Array | undefined;
  const parser = new FrameParser({
    message: (_text, payload) => got = payload.slice(),
    control: () => {},
    error: (code, reason) => {
      throw new Error(`${code} ${reason}`);
    },
  }, { masked: false, maxMessageSize: 16 << 20 });
  // Unmasked server frames keep the test cheap: [b0, 1, byte] each.
  const frames = new Uint8Array(FRAGMENTS * 3);
  for (let i = 0; i < FRAGMENTS; i++) {
    frames[i * 3] = i === 0 ? 0x02 : i === FRAGMENTS - 1 ? 0x80 : 0x00;
    frames[i * 3 + 1] = 1;
    frames[i * 3 + 2] = i & 0xff;
  }
  const before = Deno.memoryUsage();
  parser.push(frames.subarray(0, frames.length - 3)); // all but the last fragment
  const after = Deno.memoryUsage();
  const grown = after.heapUsed + after.external - before.heapUsed - before.external;
  // One Uint8Array per fragment costs over 100 bytes each (> 100 MB here).
  ok(grown < 32 * 1024 * 1024, `${(grown / 1048576).toFixed(1)} MiB kept for 1 MB of payload`);
  parser.push(frames.subarray(frames.length - 3));
  equal(got?.length, FRAGMENTS);
  equal(got![FRAGMENTS - 1], (FRAGMENTS - 1) & 0xff);
  equal(got![12345], 12345 & 0xff);
});

Deno.test("FrameParser reads a large masked frame split into chunks of any size", () => {
  const payload = new Uint8Array(300_000).map((_, i) => (i * 7) & 0xff);
  const frame = encodeFrame(Opcode.BINARY, payload, { mask: true });
  for (const size of [1, 3, 1000, 65_537, 299_999]) {
    let got: Uint8Array | undefined;
    const parser = new FrameParser({
      message: (_text, p) => got = p.slice(),
      control: () => {},
      error: (code, reason) => {
        throw new Error(`${code} ${reason}`);
      },
    }, { masked: true, maxMessageSize: 1 << 20 });
    const copy = frame.slice(); // the parser unmasks in place
    for (let at = 0; at < copy.length; at += size) parser.push(copy.subarray(at, at + size));
    deepEqual(got, payload, `chunks of ${size}`);
  }
});

Deno.test("encodeTextFrame: the same bytes as encodeFrame over UTF-8, at every length boundary, or undefined", () => {
  for (const char of ["x", "é", "€", "😀", "\ud800"]) {
    for (const n of [0, 1, 41, 42, 125, 126, 681, 682, 1000, 2043, 2044, 2047, 2048, 3000]) {
      const text = char.repeat(n);
      const bytes = new TextEncoder().encode(text);
      const frame = encodeTextFrame(text);
      if (bytes.length + 4 >= 2048 || frame === undefined) {
        equal(frame === undefined, bytes.length + 4 >= 2048, `${char} x ${n}`);
        continue;
      }
      deepEqual(frame, encodeFrame(Opcode.TEXT, bytes), `${char} x ${n}`);
    }
  }
});

Deno.test("FrameParser asks admit at each data frame's header, with the message's bytes so far", () => {
  const asked: number[] = [];
  const got: unknown[] = [];
  const refusal = new Error("too much for now");
  const parser = new FrameParser({
    message: (_text, payload) => got.push(payload.length),
    control: () => {},
    error: (code, reason, error) => got.push([code, reason, error]),
  }, {
    masked: false,
    maxMessageSize: 1000,
    admit: (bytes) => (asked.push(bytes), bytes > 10 ? refusal : undefined),
  });
  parser.push(encodeFrame(Opcode.BINARY, new Uint8Array(10)));
  // A fragmented message: 6 bytes, then a continuation's header announcing 500 more.
  parser.push(new Uint8Array([0x02, 6, 0, 0, 0, 0, 0, 0, 0x80, 126, 0x01, 0xf4]));
  deepEqual(asked, [10, 6, 506]);
  deepEqual(got, [10, [CloseCode.TOO_BIG, "too much for now", refusal]]);
  parser.push(encodeFrame(Opcode.BINARY, new Uint8Array(1)));
  equal(got.length, 2, "stopped");
});
