/**
 * The minimal-WAMP floor (`bench/floor/relay_wamp.ts`) is a router the
 * load tool can join: pubsub, fanout and rpc run against it over
 * WebSocket and RawSocket and lose nothing, and what it sends is valid
 * WAMP (the load tool's subscribers and callers decode with our strict
 * serializers). No timing is asserted.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { MessageType, type Serializer, serializers } from "../../wamp/mod.ts";
import { DEFAULTS, type Params, runScenario, SATURATING } from "../../bench/load/scenarios.ts";
import { next, openPeer, PROCEDURE, type Target, TOPIC } from "../../bench/load/session.ts";
import { encodeBytes } from "../../transports/stream/encode.ts";

const brief = (p: Params): Params => ({ ...p, duration: 0.3, warmup: 0.1 });

/** Starts the relay on a free port; stops it when disposed. */
async function startRelay(): Promise<{ port: string } & AsyncDisposable> {
  const relay = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      new URL("../../bench/floor/relay_wamp.ts", import.meta.url).pathname,
      "0",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const stop = async () => {
    relay.kill();
    await relay.status;
    await relay.stdout.cancel().catch(() => {});
  };
  const reader = relay.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const timer = setTimeout(() => void reader.cancel(), 15_000);
  const { value } = await reader.read();
  clearTimeout(timer);
  const port = /listening on (\d+)/.exec(value ?? "")?.[1];
  if (port === undefined) {
    await stop();
    throw new Error(`relay_wamp did not start: ${value}`);
  }
  reader.releaseLock();
  return { port, [Symbol.asyncDispose]: stop };
}

for (const via of ["ws:json", "ws:msgpack", "tcp:cbor"] as const) {
  const [carrier, name] = via.split(":") as ["ws" | "tcp", "json" | "msgpack" | "cbor"];
  Deno.test(`load scenarios run against relay-wamp over ${via} and lose nothing`, async () => {
    await using relay = await startRelay();
    const target: Target = {
      url: carrier === "ws" ? `ws://127.0.0.1:${relay.port}/ws` : `tcp://127.0.0.1:${relay.port}`,
      realm: "realm1",
      serializer: serializers[name],
      floor: false,
    };
    const pubsub = await runScenario("pubsub", target, brief(DEFAULTS.pubsub));
    ok(pubsub.scenario === "pubsub" && pubsub.eventsPerSecond > 0);
    equal(pubsub.lost, 0);
    ok(pubsub.latency.samples > 0); // sampled EVENTs decoded by the strict serializer
    const rpc = await runScenario("rpc", target, brief(DEFAULTS.rpc));
    ok(rpc.scenario === "rpc" && rpc.callsPerSecond > 0);
    equal(rpc.lost, 0);
    equal(rpc.failed, 0);
    ok(rpc.latency.samples > 0);
    const full = await runScenario("rpc", target, brief({ ...DEFAULTS.rpc, ...SATURATING.rpc }));
    ok(full.scenario === "rpc" && full.lost === 0 && full.failed === 0);
    const fanout = await runScenario(
      "fanout",
      target,
      brief({ ...DEFAULTS.fanout, subscribers: 20 }),
    );
    ok(fanout.scenario === "fanout" && fanout.eventsPerSecond > 0);
    equal(fanout.lost, 0);
  });
}

Deno.test("relay-wamp: one EVENT per subscriber on each serializer, acknowledge, no callee", async () => {
  await using relay = await startRelay();
  const at = (serializer: Serializer, url = `ws://127.0.0.1:${relay.port}/ws`): Target => ({
    url,
    realm: "realm1",
    serializer,
    floor: false,
  });
  const { json, msgpack, cbor } = serializers;
  const subJson = await openPeer(at(json), "sub");
  const subPack = await openPeer(at(msgpack, `tcp://127.0.0.1:${relay.port}`), "sub");
  const pub = await openPeer(at(cbor), "sub"); // subscribed too: exclude_me keeps its own EVENT away
  try {
    const events = [next(subJson, json), next(subPack, msgpack)];
    let own = 0;
    pub.onMessage = () => own++;
    const acked = next(pub, cbor);
    pub.send(encodeBytes(cbor, {
      type: MessageType.PUBLISH,
      request: 7,
      options: { acknowledge: true },
      topic: TOPIC,
      args: [1, "two"],
      kwargs: { three: 3 },
    }));
    const published = await acked;
    ok(published.type === MessageType.PUBLISHED && published.request === 7);
    for (const event of await Promise.all(events)) {
      ok(event.type === MessageType.EVENT, JSON.stringify(event));
      equal(event.publication, published.publication);
      deepEqual(event.args, [1, "two"]);
      deepEqual(event.kwargs, { three: 3 });
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    equal(own, 0, "the publisher got its own EVENT");

    // A call with no callee registered: an ERROR, not silence.
    const caller = await openPeer(at(json), "caller");
    try {
      const answer = next(caller, json);
      caller.send(encodeBytes(json, {
        type: MessageType.CALL,
        request: 3,
        options: {},
        procedure: PROCEDURE,
      }));
      const error = await answer;
      ok(error.type === MessageType.ERROR && error.request === 3);
      equal(error.error, "wamp.error.no_such_procedure");
    } finally {
      caller.close();
    }
  } finally {
    for (const c of [subJson, subPack, pub]) c.close();
  }
});
