/**
 * The bridge decides on a request from its head, before the body is read:
 * a path's own `maxBodySize` (not the largest of the listener's), the
 * method and the bearer token. Raw sockets, so the body can be withheld.
 */

import { equal, match } from "node:assert/strict";
import { signRequest } from "../../bridge/auth.ts";
import { connectFrom, exchange, portOf, post, startBridge } from "./_bridge.ts";

const AUTH = { token: "t0ken" };
const BRIDGES = [
  { path: "/pub", type: "publisher", realm: "realm1", role: "app", auth: AUTH },
  { path: "/small", type: "publisher", realm: "realm1", role: "app", auth: AUTH, maxBodySize: 64 },
];

/** A signed path's key and secret. */
const SIGNED = { key: "app1", secret: "a-signing-secret-0123", timestampDelta: 300 };

/** A signed POST head with the public key, a current timestamp and a bad signature; its body never comes. */
function forgedHead(path: string, nonce: number): string {
  const signature = "x".repeat(43); // well formed, not the HMAC of the body to come
  const query = `key=app1&timestamp=${new Date().toISOString()}&seq=1&nonce=${nonce}` +
    `&signature=${signature}`;
  return `POST ${path}?${query} HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n{`;
}

/** `n` connections, each holding a forged head open (close them when done). */
async function holdForgedHeads(port: number, path: string, n: number): Promise<Deno.Conn[]> {
  const held: Deno.Conn[] = [];
  for (let i = 0; i < n; i++) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    held.push(conn);
    await conn.write(new TextEncoder().encode(forgedHead(path, i)));
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
  return held;
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

/** POSTs a publication to `path` with the bearer token; the status. */
async function publishStatus(base: string, path: string): Promise<number> {
  const response = await fetch(`${base}${path}`, {
    method: "POST",
    headers: { authorization: "Bearer t0ken", "content-type": "application/json" },
    body: JSON.stringify({ topic: "com.example.slot" }),
    signal: AbortSignal.timeout(5000),
  });
  await response.body?.cancel();
  return response.status;
}

/** Retries `status()` every 50 ms until it gives `expected` (then true), for at most 3 s. */
async function becomes(status: () => Promise<number>, expected: number): Promise<boolean> {
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline) {
    if (await status() === expected) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

Deno.test("maxInFlight counts a request from its head: one whose body drips holds its slot until its connection ends", async () => {
  await using t = await startBridge([
    { path: "/one", type: "publisher", realm: "realm1", role: "app", auth: AUTH, maxInFlight: 1 },
  ], { http: { bodyTimeout: 2000 } });
  const head = "POST /one HTTP/1.1\r\nhost: x\r\nauthorization: Bearer t0ken\r\n" +
    "content-type: application/json\r\ncontent-length: 1000\r\n\r\n{";
  // Admitted, its body never finishes: the path's one slot is taken from its head on.
  const dripping = await Deno.connect({ hostname: "127.0.0.1", port: portOf(t.base) });
  await dripping.write(new TextEncoder().encode(head));
  equal(await becomes(() => publishStatus(t.base, "/one"), 429), true, "never 429");
  dripping.close(); // gone before its body came: the slot is given back
  equal(await becomes(() => publishStatus(t.base, "/one"), 202), true, "slot not given back");

  // The same when the body times out (408) instead.
  const late = exchange(portOf(t.base), head);
  equal(await becomes(() => publishStatus(t.base, "/one"), 429), true, "never 429");
  match(await late, /^HTTP\/1\.1 408 /);
  equal(await becomes(() => publishStatus(t.base, "/one"), 202), true, "slot not given back");
});

Deno.test("a subscriber GET and a CORS preflight take no body: one announced gets 413 from the head", async () => {
  await using t = await startBridge([
    { path: "/events", type: "subscriber", realm: "realm1", role: "app", auth: AUTH },
    { ...BRIDGES[0], path: "/cors", cors: { origins: ["*"] } },
  ]);
  const get = await exchange(
    portOf(t.base),
    "GET /events?topic=com.example.x HTTP/1.1\r\nhost: x\r\nauthorization: Bearer t0ken\r\n" +
      "content-length: 5\r\n\r\n",
  );
  match(get, /^HTTP\/1\.1 413 /);
  match(get, /cloverleaf\.error\.payload_size_exceeded/);
  const preflight = await exchange(
    portOf(t.base),
    "OPTIONS /cors HTTP/1.1\r\nhost: x\r\norigin: https://a.example\r\n" +
      "access-control-request-method: POST\r\ncontent-length: 5\r\n\r\n",
  );
  match(preflight, /^HTTP\/1\.1 413 /);
  // Without a body, both are answered as before.
  match(
    await exchange(
      portOf(t.base),
      "OPTIONS /cors HTTP/1.1\r\nhost: x\r\norigin: https://a.example\r\n\r\n",
    ),
    /^HTTP\/1\.1 204 /,
  );
});

Deno.test("405 names the methods the path takes in Allow", async () => {
  await using t = await startBridge([
    ...BRIDGES,
    { path: "/events", type: "subscriber", realm: "realm1", role: "app", auth: AUTH },
    { ...BRIDGES[0], path: "/cors", cors: { origins: ["*"] } },
  ]);
  const cases: [method: string, path: string, allow: string][] = [
    ["GET", "/pub", "POST"],
    ["POST", "/events", "GET"],
    ["PUT", "/cors", "POST, OPTIONS"],
  ];
  for (const [method, path, allow] of cases) {
    const response = await fetch(`${t.base}${path}`, {
      method,
      headers: { authorization: "Bearer t0ken" },
      body: method === "GET" ? null : "{}",
    });
    await response.body?.cancel();
    equal(response.status, 405);
    equal(response.headers.get("allow"), allow);
  }
});

Deno.test("on a signed path, heads with the public key and a bad signature whose bodies never come hold no slot", async () => {
  await using t = await startBridge([
    {
      path: "/signed",
      type: "publisher",
      realm: "realm1",
      role: "app",
      auth: SIGNED,
      maxInFlight: 3,
    },
  ]);
  const held = await holdForgedHeads(portOf(t.base), "/signed", 3);
  try {
    const body = JSON.stringify({ topic: "com.example.news", args: ["hi"] });
    const target = await signRequest("/signed", { ...SIGNED, body });
    equal((await post(`${t.base}${target}`, body)).status, 202);
  } finally {
    for (const conn of held) conn.close();
  }
});

Deno.test("a signed request refused for want of a slot keeps its signature unspent", async () => {
  await using t = await startBridge([
    { path: "/s", type: "subscriber", realm: "realm1", role: "app", auth: SIGNED, maxInFlight: 1 },
  ]);
  // One SSE stream takes the only slot.
  const first = await signRequest("/s?topic=com.example.a", SIGNED);
  const stream = await fetch(`${t.base}${first}`, { signal: AbortSignal.timeout(5000) });
  equal(stream.status, 200);
  const second = await signRequest("/s?topic=com.example.b", { ...SIGNED, seq: 2 });
  const busy = await fetch(`${t.base}${second}`, { signal: AbortSignal.timeout(5000) });
  equal(busy.status, 429);
  await busy.body?.cancel();
  await stream.body?.cancel();
  // The slot is free again: the same signed request is taken now (its signature was not spent).
  let again: Response | undefined;
  for (let i = 0; i < 50; i++) {
    again = await fetch(`${t.base}${second}`, { signal: AbortSignal.timeout(5000) });
    if (again.status !== 429) break;
    await again.body?.cancel();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  equal(again!.status, 200);
  await again!.body?.cancel();
});

Deno.test("signed heads whose bodies are not verified yet are bounded per path (4 per slot)", async () => {
  await using t = await startBridge([
    { path: "/p", type: "publisher", realm: "realm1", role: "app", auth: SIGNED, maxInFlight: 1 },
  ]);
  const port = portOf(t.base);
  const held = await holdForgedHeads(port, "/p", 4);
  try {
    match(await exchange(port, forgedHead("/p", 9)), /^HTTP\/1\.1 429 /);
  } finally {
    for (const conn of held) conn.close();
  }
});

Deno.test("unverified signed heads from one source address are bounded (8), not another source's", async () => {
  await using t = await startBridge([
    { path: "/p", type: "publisher", realm: "realm1", role: "app", auth: SIGNED, maxInFlight: 10 },
  ]);
  const port = portOf(t.base);
  const held = await holdForgedHeads(port, "/p", 8);
  try {
    match(await exchange(port, forgedHead("/p", 9)), /^HTTP\/1\.1 429 /);
    // From 127.0.0.2, a signed request is let in and taken.
    const body = JSON.stringify({ topic: "com.example.news", args: ["hi"] });
    const target = await signRequest("/p", { ...SIGNED, body });
    match(await postFrom(port, "127.0.0.2", target, "", body), /^HTTP\/1\.1 202 /);
  } finally {
    for (const conn of held) conn.close();
  }
});

/** A POST to `path` sent whole, from `localAddress`; resolves with the raw answer. */
async function postFrom(
  port: number,
  localAddress: string,
  path: string,
  headers: string,
  body: string,
): Promise<string> {
  const { socket, ended } = await connectFrom(port, localAddress);
  socket.setTimeout(5000, () => socket.destroy());
  socket.write(
    `POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n${headers}` +
      `content-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
  );
  return await ended;
}

Deno.test("on open and bearer paths, heads from one source whose bodies never finish are bounded (maxPendingPerSource, 8), not another source's", async () => {
  const bearer = "authorization: Bearer t0ken\r\n";
  const common = { type: "publisher", realm: "realm1", role: "app" };
  await using t = await startBridge([
    { path: "/open", ...common, auth: "none" },
    { path: "/pub", ...common, auth: AUTH },
    { path: "/wide", ...common, auth: "none", maxPendingPerSource: 0 },
  ]);
  // With no per-source limit (behind a proxy that does not buffer bodies): 12, and a 13th.
  const slow: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 13; i++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: portOf(t.base) });
      slow.push(conn);
      await conn.write(
        new TextEncoder().encode(
          `POST /wide HTTP/1.1\r\nhost: x\r\ncontent-length: 65536\r\n\r\n{`,
        ),
      );
    }
    const body = JSON.stringify({ topic: "com.example.news", args: ["hi"] });
    match(await postFrom(portOf(t.base), "127.0.0.1", "/wide", "", body), /^HTTP\/1\.1 202 /);
  } finally {
    for (const conn of slow) conn.close();
  }
  const port = portOf(t.base);
  const body = JSON.stringify({ topic: "com.example.news", args: ["hi"] });
  for (const [path, headers] of [["/open", ""], ["/pub", bearer]] as const) {
    // A whole request body in each of 20 at once, from one source: none refused.
    const whole = Array.from(
      { length: 20 },
      () => postFrom(port, "127.0.0.1", path, headers, body),
    );
    for (const answer of await Promise.all(whole)) match(answer, /^HTTP\/1\.1 202 /);
    const held: Deno.Conn[] = [];
    try {
      for (let i = 0; i < 8; i++) {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        held.push(conn);
        await conn.write(
          new TextEncoder().encode(
            `POST ${path} HTTP/1.1\r\nhost: x\r\n${headers}content-length: 65536\r\n\r\n{`,
          ),
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      const ninth = await exchange(
        port,
        `POST ${path} HTTP/1.1\r\nhost: x\r\n${headers}content-length: 65536\r\n\r\n{`,
      );
      match(ninth, /^HTTP\/1\.1 429 /);
      match(ninth, /8 requests from your address still arriving/);
      // From 127.0.0.2 (another source), a request is let in and taken.
      match(await postFrom(port, "127.0.0.2", path, headers, body), /^HTTP\/1\.1 202 /);
    } finally {
      for (const conn of held) conn.close();
    }
    // The held requests gone, the first source is let in again.
    let answer = "";
    for (let i = 0; i < 50 && !answer.startsWith("HTTP/1.1 202"); i++) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 20));
      answer = await postFrom(port, "127.0.0.1", path, headers, body);
    }
    match(answer, /^HTTP\/1\.1 202 /);
  }
});
