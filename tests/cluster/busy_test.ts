/**
 * Sessions not reading what they are sent, with the call's other end on another node: the call is
 * treated as on one router (the proxy of a caller or callee on another node never looks busy).
 */

import { deepEqual, equal } from "node:assert/strict";
import { ErrorUri, MessageType, type WampMessage } from "../../wamp/mod.ts";
import type { Router } from "../../mod.ts";
import { FakePeer } from "../_helpers/fake_peer.ts";
import { until } from "../_helpers/router.ts";
import { seen, startCluster } from "./_cluster.ts";

const FEATURES = { progressive_call_results: true, call_canceling: true };
const ROLES = { caller: { features: FEATURES }, callee: { features: FEATURES } };

/** A session of realm1 on a fake peer, welcomed. */
async function join(router: Router, options?: object) {
  const peer = new FakePeer();
  const handle = router.attach(peer, options as never);
  const send = (msg: unknown) => handle.receive(msg as WampMessage);
  send({ type: MessageType.HELLO, realm: "realm1", details: { roles: ROLES } });
  await until(() => peer.sent.some((m) => m.type === MessageType.WELCOME));
  const got = (type: number) => peer.sent.filter((m) => m.type === type);
  return { peer, send, got };
}

Deno.test("cluster: a progressive RESULT for a caller on another node past its limit ends the call, as on one router", async () => {
  await using c = await startCluster(2, "busy1");
  const [a, b] = c.nodes;
  const callee = await join(b!.router);
  callee.send({ type: MessageType.REGISTER, request: 1, options: {}, procedure: "com.stream" });
  // B's dealer has it (A may see the shared table first).
  await until(() => callee.got(MessageType.REGISTERED).length === 1);
  await seen(a!, "com.stream", 1);
  const caller = await join(a!.router, { maxBacklog: 1000, slowConsumer: "drop" });
  const options = { receive_progress: true };
  caller.send({ type: MessageType.CALL, request: 1, options, procedure: "com.stream" });
  await until(() => callee.got(MessageType.INVOCATION).length === 1);
  const request = (callee.got(MessageType.INVOCATION)[0] as { request: number }).request;
  const yieldOne = (arg: string) =>
    callee.send({ type: MessageType.YIELD, request, options: { progress: true }, args: [arg] });
  yieldOne("one");
  await until(() => caller.got(MessageType.RESULT).length === 1);
  caller.peer.bytesQueued = 5000; // the caller stops reading: past its whole limit
  yieldOne("two");
  yieldOne("three"); // on its way before the callee's node hears of the CANCEL: dropped
  await until(() => callee.got(MessageType.INTERRUPT).length === 1);
  // INTERRUPT for the CANCEL, not for the caller closed as a slow consumer (that one leaving).
  equal(caller.peer.closeCount, 0, "the caller is not closed");
  const interrupt = callee.got(MessageType.INTERRUPT)[0] as { options: object };
  deepEqual(interrupt.options, { mode: "killnowait", reason: ErrorUri.CANCELED });
  await until(() => caller.got(MessageType.ERROR).length === 1);
  equal((caller.got(MessageType.ERROR)[0] as { error: string }).error, ErrorUri.CANCELED);
  equal(caller.got(MessageType.RESULT).length, 1, "no RESULT after the first");
});

Deno.test("cluster: a shared registration passes over a busy callee on another node, as on one router", async () => {
  await using c = await startCluster(2, "busy2");
  const [a, b] = c.nodes;
  const busy = await join(b!.router), free = await join(a!.router);
  const options = { invoke: "roundrobin" };
  for (const callee of [busy, free]) {
    callee.send({ type: MessageType.REGISTER, request: 1, options, procedure: "com.rr" });
  }
  await seen(a!, "com.rr", 2);
  await seen(b!, "com.rr", 2);
  busy.peer.bytesQueued = 1_500_000; // not reading: past half its limit (2 MiB)
  const caller = await join(a!.router);
  for (let request = 1; request <= 4; request++) {
    caller.send({
      type: MessageType.CALL,
      request,
      options: {},
      procedure: "com.rr",
      args: [request],
    });
    const answered = () => caller.got(MessageType.ERROR).length > 0;
    await until(() => free.got(MessageType.INVOCATION).length === request || answered());
  }
  deepEqual(caller.got(MessageType.ERROR), [], "no call refused");
  deepEqual(free.got(MessageType.INVOCATION).map((m) => (m as { args: unknown[] }).args), [
    [1],
    [2],
    [3],
    [4],
  ]);
  equal(busy.got(MessageType.INVOCATION).length, 0);
});
