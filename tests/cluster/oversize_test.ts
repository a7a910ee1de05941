/**
 * Oversize progressive call invocations across nodes: the callee on one node gets INTERRUPT for
 * what it has, and the caller on another node is not aborted by a chunk of its that was on its way
 * when the callee's node ended the call.
 */

import { deepEqual, equal } from "node:assert/strict";
import { ErrorUri } from "../../wamp/mod.ts";
import { rawJsonClient } from "../_helpers/raw_rawsocket.ts";
import type { TestRouter } from "../_helpers/router.ts";
import { startCluster } from "./_cluster.ts";

const SWOLLEN = "\u0001".repeat(1000);
const STREAMS = { features: { progressive_call_invocations: true, call_canceling: true } };

function raw(t: TestRouter, limitByte: number) {
  return rawJsonClient(t.listener.urls.rawsocket!, limitByte);
}

Deno.test("cluster: a forwarded progressive call its callee's node ends: the chunks still on their way are dropped, the caller stays", async () => {
  await using c = await startCluster(2, "ovs");
  const [a, b] = c.nodes;
  const callee = await raw(b!, 0x31); // 4 KiB
  callee.send([1, "realm1", { roles: { callee: STREAMS } }], [64, 1, {}, "com.example.sink"]);
  await callee.until((m) => m[0] === 65);
  await new Promise((resolve) => setTimeout(resolve, 500)); // the registration reaches A
  const caller = await raw(a!, 0xf1); // 16 MiB
  caller.send([1, "realm1", { roles: { caller: STREAMS } }]);
  await caller.until((m) => m[0] === 2);
  caller.send(
    [48, 1, { progress: true }, "com.example.sink", ["small"]],
    [48, 1, { progress: true }, "com.example.sink", [SWOLLEN]], // too large for the callee
  );
  const end = await caller.until((m) => m[0] === 8 || m[0] === 50);
  deepEqual(end.slice(0, 5), [8, 48, 1, {}, ErrorUri.PAYLOAD_SIZE_EXCEEDED]);
  await callee.until((m) => m[0] === 69); // INTERRUPT for the chunk it has
  // The caller, not told yet when it wrote it, sends its final chunk.
  caller.send([48, 1, {}, "com.example.sink", ["last"]]);
  await new Promise((resolve) => setTimeout(resolve, 300));
  equal(caller.closed, false);
  deepEqual(caller.seen.filter((m) => m[0] === 3), [], "no ABORT");
  caller.close();
  callee.close();
});
