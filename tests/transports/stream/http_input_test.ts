import { deepEqual, equal, ok } from "node:assert/strict";
import { InputQueue } from "../../../transports/stream/http_server.ts";

const utf8 = new TextEncoder();

Deno.test("InputQueue finds heads and takes bodies the same whatever the chunking", () => {
  const requests = [
    "POST /lp/open HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
    "GET /ws HTTP/1.1\r\nHost: x\r\n\r\n",
    "POST /lp/a/send HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
  ];
  const stream = utf8.encode(requests.join(""));
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (const maxChunk of [1, 2, 3, 7, 100, 20_000]) {
    const input = new InputQueue();
    const got: string[] = [];
    let at = 0;
    let bodySize = -1;
    const drain = () => {
      for (;;) {
        if (bodySize < 0) {
          const head = input.headLength(8192);
          if (head < 0) return;
          const text = new TextDecoder().decode(input.take(head));
          got.push(text);
          bodySize = Number(text.match(/Content-Length: (\d+)/)?.[1] ?? 0);
        }
        if (input.length < bodySize) return;
        got.push(new TextDecoder().decode(input.take(bodySize)));
        bodySize = -1;
      }
    };
    while (at < stream.length) {
      const n = Math.max(1, Math.floor(next() * maxChunk));
      input.push(stream.slice(at, at + n));
      at += n;
      drain();
    }
    deepEqual(got.join(""), requests.join(""), `chunks up to ${maxChunk}`);
    equal(got.length, 6);
    equal(input.length, 0);
  }
});

Deno.test("InputQueue holds input dripped a byte at a time in blocks, not one array per byte", () => {
  const input = new InputQueue();
  const head = utf8.encode("POST /lp/a/send HTTP/1.1\r\nContent-Length: 1000000\r\n\r\n");
  for (const byte of head) input.push(Uint8Array.of(byte));
  equal(input.headLength(8192), head.length);
  input.take(head.length);
  const before = Deno.memoryUsage();
  for (let i = 0; i < 1_000_000; i++) input.push(Uint8Array.of(i & 0xff));
  const after = Deno.memoryUsage();
  const grown = after.heapUsed + after.external - before.heapUsed - before.external;
  // One Uint8Array per byte kept costs over 100 bytes each (> 100 MB here).
  ok(grown < 32 * 1024 * 1024, `${(grown / 1048576).toFixed(1)} MiB kept for 1 MB of input`);
  const body = input.take(1_000_000);
  equal(body.length, 1_000_000);
  equal(body[999_999], 999_999 & 0xff);
  equal(body[4321], 4321 & 0xff);
});
