/**
 * The behaviour every transport × serializer must show, run once per way
 * of connecting (ws+json, ws+msgpack, ws+cbor, local).
 */

import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { ApplicationError, type Event, type SessionClosedError } from "../../mod.ts";
import { join, routerFor, startRouter, until, type Via, within } from "../_helpers/router.ts";
import { realmOf } from "../../router/router.ts";

/** Registers the suite's tests for one way of connecting. */
export function runTransportSuite(via: Via): void {
  const test = (name: string, fn: () => Promise<void>) => Deno.test(`[${via}] ${name}`, fn);

  test("a session joins realm1 anonymously", async () => {
    await using t = await startRouter(routerFor(via));
    const s = await join(t, via);
    ok(s.id >= 1);
    equal(s.details.authrole, "anonymous");
    equal(s.details.authmethod, "anonymous");
    ok(typeof s.details.roles === "object");
    await s.close();
  });

  test("pubsub_basic: a subscriber gets args and kwargs once", async () => {
    await using t = await startRouter(routerFor(via));
    const sub = await join(t, via);
    const pub = await join(t, via);
    const got: Event[] = [];
    await sub.subscribe("com.example.topic", (e) => {
      got.push(e);
    });
    const publication = await pub.publish(
      "com.example.topic",
      { args: [1, "two", { three: 3 }], kwargs: { a: [true, null] } },
      { acknowledge: true },
    );
    await until(() => got.length === 1);
    deepEqual(got[0]!.args, [1, "two", { three: 3 }]);
    deepEqual(got[0]!.kwargs, { a: [true, null] });
    equal(got[0]!.publication, publication);
    await new Promise((r) => setTimeout(r, 20));
    equal(got.length, 1);
    await pub.close();
    await sub.close();
  });

  test("pubsub_exclude_me: the publisher gets its own event only with exclude_me false", async () => {
    await using t = await startRouter(routerFor(via));
    const s = await join(t, via);
    const got: unknown[] = [];
    await s.subscribe("com.example.self", (e) => {
      got.push(e.args[0]);
    });
    await s.publish("com.example.self", { args: ["excluded"] }, { acknowledge: true });
    await s.publish("com.example.self", { args: ["included"] }, {
      acknowledge: true,
      exclude_me: false,
    });
    await until(() => got.length === 1);
    deepEqual(got, ["included"]);
    await s.close();
  });

  test("pubsub_iterator: a subscription is an async iterator and disposable", async () => {
    await using t = await startRouter(routerFor(via));
    const s = await join(t, via);
    const pub = await join(t, via);
    {
      await using sub = await s.subscribe("com.example.iter");
      for (let i = 0; i < 3; i++) {
        await pub.publish("com.example.iter", { args: [i] }, { acknowledge: true });
      }
      const seen: unknown[] = [];
      for await (const event of sub) {
        seen.push(event.args[0]);
        if (seen.length === 3) break;
      }
      deepEqual(seen, [0, 1, 2]);
    }
    // Unsubscribed on dispose: the broker has no subscription left.
    const realm = realmOf(t.router, "realm1")!;
    const id = await pub.publish("com.example.iter", { args: [9] }, { acknowledge: true });
    ok(id !== undefined);
    equal(realm.broker.subscriptionCount, 0);
    await pub.close();
    await s.close();
  });

  test("pubsub_unsubscribe: no events after unsubscribe; unknown ids are refused", async () => {
    await using t = await startRouter(routerFor(via));
    const s = await join(t, via);
    const pub = await join(t, via);
    const got: unknown[] = [];
    const sub = await s.subscribe("com.example.unsub", (e) => {
      got.push(e.args[0]);
    });
    await pub.publish("com.example.unsub", { args: [1] }, { acknowledge: true });
    await until(() => got.length === 1);
    await sub.unsubscribe();
    await pub.publish("com.example.unsub", { args: [2] }, { acknowledge: true });
    await new Promise((r) => setTimeout(r, 20));
    deepEqual(got, [1]);
    await pub.close();
    await s.close();
  });

  test("rpc_arguments: a call returns args and kwargs", async () => {
    await using t = await startRouter(routerFor(via));
    const callee = await join(t, via);
    const caller = await join(t, via);
    await callee.register("com.example.echo", (args, kwargs) => ({ args, kwargs }));
    const result = await caller.call("com.example.echo", {
      args: [1, "x", [2, 3]],
      kwargs: { k: { nested: true } },
    });
    deepEqual(result.args, [1, "x", [2, 3]]);
    deepEqual(result.kwargs, { k: { nested: true } });
    const empty = await caller.call("com.example.echo");
    deepEqual(empty.args, []);
    deepEqual(empty.kwargs, {});
    await caller.close();
    await callee.close();
  });

  test("rpc_error: application errors keep uri, args and kwargs", async () => {
    await using t = await startRouter(routerFor(via));
    const callee = await join(t, via);
    const caller = await join(t, via);
    await callee.register("com.example.fail", () => {
      throw new ApplicationError("com.example.error.bad", { args: ["why"], kwargs: { code: 7 } });
    });
    await callee.register("com.example.crash", () => {
      throw new TypeError("boom");
    });
    await rejects(caller.call("com.example.fail"), (e: ApplicationError) => {
      equal(e.uri, "com.example.error.bad");
      deepEqual(e.args, ["why"]);
      deepEqual(e.kwargs, { code: 7 });
      return true;
    });
    await rejects(caller.call("com.example.crash"), (e: ApplicationError) => {
      equal(e.uri, "wamp.error.runtime_error");
      deepEqual(e.args, ["boom"]);
      return true;
    });
    await rejects(caller.call("com.example.nobody"), (e: ApplicationError) => {
      equal(e.uri, "wamp.error.no_such_procedure");
      return true;
    });
    await rejects(
      callee.register("com.example.fail", () => {}),
      (e: ApplicationError) => e.uri === "wamp.error.procedure_already_exists",
    );
    await caller.close();
    await callee.close();
  });

  test("rpc_unregister: a withdrawn procedure is gone", async () => {
    await using t = await startRouter(routerFor(via));
    const callee = await join(t, via);
    const caller = await join(t, via);
    const reg = await callee.register("com.example.once", () => ({ args: [1] }));
    deepEqual((await caller.call("com.example.once")).args, [1]);
    await reg.unregister();
    await rejects(
      caller.call("com.example.once"),
      (e: ApplicationError) => e.uri === "wamp.error.no_such_procedure",
    );
    await caller.close();
    await callee.close();
  });

  test("rpc_callee_leaves: pending callers get wamp.error.canceled at once", async () => {
    await using t = await startRouter(routerFor(via));
    const callee = await join(t, via);
    const caller = await join(t, via);
    let invocations = 0;
    await callee.register("com.example.hang", () => {
      invocations++;
      return new Promise(() => {}); // never answers
    });
    const calls = [caller.call("com.example.hang"), caller.call("com.example.hang")];
    await until(() => invocations === 2);
    await callee.close();
    for (const call of calls) {
      await within(
        rejects(call, (e: ApplicationError) => e.uri === "wamp.error.canceled"),
        2000,
        "canceled error",
      );
    }
    await caller.close();
  });

  test("session_close: pending calls reject when the router shuts down", async () => {
    await using t = await startRouter(routerFor(via));
    const callee = await join(t, via);
    const caller = await join(t, via);
    await callee.register("com.example.slow", () => new Promise(() => {}));
    const call = caller.call("com.example.slow");
    const failed = rejects(
      call,
      (e: SessionClosedError) => e.reason === "wamp.close.system_shutdown",
    );
    const closed = caller.closed;
    await t.router.close();
    await within(failed);
    equal((await within(closed)).reason, "wamp.close.system_shutdown");
  });
}
