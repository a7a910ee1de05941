/**
 * The bridge decides on a request from its head, before the body is read:
 * a path's own `maxBodySize` (not the largest of the listener's), the
 * method and the bearer token. Raw sockets, so the body can be withheld.
 */

import { equal, match } from "node:assert/strict";
import { startBridge } from "./_bridge.ts";

const AUTH = { token: "t0ken" };
const BRIDGES = [
  { path: "/pub", type: "publisher", realm: "realm1", role: "app", auth: AUTH },
  { path: "/small", type: "publisher", realm: "realm1", role: "app", auth: AUTH, maxBodySize: 64 },
];

/** Sends `text` on a new connection and reads until `responses` whole response heads came (or it closed). */
async function exchange(port: number, text: string, responses = 1): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const decoder = new TextDecoder();
  let got = "";
  try {
    await conn.write(new TextEncoder().encode(text));
    const buffer = new Uint8Array(64 * 1024);
    const deadline = AbortSignal.timeout(3000);
    while (got.split("\r\n\r\n").length <= responses) {
      const read = conn.read(buffer);
      const n = await Promise.race([
        read,
        new Promise<"timeout">((resolve) =>
          deadline.addEventListener("abort", () => resolve("timeout"))
        ),
      ]);
      if (n === "timeout") throw new Error(`no whole answer in 3 s; got ${JSON.stringify(got)}`);
      if (n === null) break;
      got += decoder.decode(buffer.subarray(0, n));
    }
  } finally {
    conn.close();
  }
  return got;
}

function portOf(base: string): number {
  return Number(new URL(base).port);
}

Deno.test("a body over the path's own maxBodySize is refused from the head, its body never awaited", async () => {
  await using t = await startBridge(BRIDGES);
  // 1 MB: under the listener's largest limit (long-poll's 16 MiB), far over /small's 64 bytes.
  const answer = await exchange(
    portOf(t.base),
    "POST /small HTTP/1.1\r\nhost: x\r\nauthorization: Bearer t0ken\r\n" +
      "content-type: application/json\r\ncontent-length: 1000000\r\n\r\n",
  );
  match(answer, /^HTTP\/1\.1 413 /);
  match(answer, /cloverleaf\.error\.payload_size_exceeded/);
  match(answer, /connection: close/i);
});

Deno.test("a request without its bearer token, to no path or to the WebSocket path is refused from the head, its body never read", async () => {
  await using t = await startBridge(BRIDGES);
  const answer = await exchange(
    portOf(t.base),
    "POST /pub HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 5000\r\n\r\n",
  );
  match(answer, /^HTTP\/1\.1 401 /);
  match(answer, /wamp\.error\.authentication_failed/);
  match(answer, /connection: close/i);
  const nowhere = await exchange(
    portOf(t.base),
    "POST /nowhere HTTP/1.1\r\nhost: x\r\ncontent-length: 5000\r\n\r\n",
  );
  match(nowhere, /^HTTP\/1\.1 404 /);
  const notUpgrade = await exchange(
    portOf(t.base),
    "POST /ws HTTP/1.1\r\nhost: x\r\ncontent-length: 5000\r\n\r\n",
  );
  match(notUpgrade, /^HTTP\/1\.1 426 /);
});

Deno.test("a refusal of a request with no body keeps the connection for the next one", async () => {
  await using t = await startBridge(BRIDGES);
  const body = JSON.stringify({ topic: "com.example.kept" });
  const answer = await exchange(
    portOf(t.base),
    "GET /pub HTTP/1.1\r\nhost: x\r\nauthorization: Bearer t0ken\r\n\r\n" +
      "POST /pub HTTP/1.1\r\nhost: x\r\nauthorization: Bearer t0ken\r\n" +
      `content-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
    2,
  );
  match(answer, /^HTTP\/1\.1 405 /);
  equal(/HTTP\/1\.1 202 /.test(answer), true, answer);
});
