/**
 * A signed request is taken once by the whole bridge: the memory of used
 * ones is keyed on the signature (what is signed, not how the query spells
 * it) and shared by every path of the same key and secret, whatever the
 * method. Signed parameters are each given once.
 */

import { deepEqual, equal } from "node:assert/strict";
import { RequestAuth, requestAuths, signRequest } from "../../bridge/auth.ts";
import { SigningKey } from "../../bridge/signing_key.ts";
import type { BridgeAuth } from "../../bridge/config.ts";
import { post, startBridge } from "./_bridge.ts";

const AUTH = { key: "k1", secret: "s3cret", timestampDelta: 60 };
const USED = "signature already used (replayed request)";
const BODY = JSON.stringify({ topic: "com.example.signed", args: [1] });

Deno.test("moving digits between seq and nonce signs the same bytes: refused as a replay", async () => {
  await using t = await startBridge([
    { path: "/pub", type: "publisher", realm: "realm1", role: "app", auth: AUTH },
  ]);
  const target = await signRequest("/pub", { ...AUTH, body: BODY, seq: 1, nonce: 42 });
  equal((await post(`${t.base}${target}`, BODY)).status, 202);
  const moved = target.replace("&seq=1&nonce=42&", "&seq=14&nonce=2&");
  equal(moved === target, false);
  const replay = await post(`${t.base}${moved}`, BODY);
  equal(replay.status, 401);
  equal(replay.body.error, "wamp.error.authentication_failed");
  deepEqual(replay.body.args, [USED]);
  // Another spelling of the same signature (standard Base64, no padding) is the same signature.
  const respelled = target.replace(
    /signature=(.*)$/,
    (_, sig: string) => `signature=${sig.replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "")}`,
  );
  deepEqual((await post(`${t.base}${respelled.replace(/\+/g, "%2B")}`, BODY)).body.args, [USED]);
});

Deno.test("a signed parameter given twice is refused with 400", async () => {
  await using t = await startBridge([
    { path: "/pub", type: "publisher", realm: "realm1", role: "app", auth: AUTH },
  ]);
  const target = await signRequest("/pub", { ...AUTH, body: BODY });
  for (const name of ["key", "timestamp", "seq", "nonce", "signature"]) {
    const value = new URL(target, "http://x").searchParams.get(name)!;
    const twice = `${target}&${name}=${encodeURIComponent(value)}`;
    const refused = await post(`${t.base}${twice}`, BODY);
    equal(refused.status, 400, name);
    equal(refused.body.error, "cloverleaf.error.bad_request");
  }
  // The refusals did not spend it.
  equal((await post(`${t.base}${target}`, BODY)).status, 202);
});

Deno.test("a signature is used once across the bridge's paths of one key: not again on another path, nor a GET's as a POST body", async () => {
  const signed = { realm: "realm1", role: "app", auth: AUTH };
  await using t = await startBridge([
    { ...signed, path: "/pub", type: "publisher" },
    { ...signed, path: "/pub2", type: "publisher" },
    { ...signed, path: "/events", type: "subscriber" },
    { ...signed, path: "/hook", type: "webhook", topic: "com.example.hook" },
  ]);
  const target = await signRequest("/pub", { ...AUTH, body: BODY });
  equal((await post(`${t.base}${target}`, BODY)).status, 202);
  const elsewhere = await post(`${t.base}${target.replace("/pub?", "/pub2?")}`, BODY);
  equal(elsewhere.status, 401);
  deepEqual(elsewhere.body.args, [USED]);

  // A captured SSE request: its signature covers its target, which is a valid webhook body.
  const get = await signRequest("/events?topic=com.example.public", AUTH);
  const stream = await fetch(`${t.base}${get}`, { signal: AbortSignal.timeout(5000) });
  equal(stream.status, 200);
  await stream.body?.cancel();
  const url = new URL(get, t.base);
  const covered = get.slice(0, get.indexOf("&signature="));
  const hook = await post(`${t.base}/hook${url.search}`, covered);
  equal(hook.status, 401);
  deepEqual(hook.body.args, [USED]);
});

