/**
 * The bridge behind a program's own server: `handle(request, peer)`
 * without `admit()` reads the body itself, so the limits the listener
 * keeps while it reads one are kept there: `maxPendingPerSource` counts a
 * request until its body was read, and `maxBodySize` stops a chunked body
 * (no Content-Length to refuse it by).
 */

import { equal, match, ok } from "node:assert/strict";
import { Router } from "../../mod.ts";
import { type BridgeConfig, resolveBridgeOptions } from "../../bridge/config.ts";
import { type HttpBridge, httpBridge } from "../../bridge/mount.ts";
import { tcpPeer } from "../../transports/mod.ts";
import { type HeldPost, holdPost, postWhole, REALM } from "./_bridge.ts";

/** A router with one open publisher path `/open`, and the bridge on it (not on a listener). */
function openPath(options: Partial<BridgeConfig> = {}): AsyncDisposable & {
  bridge: HttpBridge;
} {
  const router = new Router({ realms: [REALM], logger: () => {} });
  const bridge = httpBridge(router, [resolveBridgeOptions({
    path: "/open",
    type: "publisher",
    realm: "realm1",
    role: "app",
    auth: "none",
    ...options,
  }, "bridges[0]")]);
  return {
    bridge,
    async [Symbol.asyncDispose]() {
      await bridge.close();
      await router.close();
    },
  };
}

/** A body of `count` chunks of `size` bytes, made as they are read; `pulled()` says how many were. */
function chunked(count: number, size: number) {
  const chunk = new Uint8Array(size).fill(0x20);
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled++ < count) controller.enqueue(chunk);
      else controller.close();
    },
  }, { highWaterMark: 0 });
  return { body, pulled: () => pulled };
}

/**
 * A chunked body over `maxBodySize` is read only up to it: the rest is
 * never asked for. It was read whole before the size was checked (256
 * MiB to a 65,536-byte path: 413 once all of it had come, the router's
 * memory 365 -> 628 MiB).
 */
Deno.test("handle() without admit(): a chunked body is read up to maxBodySize, then 413", async () => {
  await using t = openPath({ maxBodySize: 65_536 });
  const { body, pulled } = chunked(1024, 16_384); // 16 MiB
  const answer = await t.bridge.handle(
    new Request("http://127.0.0.1/open", { method: "POST", body }),
    "tcp4:10.0.0.1:5000",
  );
  equal(answer.status, 413);
  equal((await answer.json()).args[0], "the body is over 65536 bytes");
  ok(pulled() <= 6, `${pulled()} chunks of 16 KiB read for a limit of 4`);
});

Deno.test("handle() under Deno.serve: a chunked upload over maxBodySize is answered 413 without reading it all", async () => {
  await using t = openPath({ maxBodySize: 65_536 });
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request, info) =>
      t.bridge.handle(request, tcpPeer(info.remoteAddr.hostname, info.remoteAddr.port)),
  );
  const { body, pulled } = chunked(256, 256 * 1024); // 64 MiB
  const answer = await fetch(`http://127.0.0.1:${server.addr.port}/open`, {
    method: "POST",
    body,
  });
  equal(answer.status, 413);
  await answer.body?.cancel();
  ok(pulled() < 128, `${pulled()} chunks of 256 KiB of 256 sent before the answer`);
});

/** A body cut short (its client gone) is a 400, not a rejected `handle()` (Deno.serve's 500). */
Deno.test("handle() without admit(): a body that does not arrive whole is answered 400", async () => {
  await using t = openPath();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('{"topic":'));
      controller.error(new Error("connection reset"));
    },
  });
  const answer = await t.bridge.handle(
    new Request("http://127.0.0.1/open", { method: "POST", body }),
    "tcp4:10.0.0.1:5000",
  );
  equal(answer.status, 400);
  equal((await answer.json()).args[0], "the body did not arrive whole");
});

const BODY = JSON.stringify({ topic: "com.example.news", args: ["hi"] });

/**
 * Under `Deno.serve`, slow uploads from one address hold at most
 * `maxPendingPerSource` of an open path's slots: `handle()` counted an
 * open request's body as arrived before it read it, so 4 slow uploads
 * from 127.0.0.1 held all 4 slots and 127.0.0.2's request got 429 (202
 * through the listener).
 */
Deno.test("handle() under Deno.serve: an open request counts against maxPendingPerSource until its body was read", async () => {
  await using t = openPath({ maxInFlight: 4, maxPendingPerSource: 2 });
  let handled = 0; // requests whose heads reached handle()
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request, info) => {
      handled++;
      return t.bridge.handle(request, tcpPeer(info.remoteAddr.hostname, info.remoteAddr.port));
    },
  );
  const port = server.addr.port;
  const held: HeldPost[] = [];
  try {
    for (let i = 0; i < 4; i++) {
      held.push(await holdPost(port, "127.0.0.1", "/open", BODY));
      while (handled < i + 1) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    // The third and fourth were refused from their heads: their source has two arriving.
    for (const refused of held.slice(2)) {
      const answer = await refused.finish();
      match(answer, /^HTTP\/1\.1 429 /);
      match(answer, /2 requests from your address still arriving on \/open/);
    }
    match(await postWhole(port, "127.0.0.2", "/open", BODY), /^HTTP\/1\.1 202 /);
    match(await postWhole(port, "127.0.0.1", "/open", BODY), /^HTTP\/1\.1 429 /);
    // A held body that completes frees its place.
    match(await held[0]!.finish(), /^HTTP\/1\.1 202 /);
    match(await postWhole(port, "127.0.0.1", "/open", BODY), /^HTTP\/1\.1 202 /);
    match(await held[1]!.finish(), /^HTTP\/1\.1 202 /);
  } finally {
    for (const h of held) h.close();
  }
});
