/**
 * The client reads a router's handshake response within the limits a
 * router's request head has: 16 KiB and 100 header lines (a hostile
 * server's 4,000 short lines cost 20 ms, each appended to one name).
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { parseResponseHead } from "../../../transports/websocket/client.ts";
import { MAX_HEADER_LINES } from "../../../transports/stream/http.ts";

function head(lines: number): Uint8Array {
  const headers = Array.from({ length: lines }, (_, i) => `X-A: ${i}\r\n`).join("");
  return new TextEncoder().encode(`HTTP/1.1 101 Switching Protocols\r\n${headers}\r\n`);
}

Deno.test("parseResponseHead: up to MAX_HEADER_LINES header lines, not one more", () => {
  const parsed = parseResponseHead(head(MAX_HEADER_LINES));
  ok("head" in parsed);
  equal(parsed.head.headers.get("x-a")?.split(", ").length, MAX_HEADER_LINES);
  deepEqual(parseResponseHead(head(MAX_HEADER_LINES + 1)), { error: "too many header lines" });
});
