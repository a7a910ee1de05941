/**
 * The caller side of cluster RPC ({@linkcode RemoteRpc}), without NATS: which
 * nodes are told that a caller left.
 */
import { deepEqual as assertEquals } from "node:assert/strict";
import { type CalleeEntry, RemoteRpc } from "../../router/core/dealer/remote.ts";
import type { RpcFeatures } from "../../router/core/dealer/pending_calls.ts";
import type { Effect } from "../../router/core/output.ts";
import type { SessionInfo } from "../../router/core/types.ts";
import { MessageType } from "../../wamp/mod.ts";

const caller: SessionInfo = {
  id: 7,
  realm: "r",
  authid: "a",
  authrole: "anonymous",
  authmethod: "anonymous",
  authprovider: "static",
  roles: {},
  transport: "websocket",
};

function remote(): RemoteRpc {
  const rpc = new RemoteRpc(
    { node: "A", realm: "r", claim: () => Promise.resolve(undefined) },
    Date.now,
  );
  const features = { progressiveInvocations: true, calleePassthru: true } as RpcFeatures;
  const entry: CalleeEntry = { node: "B", session: 9, at: 0, options: {}, features };
  rpc.callees.set(9, entry);
  return rpc;
}

function gone(effects: Effect[]): string[] {
  return effects.flatMap((e) =>
    e.kind === "cluster" && (e.envelope as { k: string }).k === "gone" ? [e.node] : []
  );
}

Deno.test("a caller whose forwarded calls all finished still tells the callee's node it left", () => {
  const rpc = remote();
  rpc.forward(
    caller,
    { type: MessageType.CALL, request: 1, options: {}, procedure: "p" },
    9,
    false,
  );
  rpc.answer(7, { type: MessageType.RESULT, request: 1, details: {} });
  assertEquals(rpc.forwarded.size, 0);
  const effects: Effect[] = [];
  rpc.callerLeft(7, effects);
  assertEquals(gone(effects), ["B"]); // the proxy of caller 7 on B goes
  assertEquals(rpc.proxiedAt.size, 0);
});

Deno.test("a node that went down is not told a caller left", () => {
  const rpc = remote();
  rpc.forward(
    caller,
    { type: MessageType.CALL, request: 1, options: {}, procedure: "p" },
    9,
    false,
  );
  assertEquals(rpc.nodeDown("B").length, 1);
  const effects: Effect[] = [];
  rpc.callerLeft(7, effects);
  assertEquals(gone(effects), []);
});