Deno.test("shared memory keeps a signature for the largest timestampDelta of the paths sharing it", async () => {
  let clock = Date.parse("2026-12-04T10:00:00.000Z");
  const narrow: BridgeAuth = { ...AUTH, timestampDelta: 10 };
  const wide: BridgeAuth = { ...AUTH, timestampDelta: 100 };
  const [a, b] = requestAuths([narrow, wide], () => clock);
  const target = await signRequest("/pub", { ...AUTH, body: BODY, now: clock });
  const url = new URL(target, "http://x");
  const body = new TextEncoder().encode(BODY);
  /** "ok", or the refusal's status and message. */
  const check = async (auth: RequestAuth): Promise<string> => {
    let refused = auth.checkHead(new Headers(), url);
    if (refused !== undefined && !(refused instanceof Response)) {
      refused = await auth.checkBody(refused, "POST", url, body);
    }
    return refused === undefined ? "ok" : `${refused.status} ${(await refused.json()).args[0]}`;
  };
  equal(await check(a!), "ok"); // spent on the narrow path
  clock += 90_000; // the narrow path's own memory (2 x 10 s) would have forgotten it
  // The wide path still takes its timestamp, and refuses it as used.
  equal(await check(b!), `401 ${USED}`);
});

Deno.test("through the listener, a request's head is checked once and its signature once", async () => {
  const checkHead = RequestAuth.prototype.checkHead;
  const checkBody = RequestAuth.prototype.checkBody;
  let heads = 0;
  let bodies = 0;
  RequestAuth.prototype.checkHead = function (...args) {
    heads++;
    return checkHead.apply(this, args);
  };
  RequestAuth.prototype.checkBody = function (...args) {
    bodies++;
    return checkBody.apply(this, args);
  };
  try {
    await using t = await startBridge([
      { path: "/pub", type: "publisher", realm: "realm1", role: "app", auth: AUTH },
    ]);
    const target = await signRequest("/pub", { ...AUTH, body: BODY });
    equal((await post(`${t.base}${target}`, BODY)).status, 202);
    equal(heads, 1);
    equal(bodies, 1);
  } finally {
    RequestAuth.prototype.checkHead = checkHead;
    RequestAuth.prototype.checkBody = checkBody;
  }
});

Deno.test("a signature the shared memory could not record is not kept: the same request may come again", async () => {
  let reachable = false;
  const seen = new Set<string>();
  const key = new SigningKey("s3cret", 60, {
    spend(signature: string): Promise<boolean> {
      if (!reachable) return Promise.reject(new Error("NATS is down"));
      const fresh = !seen.has(signature);
      seen.add(signature);
      return Promise.resolve(fresh);
    },
  });
  const now = Date.now();
  equal(key.spend("sig1", now), undefined);
  equal((await key.spendShared("sig1"))?.status, 503);
  reachable = true;
  equal(key.spend("sig1", now), undefined);
  equal(await key.spendShared("sig1"), undefined);
  equal(key.spend("sig1", now)?.status, 401);
  equal((await key.spendShared("sig1"))?.status, 401);
});

Deno.test("a signed request whose body comes after its timestamp's window is refused, not taken again", async () => {
  let clock = Date.parse("2026-12-04T10:00:00.000Z");
  const [auth] = requestAuths([{ ...AUTH, timestampDelta: 2 }], () => clock);
  const target = await signRequest("/pub", { ...AUTH, body: BODY, now: clock });
  const url = new URL(target, "http://x");
  const body = new TextEncoder().encode(BODY);
  const head = () => auth!.checkHead(new Headers(), url);
  const spend = async (fields: ReturnType<typeof head>) => {
    if (fields === undefined || fields instanceof Response) throw new Error("refused at the head");
    const refused = await auth!.checkBody(fields, "POST", url, body);
    return refused === undefined ? "ok" : `${refused.status} ${(await refused.json()).args[0]}`;
  };
  equal(await spend(head()), "ok");
  // A replay whose head comes within the window, its body held until the first use is forgotten
  // (2 windows): the window is checked again when the signature is spent.
  clock += 1_900;
  const held = head();
  clock += 3_000;
  equal(
    await spend(held),
    "401 timestamp more than 2 s from the router's clock when the body came",
  );
});
