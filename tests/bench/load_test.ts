/**
 * The load tool works: each scenario runs briefly against a router on a
 * real port (WebSocket and RawSocket, every serializer) and against the
 * bare relay, and loses nothing. No timing is asserted.
 */

import { equal, ok } from "node:assert/strict";
import { MessageType, serializers, type WampMessage } from "../../wamp/mod.ts";
import {
  cpuPerMessage,
  DEFAULTS,
  type Params,
  runScenario,
  SATURATING,
  summarize,
} from "../../bench/load/scenarios.ts";
import { messageType, type Target } from "../../bench/load/session.ts";
import { startRouter } from "../_helpers/router.ts";
import { encodeBytes } from "../../transports/stream/encode.ts";

const brief = (p: Params): Params => ({ ...p, duration: 0.3, warmup: 0.1 });

Deno.test("cpuPerMessage() is the target's CPU time per message in µs, when known", () => {
  equal(cpuPerMessage({ load: 0.5, target: 0.9 }, 600_000), 1.5);
  equal(cpuPerMessage({ load: 0.5, target: 0.25 }, 100_000), 2.5);
  equal(cpuPerMessage({ load: 0.5 }, 600_000), undefined);
  equal(cpuPerMessage({ load: 0.5, target: 0.9 }, 0), undefined);
  const latency = { p50: 1, p99: 2, max: 3, samples: 10 };
  const rpc = { callsPerSecond: 100_000, latency, calls: 1, lost: 0, failed: 0 };
  ok(
    summarize({ scenario: "rpc", ...rpc, cpu: { load: 0.5, target: 0.25 } })
      .endsWith("CPU: load tool 0.5, target 0.25 = 2.5 µs per call"),
  );
  ok(summarize({ scenario: "rpc", ...rpc, cpu: { load: 0.5 } }).endsWith("load tool 0.5"));
});

Deno.test("messageType() reads the type code of every serializer's messages", () => {
  const messages: WampMessage[] = [
    { type: MessageType.EVENT, subscription: 1, publication: 2 ** 40, details: {}, args: [1] },
    { type: MessageType.RESULT, request: 7, details: {}, args: ["x"] },
    { type: MessageType.YIELD, request: 7, options: {}, args: [] },
    { type: MessageType.PUBLISH, request: 1, options: {}, topic: "a.b" },
    { type: MessageType.HELLO, realm: "realm1", details: {} },
  ];
  for (const s of Object.values(serializers)) {
    for (const msg of messages) equal(messageType(s, encodeBytes(s, msg)), msg.type, s.name);
    equal(messageType(s, new Uint8Array([0xff, 0xff, 0xff])), -1, s.name);
  }
});

for (const via of ["ws:json", "ws:msgpack", "tcp:cbor"] as const) {
  const [carrier, name] = via.split(":") as ["ws" | "tcp", "json" | "msgpack" | "cbor"];
  Deno.test(`load scenarios run against a router over ${via}`, async () => {
    await using r = await startRouter();
    const target: Target = {
      url: carrier === "ws" ? r.listener.urls.websocket! : r.listener.urls.rawsocket!,
      realm: "realm1",
      serializer: serializers[name],
      floor: false,
    };
    const pubsub = await runScenario("pubsub", target, brief(DEFAULTS.pubsub));
    ok(pubsub.scenario === "pubsub" && pubsub.eventsPerSecond > 0 && pubsub.lost === 0);
    ok(pubsub.latency.samples > 0);
    const rpc = await runScenario("rpc", target, brief(DEFAULTS.rpc));
    ok(rpc.scenario === "rpc" && rpc.callsPerSecond > 0 && rpc.lost === 0 && rpc.failed === 0);
    // The saturating shape: 8 callers with 256 calls each in flight, nothing lost.
    const full = await runScenario("rpc", target, brief({ ...DEFAULTS.rpc, ...SATURATING.rpc }));
    ok(full.scenario === "rpc" && full.lost === 0 && full.failed === 0);
    const fanout = await runScenario(
      "fanout",
      target,
      brief({ ...DEFAULTS.fanout, subscribers: 20 }),
    );
    ok(fanout.scenario === "fanout" && fanout.eventsPerSecond > 0 && fanout.lost === 0);
    const joined = await runScenario("connections", target, {
      ...DEFAULTS.connections,
      sessions: 50,
    });
    ok(joined.scenario === "connections");
    equal(joined.joined, 50);
    equal(joined.failed, 0);
  });
}

Deno.test("the slowconsumer scenario: the healthy subscriber loses nothing", async () => {
  await using r = await startRouter({
    listener: { attach: { maxBacklog: 256 * 1024, slowConsumer: "drop" } },
  });
  const target: Target = {
    url: r.listener.urls.rawsocket!,
    realm: "realm1",
    serializer: serializers.msgpack,
    floor: false,
  };
  const result = await runScenario("slowconsumer", target, {
    ...brief(DEFAULTS.slowconsumer),
    size: 1000, // 64 events in flight: 64 KiB, below the bound
    duration: 1,
  });
  ok(result.scenario === "slowconsumer" && result.eventsPerSecond > 0);
  equal(result.lost, 0);
  ok(r.logs.some((line) => line.includes("slow consumer")), r.logs.join("\n"));
});

Deno.test("load scenarios run against the bare relay (bench/floor/relay.ts)", async () => {
  const relay = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      new URL("../../bench/floor/relay.ts", import.meta.url).pathname,
      "0",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  try {
    const reader = relay.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const { value } = await reader.read();
    const port = /listening on (\d+)/.exec(value ?? "")?.[1];
    ok(port !== undefined, value);
    reader.releaseLock();
    const target: Target = {
      url: `ws://127.0.0.1:${port}`,
      realm: "realm1",
      serializer: serializers.json,
      floor: true,
    };
    const pubsub = await runScenario("pubsub", target, brief(DEFAULTS.pubsub));
    ok(pubsub.scenario === "pubsub" && pubsub.eventsPerSecond > 0 && pubsub.lost === 0);
    const rpc = await runScenario("rpc", target, brief({ ...DEFAULTS.rpc, callers: 3 }));
    ok(rpc.scenario === "rpc" && rpc.callsPerSecond > 0 && rpc.lost === 0 && rpc.failed === 0);
    // The saturating shape: 8 callers with 256 calls each in flight, nothing lost.
    const full = await runScenario("rpc", target, brief({ ...DEFAULTS.rpc, ...SATURATING.rpc }));
    ok(full.scenario === "rpc" && full.lost === 0 && full.failed === 0);
  } finally {
    relay.kill();
    await relay.status;
    await relay.stdout.cancel().catch(() => {});
  }
});
