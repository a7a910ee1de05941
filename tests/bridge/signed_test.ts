import { equal } from "node:assert/strict";
import { signRequest } from "../../bridge/auth.ts";
import { post, startBridge } from "./_bridge.ts";

const SIGNED = [{
  path: "/pub",
  type: "publisher",
  realm: "realm1",
  role: "app",
  auth: { key: "k1", secret: "s3cret", timestampDelta: 60 },
}];

/** The query string of a signed request for `body`. */
async function signed(
  body: string,
  nonce: number,
  { secret = "s3cret", at = Date.now(), key = "k1" } = {},
): Promise<string> {
  const timestamp = new Date(at).toISOString();
  const signature = await signRequest(
    secret,
    key,
    timestamp,
    "1",
    String(nonce),
    new TextEncoder().encode(body),
  );
  const q = new URLSearchParams({ key, timestamp, seq: "1", nonce: String(nonce), signature });
  return `?${q}`;
}

Deno.test("signed requests: success, bad signature, replay, timestamp skew, missing fields", async () => {
  await using t = await startBridge(SIGNED);
  const body = JSON.stringify({ topic: "com.example.signed", args: [1] });
  const nonce = Math.floor(Math.random() * 1e9);

  const ok = await post(`${t.base}/pub${await signed(body, nonce)}`, body);
  equal(ok.status, 202);
  equal(typeof ok.body.id, "number");

  const replay = await post(`${t.base}/pub${await signed(body, nonce)}`, body);
  equal(replay.status, 401);
  equal(replay.body.error, "wamp.error.authentication_failed");

  const badSecret = await post(
    `${t.base}/pub${await signed(body, nonce + 1, { secret: "no" })}`,
    body,
  );
  equal(badSecret.status, 401);
  const badKey = await post(`${t.base}/pub${await signed(body, nonce + 2, { key: "k2" })}`, body);
  equal(badKey.status, 401);

  // The body is signed: changing it breaks the signature.
  const tampered = await post(
    `${t.base}/pub${await signed(body, nonce + 3)}`,
    body.replace("1", "2"),
  );
  equal(tampered.status, 401);

  const skewed = await post(
    `${t.base}/pub${await signed(body, nonce + 4, { at: Date.now() - 120_000 })}`,
    body,
  );
  equal(skewed.status, 401);
  equal(String((skewed.body.args as string[])[0]).includes("timestamp"), true);

  const unsigned = await post(`${t.base}/pub`, body);
  equal(unsigned.status, 400);

  // A refused nonce was not spent: it still works once signed right.
  const later = await post(`${t.base}/pub${await signed(body, nonce + 1)}`, body);
  equal(later.status, 202);
});

Deno.test("signRequest matches Crossbar's recipe: urlsafe Base64 of HMAC-SHA256(key|ts|seq|nonce|body)", async () => {
  const { createHmac } = await import("node:crypto");
  const body = new TextEncoder().encode('{"topic":"com.myapp.topic1"}');
  const ts = "2026-12-04T16:59:51.123Z";
  const expected = createHmac("sha256", "secret1").update("key1" + ts + "7" + "123456").update(body)
    .digest("base64").replace(/\+/g, "-").replace(/\//g, "_");
  equal(await signRequest("secret1", "key1", ts, "7", "123456", body), expected);
});
