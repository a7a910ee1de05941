import { equal, match } from "node:assert/strict";
import { signRequest } from "../../bridge/auth.ts";
import { exchange, portOf, post, startBridge } from "./_bridge.ts";

const SIGNED = [{
  path: "/pub",
  type: "publisher",
  realm: "realm1",
  role: "app",
  auth: { key: "k1", secret: "s3cret", timestampDelta: 60 },
}];

/** A signed SSE subscriber path, same key and secret. */
const EVENTS = [{ ...SIGNED[0], path: "/events", type: "subscriber" }];

/** The signed target of a POST of `body` to /pub. */
function signed(
  body: string,
  nonce: number,
  { secret = "s3cret", at = Date.now(), key = "k1" } = {},
): Promise<string> {
  return signRequest("/pub", { key, secret, body, nonce, now: at });
}

Deno.test("signed requests: success, bad signature, replay, timestamp skew, missing fields", async () => {
  await using t = await startBridge(SIGNED);
  const body = JSON.stringify({ topic: "com.example.signed", args: [1] });
  const nonce = Math.floor(Math.random() * 1e9);

  const target = await signed(body, nonce);
  const ok = await post(`${t.base}${target}`, body);
  equal(ok.status, 202);
  equal(typeof ok.body.id, "number");

  const replay = await post(`${t.base}${target}`, body);
  equal(replay.status, 401);
  equal(replay.body.error, "wamp.error.authentication_failed");

  const badSecret = await post(
    `${t.base}${await signed(body, nonce + 1, { secret: "no" })}`,
    body,
  );
  equal(badSecret.status, 401);
  const badKey = await post(`${t.base}${await signed(body, nonce + 2, { key: "k2" })}`, body);
  equal(badKey.status, 401);

  // The body is signed: changing it breaks the signature.
  const tampered = await post(
    `${t.base}${await signed(body, nonce + 3)}`,
    body.replace("1", "2"),
  );
  equal(tampered.status, 401);

  const skewed = await post(
    `${t.base}${await signed(body, nonce + 4, { at: Date.now() - 120_000 })}`,
    body,
  );
  equal(skewed.status, 401);
  equal(String((skewed.body.args as string[])[0]).includes("timestamp"), true);

  const unsigned = await post(`${t.base}/pub`, body);
  equal(unsigned.status, 400);
  // Not an HMAC-SHA256 in base64: refused from the head (12,000 "=" cost /=+$/ 0.1 s).
  const malformed = await post(
    `${t.base}${target.replace(/signature=.*$/, `signature=${"=".repeat(12_000)}x`)}`,
    body,
  );
  equal(malformed.status, 400);
  match(String((malformed.body.args as string[])[0]), /signature must be/);

  // A refused nonce was not spent: it still works once signed right.
  const later = await post(`${t.base}${await signed(body, nonce + 1)}`, body);
  equal(later.status, 202);
});

Deno.test("signRequest: a POST is signed as Crossbar signs it, HMAC-SHA256(key + timestamp + seq + nonce + body)", async () => {
  const { createHmac } = await import("node:crypto");
  const body = '{"topic":"com.myapp.topic1"}';
  const now = Date.parse("2026-12-04T16:59:51.123Z");
  const target = await signRequest("/api/pub?x=1", {
    key: "key1",
    secret: "secret1",
    body,
    seq: 7,
    nonce: 123456,
    now,
  });
  const unsigned = "/api/pub?x=1&key=key1&timestamp=2026-12-04T16:59:51.123Z&seq=7&nonce=123456";
  const expected = createHmac("sha256", "secret1")
    .update("key1" + "2026-12-04T16:59:51.123Z" + "7" + "123456" + body)
    .digest("base64").replace(/\+/g, "-").replace(/\//g, "_");
  equal(target, `${unsigned}&signature=${expected}`);
  // A GET (no body): the target stands in for the body.
  const get = await signRequest("/api/events?topic=t", { key: "key1", secret: "secret1", now });
  const getTarget = get.slice(0, get.indexOf("&signature="));
  const nonce = new URL(get, "http://x").searchParams.get("nonce");
  const getExpected = createHmac("sha256", "secret1")
    .update("key1" + "2026-12-04T16:59:51.123Z" + "1" + nonce + getTarget)
    .digest("base64").replace(/\+/g, "-").replace(/\//g, "_");
  equal(get, `${getTarget}&signature=${getExpected}`);
});

Deno.test("a signed GET's query is signed: a captured subscriber request with its topic swapped gets 401", async () => {
  await using t = await startBridge(EVENTS);
  const target = await signRequest("/events?topic=com.example.public", {
    key: "k1",
    secret: "s3cret",
  });
  const swapped = target.replace("com.example.public", "com.example.secret");
  const refused = await fetch(`${t.base}${swapped}`, { signal: AbortSignal.timeout(5000) });
  equal(refused.status, 401);
  equal((await refused.json()).error, "wamp.error.authentication_failed");
  // Moved to another path, or with a parameter added, it is refused too.
  const added = await fetch(`${t.base}${target.replace("?", "?match=prefix&")}`);
  equal(added.status, 401);
  await added.body?.cancel();

  const stream = await fetch(`${t.base}${target}`, { signal: AbortSignal.timeout(5000) });
  equal(stream.status, 200);
  const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes(": subscribed")) text += (await reader.read()).value ?? "";
  await reader.cancel();
});

Deno.test("the secret's HMAC key is imported once per key and secret, not per request or path", async () => {
  const subtle = crypto.subtle;
  const importKey = subtle.importKey;
  let imports = 0;
  subtle.importKey = function (...args: Parameters<typeof importKey>) {
    imports++;
    return importKey.apply(subtle, args);
  } as typeof importKey;
  try {
    await using t = await startBridge([...SIGNED, { ...SIGNED[0], path: "/pub2" }]);
    const body = JSON.stringify({ topic: "com.example.signed" });
    const base = Math.floor(Math.random() * 1e9);
    const targets = await Promise.all([0, 1, 2, 3, 4].map((i) => signed(body, base + i)));
    const before = imports;
    for (const [i, target] of targets.entries()) {
      const to = i % 2 === 0 ? target : target.replace("/pub?", "/pub2?");
      equal((await post(`${t.base}${to}`, body)).status, 202);
    }
    equal(imports - before, 1);
  } finally {
    subtle.importKey = importKey;
  }
});

Deno.test("a GET's signature covers its target after WHATWG URL parsing (docs/http-bridge.md), not as sent", async () => {
  const { createHmac } = await import("node:crypto");
  await using t = await startBridge(EVENTS);
  /** `sent` signed by hand over `covered`, as a client following the doc would. */
  const signedOver = (sent: string, covered: string, nonce: number) => {
    const ts = new Date().toISOString();
    const fields = `&key=k1&timestamp=${ts}&seq=1&nonce=${nonce}`;
    const signature = createHmac("sha256", "s3cret").update(`k1${ts}1${nonce}${covered}${fields}`)
      .digest("base64").replace(/\+/g, "-").replace(/\//g, "_");
    return `${sent}${fields}&signature=${signature}`;
  };
  // Sent as is on a raw socket (fetch would parse it first).
  const sent = "/x/../events?topic=com.example.n&note=a<b";
  const parsed = "/events?topic=com.example.n&note=a%3Cb"; // new URL(sent, base)
  const get = (target: string) =>
    exchange(portOf(t.base), `GET ${target} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`);
  match(await get(signedOver(sent, sent, 1)), /^HTTP\/1\.1 401 /);
  match(await get(signedOver(sent, parsed, 2)), /^HTTP\/1\.1 200 /);
});
