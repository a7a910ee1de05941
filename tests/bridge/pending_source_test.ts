/**
 * `maxPendingPerSource` at a value other than its default (8) and 0: with
 * 2, a third request from one address whose first two bodies are still
 * arriving (signed: not verified yet) is answered 429 from its head,
 * another address's request is let in, and a body that completes frees
 * its place. Raw sockets, so a body can be held back. A program that
 * calls the bridge's `handle()` itself (behind its own `Deno.serve`) has
 * its requests counted per the peer it gives.
 */

import { deepEqual, equal, match } from "node:assert/strict";
import { Router } from "../../mod.ts";
import { signRequest } from "../../bridge/auth.ts";
import { resolveBridgeOptions } from "../../bridge/config.ts";
import { httpBridge } from "../../bridge/mount.ts";
import { type HeldPost, holdPost, portOf, postWhole, REALM, startBridge } from "./_bridge.ts";

const SIGNED = { key: "app1", secret: "a-signing-secret-0123", timestampDelta: 300 };
const BODY = JSON.stringify({ topic: "com.example.news", args: ["hi"] });

/** A POST of BODY whose body is held back after its first byte. */
const hold = (port: number, localAddress: string, target: string) =>
  holdPost(port, localAddress, target, BODY);

/** A POST of BODY sent whole; resolves with the answer. */
const whole = (port: number, localAddress: string, target: string) =>
  postWhole(port, localAddress, target, BODY);

for (const auth of ["none", "signed"] as const) {
  Deno.test(`maxPendingPerSource 2 (${auth}): a third request still arriving from one address gets 429, another address's is let in, a completed body frees a place`, async () => {
    await using t = await startBridge([{
      path: "/two",
      type: "publisher",
      realm: "realm1",
      role: "app",
      auth: auth === "none" ? "none" : SIGNED,
      maxPendingPerSource: 2,
    }]);
    const port = portOf(t.base);
    let seq = 0;
    const target = async () =>
      auth === "none" ? "/two" : await signRequest("/two", { ...SIGNED, body: BODY, seq: ++seq });
    const held: HeldPost[] = [];
    try {
      for (let i = 0; i < 2; i++) held.push(await hold(port, "127.0.0.1", await target()));
      await new Promise((resolve) => setTimeout(resolve, 200)); // both heads read
      const third = await whole(port, "127.0.0.1", await target());
      match(third, /^HTTP\/1\.1 429 /);
      match(third, /2 requests from your address still arriving on \/two/);
      match(await whole(port, "127.0.0.2", await target()), /^HTTP\/1\.1 202 /);
      // The first held body completes: answered, and its place is free for the next request.
      match(await held[0]!.finish(), /^HTTP\/1\.1 202 /);
      match(await whole(port, "127.0.0.1", await target()), /^HTTP\/1\.1 202 /);
      // One still held and a new one held again: two arriving, a third refused once more.
      held.push(await hold(port, "127.0.0.1", await target()));
      await new Promise((resolve) => setTimeout(resolve, 200));
      match(await whole(port, "127.0.0.1", await target()), /^HTTP\/1\.1 429 /);
      match(await held[1]!.finish(), /^HTTP\/1\.1 202 /);
      match(await held[2]!.finish(), /^HTTP\/1\.1 202 /);
      equal(held.length, 3);
    } finally {
      for (const h of held) h.close();
    }
  });
}

/**
 * `handle()` without `admit()` (the bridge behind a program's own server):
 * signed requests count per the peer given, until verified. They all
 * counted against one address "" before: 12 at once from 12 addresses got
 * 202 x 8 and 429 x 4 ("from your address"), and 8 slow uploads from one
 * address held every other address's signed requests. An unknown peer
 * ("") is not counted.
 */
Deno.test("handle() without admit(): signed requests count against the peer given, not one shared address", async () => {
  const router = new Router({ realms: [REALM], logger: () => {} });
  const bridge = httpBridge(router, [resolveBridgeOptions({
    path: "/pub",
    type: "publisher",
    realm: "realm1",
    role: "app",
    auth: SIGNED,
  }, "bridges[0]")]);
  let seq = 0;
  /** 12 signed requests at once, the i-th from `peer(i)`; their statuses. */
  const burst = async (peer: (i: number) => string) => {
    const targets = await Promise.all(
      Array.from({ length: 12 }, () => signRequest("/pub", { ...SIGNED, body: BODY, seq: ++seq })),
    );
    const answers = await Promise.all(
      targets.map((target, i) =>
        bridge.handle(
          new Request(`http://127.0.0.1${target}`, { method: "POST", body: BODY }),
          peer(i),
        )
      ),
    );
    for (const answer of answers) await answer.body?.cancel();
    return answers.map((answer) => answer.status);
  };
  try {
    deepEqual(await burst((i) => `tcp4:10.0.0.${i + 1}:5000`), Array(12).fill(202));
    // From one address: 8 (maxPendingPerSource) still being verified, the rest refused.
    deepEqual(await burst(() => "tcp4:10.0.0.1:5000"), [
      ...Array(8).fill(202),
      ...Array(4).fill(429),
    ]);
    deepEqual(await burst(() => ""), Array(12).fill(202));
  } finally {
    await bridge.close();
    await router.close();
  }
});

/**
 * `handle()` without `admit()` reads the body itself: a request counts
 * against its source's `maxPendingPerSource` until it has (signed: until
 * its signature is verified, `admission_test.ts`). Three requests at once
 * from one address, their bodies whole (in process), with 2: each path
 * takes the two first (the third came while they were being read, or
 * verified), and reading or verifying frees their places. An open request
 * was counted as arrived before its body was read, so an open path took
 * all three, and slow uploads from one address held all its slots.
 */
Deno.test("handle() without admit(): a request counts as pending until its body was read (signed: verified)", async () => {
  const router = new Router({ realms: [REALM], logger: () => {} });
  const path = (auth: unknown) => ({
    path: auth === "none" ? "/open" : "/signed",
    type: "publisher",
    realm: "realm1",
    role: "app",
    auth,
    maxPendingPerSource: 2,
  });
  const bridge = httpBridge(router, [
    resolveBridgeOptions(path("none"), "bridges[0]"),
    resolveBridgeOptions(path(SIGNED), "bridges[1]"),
  ]);
  let seq = 0;
  const three = async (signed: boolean) => {
    const targets = await Promise.all(
      Array.from(
        { length: 3 },
        () => signed ? signRequest("/signed", { ...SIGNED, body: BODY, seq: ++seq }) : "/open",
      ),
    );
    const answers = await Promise.all(targets.map((target) =>
      bridge.handle(
        new Request(`http://127.0.0.1${target}`, { method: "POST", body: BODY }),
        "tcp4:10.0.0.1:5000",
      )
    ));
    for (const answer of answers) await answer.body?.cancel();
    return answers.map((answer) => answer.status);
  };
  try {
    deepEqual(await three(false), [202, 202, 429]);
    deepEqual(await three(false), [202, 202, 429], "read, the first two freed their places");
    deepEqual(await three(true), [202, 202, 429]);
    deepEqual(await three(true), [202, 202, 429], "verified, the first two freed their places");
  } finally {
    await bridge.close();
    await router.close();
  }
});
