/**
 * What the router answers for a callee that cannot take an INVOCATION
 * (ERROR `payload_size_exceeded`, as if from the callee) is never held
 * behind the callee's own requests waiting for a dynamic authorizer, nor
 * counted against their bound: before, 5,000 oversize CALLs from other
 * sessions filled that queue and aborted the callee.
 */

import { equal, ok } from "node:assert/strict";
import { realmOf, Router } from "../../router/router.ts";
import type { Connection } from "../../router/connection.ts";
import type { Decision } from "../../router/core/authorizer.ts";
import {
  ErrorUri,
  MessageTooLargeError,
  MessageType,
  sequentialIdGenerator,
  type WampMessage,
} from "../../wamp/mod.ts";
import { FakePeer } from "../_helpers/fake_peer.ts";

/** A peer that takes no INVOCATION over 200 bytes of JSON. */
class SmallPeer extends FakePeer {
  override send(msg: WampMessage): void {
    const size = JSON.stringify(msg).length;
    if (msg.type === MessageType.INVOCATION && size > 200) {
      throw new MessageTooLargeError(size, 200);
    }
    super.send(msg);
  }
}

const ROLES = { caller: {}, callee: {} };
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

Deno.test("oversize INVOCATIONs to a callee whose own request awaits a dynamic authorizer do not abort it", async () => {
  const gates: ((decision: Decision) => void)[] = [];
  const router = new Router({
    realms: [{
      name: "realm1",
      roles: [{
        name: "anonymous",
        authorizer: (_session, uri) =>
          uri === "com.example.gated"
            ? new Promise<Decision>((resolve) => gates.push(resolve))
            : true,
      }],
    }],
    logger: () => {},
    idGenerator: sequentialIdGenerator(),
  });
  const calleePeer = new SmallPeer();
  const callee = router.attach(calleePeer) as Connection;
  callee.receive({ type: MessageType.HELLO, realm: "realm1", details: { roles: ROLES } });
  callee.receive({
    type: MessageType.REGISTER,
    request: 1,
    options: {},
    procedure: "com.example.p",
  });
  await tick();
  // The callee's own CALL waits for the authorizer: what comes after it from the callee is held.
  callee.receive({
    type: MessageType.CALL,
    request: 2,
    options: {},
    procedure: "com.example.gated",
  });
  let refused = 0;
  for (let c = 0; c < 5; c++) {
    const peer = new FakePeer();
    const caller = router.attach(peer) as Connection;
    caller.receive({ type: MessageType.HELLO, realm: "realm1", details: { roles: ROLES } });
    for (let i = 1; i <= 1000; i++) {
      const args = ["x".repeat(300)];
      caller.receive({
        type: MessageType.CALL,
        request: i,
        options: {},
        procedure: "com.example.p",
        args,
      });
    }
    await tick();
    refused += peer.sent.filter((m) =>
      m.type === MessageType.ERROR && m.error === ErrorUri.PAYLOAD_SIZE_EXCEEDED
    ).length;
  }
  equal(refused, 5000, "each oversize CALL refused to its caller");
  ok(!calleePeer.sent.some((m) => m.type === MessageType.ABORT), "the callee was aborted");
  equal(realmOf(router, "realm1")!.size, 6, "every session is still there");
  for (const gate of gates) gate({ allow: false });
  await router.close();
});
