/**
 * The long-poll service decides from a request's head (`LongPollService.admit`,
 * wired in `transports/listener.ts`): a request it refuses is answered before
 * its body arrives, and only a `send` may bring up to `maxMessageSize`. Over a
 * real listener on 127.0.0.1: each request announces a body it never sends, so
 * an answer proves nothing of the body was waited for.
 */

import { equal, match } from "node:assert/strict";
import { Router } from "../../../router/mod.ts";
import { listen } from "../../../transports/listener.ts";
import { within } from "../../_helpers/router.ts";

/** Sends a request head announcing `length` body bytes (none sent); returns the status line. */
async function headOnly(
  port: number,
  method: string,
  path: string,
  length: number,
  headers: Record<string, string> = {},
): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
    const head =
      `${method} ${path} HTTP/1.1\r\nhost: x\r\ncontent-length: ${length}\r\n${extra}\r\n`;
    await conn.write(new TextEncoder().encode(head));
    const buffer = new Uint8Array(4096);
    const read = await within(conn.read(buffer), 3000, `an answer to ${method} ${path}`);
    return new TextDecoder().decode(buffer.subarray(0, read ?? 0)).split("\r\n")[0]!;
  } finally {
    conn.close();
  }
}

Deno.test("long-poll admit(): refusals and body limits are decided from the head", async () => {
  const router = new Router({ realms: [{ name: "realm1" }], logger: () => {} });
  const lines: string[] = [];
  const listener = await listen(router, {
    log: (level, message) => void lines.push(`${level} ${message}`),
    hostname: "127.0.0.1",
    port: 0,
    websocket: false,
    longpoll: { allowedOrigins: ["https://app.example"], maxMessageSize: 1000 },
  });
  try {
    const { port } = listener.addr as Deno.NetAddr;
    const base = `http://127.0.0.1:${port}/lp`;
    const opened = await fetch(`${base}/open`, {
      method: "POST",
      body: JSON.stringify({ protocols: ["wamp.2.json"] }),
    });
    const { transport } = await opened.json();
    const big = 16 * 1024 * 1024; // within the long-poll default, over every limit here
    // An unknown transport, another method, a disallowed Origin: refused at once.
    match(await headOnly(port, "POST", "/lp/nosuch/send", 500), / 404 /);
    match(await headOnly(port, "PUT", `/lp/${transport}/send`, 500), / 405 /);
    match(
      await headOnly(port, "POST", `/lp/${transport}/send`, 500, {
        origin: "https://evil.example",
      }),
      / 403 /,
    );
    match(lines.join("\n"), /Long-poll request from tcp4:127\.0\.0\.1:\d+ refused \(403\): Origin/);
    // Bodies: open takes a little, receive and close none, send up to maxMessageSize.
    match(await headOnly(port, "POST", "/lp/open", big), / 413 /);
    match(await headOnly(port, "POST", `/lp/${transport}/receive`, 1), / 413 /);
    match(await headOnly(port, "POST", `/lp/${transport}/close`, 1), / 413 /);
    match(await headOnly(port, "POST", `/lp/${transport}/send`, 1001), / 413 /);
    // What is admitted still works.
    const closed = await fetch(`${base}/${transport}/close`, { method: "POST" });
    equal(closed.status, 204);
    match(await headOnly(port, "POST", `/lp/${transport}/receive`, 0), / 404 /);
  } finally {
    await listener.close();
    await router.close();
  }
});
