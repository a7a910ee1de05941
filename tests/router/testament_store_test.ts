/**
 * Cluster mode: a testament the cluster's store could not keep is taken
 * back, also one kept disclosed (its role's permission forces disclosure):
 * the caller gets `cluster_unavailable`, and nothing stays counted or
 * fires when the session leaves.
 */

import { equal } from "node:assert/strict";
import { Testaments } from "../../router/core/meta/testament.ts";
import type { MetaEvents } from "../../router/core/meta/events.ts";
import { answer } from "../../router/core/router_procedure.ts";
import { MessageType, MetaProcedure } from "../../wamp/mod.ts";
import type { Effect, Output } from "../../router/core/output.ts";
import type { SessionInfo } from "../../router/core/types.ts";

for (const disclose of [false, true]) {
  Deno.test(`a testament the cluster could not store is taken back (disclose: ${disclose})`, () => {
    const effects: Effect[] = [];
    const testaments = new Testaments(
      {} as MetaEvents,
      false,
      (_s, _t, _o, then) => then(disclose ? { allow: true, disclose: true } : { allow: true }),
      {},
      () => ({ queue: (e: Effect) => void effects.push(e) }),
    );
    const caller = { id: 1, realm: "realm1", authid: "a", authrole: "r" } as SessionInfo;
    const handler = testaments.procedures()[MetaProcedure.SESSION_ADD_TESTAMENT]!;
    answer(handler, caller, {
      type: MessageType.CALL,
      request: 1,
      options: {},
      procedure: MetaProcedure.SESSION_ADD_TESTAMENT,
      args: ["com.example.will", [], {}],
    });
    const store = effects.find((e) => e.kind === "cluster-testaments") as unknown as {
      stored: (r: { ok: false; error: string }) => Output;
    };
    const out = store.stored({ ok: false, error: "nats down" });
    const reply = out.messages[0]!.msg;
    equal(reply.type, MessageType.ERROR, "the caller is told it failed");
    equal(testaments.bytes, 0, "and the testament is not kept");
  });
}
