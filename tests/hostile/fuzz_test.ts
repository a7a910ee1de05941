/**
 * Fuzzing over the wire: mutated WAMP frames against a router behind
 * `listen()` on port 0, over WebSocket, RawSocket and HTTP long-poll, with
 * JSON, MessagePack and CBOR, while healthy sessions (our client) publish,
 * receive, call and answer a counted stream alongside.
 *
 * Each fuzz frame is a valid frame (HELLO, SUBSCRIBE, PUBLISH, CALL,
 * REGISTER, YIELD, ERROR, ...) mutated at the value level (type confusion,
 * huge numbers, dropped/inserted fields, random message types) and/or the
 * byte level (bit flips, inserted and deleted bytes, truncation, splices
 * with another frame), or with a raw insert: deep nesting, out-of-range
 * integers, CBOR tags (bignum, shared refs, dates), msgpack ext types,
 * invalid UTF-8. Most go after a valid HELLO, one in eight as the first
 * frame. After each, a valid probe (CALL `wamp.session.count`, or HELLO on
 * a fresh connection) must be answered, or the session aborted or closed,
 * within {@linkcode REPLY_BOUND_MS}: a hang fails the test and prints the
 * frame to replay it.
 *
 * Asserted: no uncaught error (Deno fails the test on one), no router log
 * line at level "error", no fuzz connection left without an answer, the
 * healthy sessions lose no event and no call, and a new session joins at
 * the end.
 *
 * Deterministic: seeded PRNG. CI runs {@linkcode DEFAULT_FRAMES} frames;
 * run it long on demand:
 *
 *   FUZZ_FRAMES=100000 FUZZ_SEED=7 deno test -A tests/hostile/fuzz_test.ts
 *
 * (FUZZ_FRAMES: frames in all, split over the 9 transport × serializer
 * lanes; FUZZ_SEED: the PRNG seed, default 1.)
 */

import { deepEqual, equal, fail, ok } from "node:assert/strict";
import { decode as decodeMsgpack, encode as encodeMsgpack } from "@msgpack/msgpack";
import { Encoder } from "cbor-x/encode";
import { connect, type Event, type Session } from "../../mod.ts";
import { concat } from "../../transports/stream/bytes.ts";
import { rawFrames } from "../_helpers/raw_rawsocket.ts";
import { rawWebSocket } from "../_helpers/raw_websocket.ts";
import { startRouter, type TestRouter, until, within } from "../_helpers/router.ts";

type Ser = "json" | "msgpack" | "cbor";
type Transport = "ws" | "tcp" | "longpoll";

const SERS: readonly Ser[] = ["json", "msgpack", "cbor"];
const TRANSPORTS: readonly Transport[] = ["ws", "tcp", "longpoll"];

/** Frames fuzzed in CI (all lanes together). */
const DEFAULT_FRAMES = 1800;
const FRAMES = Number(Deno.env.get("FUZZ_FRAMES") ?? DEFAULT_FRAMES);
const SEED = Number(Deno.env.get("FUZZ_SEED") ?? 1);
/** The bound on the router's answer to a probe, in milliseconds. */
const REPLY_BOUND_MS = 5000;
/** Keeps frames within the raw WebSocket helper's 64 KiB frame. */
const MAX_FRAME = 60_000;

const cborx = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });
const utf8 = new TextEncoder();

// ---- PRNG ------------------------------------------------------------------

/** mulberry32: a small seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;

function int(rand: Rand, n: number): number {
  return Math.floor(rand() * n);
}

function pick<T>(rand: Rand, items: readonly T[]): T {
  return items[int(rand, items.length)]!;
}

// ---- frames ------------------------------------------------------------------

const ROLES = { publisher: {}, subscriber: {}, caller: {}, callee: {} };
/** Messages that take the session's next request ID. */
const NEW_REQUEST: ReadonlySet<unknown> = new Set([16, 32, 34, 48, 64, 66]);
/** Stands for a raw insert (deep nesting, a tag, ...) until encoding. */
const HOLE = "@@hole@@";

function hello(): unknown[] {
  return [1, "realm1", { roles: ROLES }];
}

/**
 * Valid frames a joined session may send; the fuzzer mutates them.
 *
 * @param r The session's next request ID (the router checks the sequence).
 */
function templates(rand: Rand, r: number): unknown[][] {
  const other = 1 + int(rand, 1000);
  return [
    [32, r, {}, "com.fuzz.topic"],
    [32, r, { match: "prefix" }, "com.fuzz."],
    [34, r, 1 + int(rand, 100)],
    [16, r, { acknowledge: true }, "com.fuzz.topic", [1, "a"], { k: "v" }],
    [16, r, { acknowledge: true, exclude_me: false }, "com.fuzz.topic", [HOLE]],
    [16, r, { acknowledge: true, retain: true }, "com.fuzz.retained", [HOLE], { h: HOLE }],
    [48, r, {}, "com.fuzz.proc", [1], {}],
    [48, r, { timeout: 1000 }, "wamp.session.get", [HOLE]],
    [48, r, {}, "wamp.subscription.lookup", ["com.fuzz.topic", { match: HOLE }]],
    [64, r, {}, "com.fuzz.proc"],
    [64, r, { match: "wildcard" }, "com..proc"],
    [66, r, 1 + int(rand, 100)],
    [70, other, {}, [HOLE]],
    [8, 68, other, {}, "com.fuzz.error", ["x"]],
    [49, other, {}],
    [6, {}, "wamp.close.normal"],
    [5, "signature", {}],
    hello(),
  ];
}

/** Values that confuse types: every field is replaced by one of these. */
function oddValue(rand: Rand, ser: Ser): unknown {
  const values: unknown[] = [
    null,
    ser === "cbor" ? undefined : null,
    true,
    0,
    -1,
    1.5,
    2 ** 31,
    2 ** 53,
    2 ** 53 + 2,
    -(2 ** 63),
    2 ** 64,
    1e308,
    "",
    "wamp.",
    "com.fuzz.topic",
    "x".repeat(1 + int(rand, 2000)),
    "\u0000",
    [],
    {},
    [[]],
    { a: { b: { c: [] } } },
    Array.from({ length: int(rand, 50) }, (_, i) => i),
    HOLE,
  ];
  if (ser !== "json") {
    values.push(NaN, Infinity, -Infinity, new Uint8Array(int(rand, 64)));
    values.push(ser === "cbor" ? 2n ** 70n : 2n ** 64n - 1n, -(2n ** 63n));
  }
  return pick(rand, values);
}

/** Mutates a frame's values in place: a random field replaced, dropped or added. */
function mutateValue(rand: Rand, msg: unknown[], ser: Ser): void {
  const containers: (unknown[] | Record<string, unknown>)[] = [msg];
  const walk = (v: unknown, depth: number): void => {
    if (depth > 4 || v === null || typeof v !== "object" || v instanceof Uint8Array) return;
    containers.push(v as unknown[]);
    for (const child of Object.values(v)) walk(child, depth + 1);
  };
  for (const child of msg) walk(child, 1);
  const target = pick(rand, containers);
  const keys = Object.keys(target);
  switch (int(rand, 5)) {
    case 0: // type confusion
      if (keys.length > 0) {
        (target as Record<string, unknown>)[pick(rand, keys)] = oddValue(rand, ser);
      }
      break;
    case 1: // drop a field
      if (Array.isArray(target)) target.splice(int(rand, target.length), 1);
      else if (keys.length > 0) delete target[pick(rand, keys)];
      break;
    case 2: // add a field
      if (Array.isArray(target)) {
        target.splice(int(rand, target.length + 1), 0, oddValue(rand, ser));
      } else {target[pick(rand, ["match", "acknowledge", "timeout", "receive_progress", "x"])] =
          oddValue(rand, ser);}
      break;
    case 3: // a random message type
      msg[0] = pick(rand, [0, -1, 2, 3, 4, 7, 17, 33, 36, 50, 65, 68, 69, 255, 256, 2 ** 31]);
      break;
    default: // a raw insert where a field was
      if (keys.length > 0) (target as Record<string, unknown>)[pick(rand, keys)] = HOLE;
  }
}

function repeat(byte: number, n: number): number[] {
  return new Array<number>(n).fill(byte);
}

/** Bytes no encoder writes for us: deep nesting, tags, ext types, bad UTF-8. */
function rawInsert(rand: Rand, ser: Ser): Uint8Array {
  const depth = pick(rand, [65, 200, 1000, 10_000, 20_000]);
  if (ser === "json") {
    return utf8.encode(pick(rand, [
      "[".repeat(depth) + "]".repeat(depth),
      '{"a":'.repeat(depth >> 2) + "1" + "}".repeat(depth >> 2),
      "123456789012345678901234567890",
      "-18446744073709551617",
      "1e999",
      "-0",
      '"\\ud800"',
      '"\\u0000wamp"',
    ]));
  }
  if (ser === "msgpack") {
    return Uint8Array.from(pick(rand, [
      [...repeat(0x91, depth), 0xc0],
      [...repeat(0x81, depth >> 1).flatMap(() => [0x81, 0xa1, 0x61]).slice(0, depth), 0xc0],
      [0xcf, ...repeat(0xff, 8)], // uint64 max
      [0xd3, 0x80, ...repeat(0, 7)], // int64 min
      [0xd4, 0x01, 0x00], // fixext 1
      [0xc7, 0x03, 0xff, 1, 2, 3], // ext 8, type -1 (timestamp)
      [0xd6, 0xff, 0, 0, 0, 1], // timestamp 32
      [0xa2, 0xff, 0xfe], // invalid UTF-8 string
      [0x81, 0x01, 0x02], // map with an integer key
      [0x81, 0x90, 0x02], // map with an array key
      [0xc1], // never used
      [0xdd, 0xff, 0xff, 0xff, 0xff], // array 32 claiming 4G items
    ]));
  }
  return Uint8Array.from(pick(rand, [
    [...repeat(0x81, depth), 0xf6],
    [0xc2, 0x49, ...repeat(0xff, 9)], // tag 2 bignum
    [0xc3, 0x58, 0x40, ...repeat(0x01, 64)], // tag 3 negative bignum
    [0xd8, 0x1c, 0x81, 0xd8, 0x1d, 0x00], // tag 28 shareable holding tag 29 ref: a cycle
    [0xd8, 0x1d, 0x05], // tag 29 ref to nothing
    [0xc1, 0x1a, 0x5f, 0x00, 0x00, 0x00], // tag 1 date
    [0xd9, 0xd9, 0xf7, 0x80], // self-describe tag
    [0xd8, 0x40, 0x43, 1, 2, 3], // tag 64 typed array
    [0xdb, ...repeat(0xff, 8), 0x00], // tag 2^64-1
    [0x9f, 0x01, 0x02, 0xff], // indefinite array
    [0x5f, 0x41, 0x00, 0xff], // indefinite bytes
    [0xf7], // undefined
    [0xf8, 0x20], // simple value 32
    [0xf9, 0x7c, 0x00], // half-float infinity
    [0x62, 0xff, 0xfe], // invalid UTF-8 text
    [0xa1, 0x80, 0x01], // map with an array key
    [0x9b, ...repeat(0xff, 8)], // array claiming 2^64-1 items
  ]));
}

function encode(ser: Ser, msg: unknown[]): Uint8Array {
  if (ser === "json") {
    return utf8.encode(JSON.stringify(msg, (_k, v) => typeof v === "bigint" ? Number(v) : v));
  }
  return ser === "msgpack" ? encodeMsgpack(msg, { useBigInt64: true }) : cborx.encode(msg);
}

/** The encoded hole, to find and replace in a frame. */
function encodedHole(ser: Ser): Uint8Array {
  const whole = encode(ser, [HOLE]);
  return whole.subarray(1); // drop the one-item array header ("[" / 0x91 / 0x81)
}

function indexOf(bytes: Uint8Array, part: Uint8Array, from = 0): number {
  outer: for (let i = from; i <= bytes.length - part.length; i++) {
    for (let j = 0; j < part.length; j++) if (bytes[i + j] !== part[j]) continue outer;
    return i;
  }
  return -1;
}

/** Fills each hole with a raw insert (or, half the time, the plain string). */
function fillHoles(rand: Rand, ser: Ser, bytes: Uint8Array): Uint8Array {
  const hole = ser === "json" ? utf8.encode(JSON.stringify(HOLE)) : encodedHole(ser);
  let at = indexOf(bytes, hole);
  while (at >= 0) {
    if (rand() < 0.5) {
      const insert = rawInsert(rand, ser);
      bytes = concat([bytes.subarray(0, at), insert, bytes.subarray(at + hole.length)]);
      at = indexOf(bytes, hole, at + insert.length);
    } else {
      at = indexOf(bytes, hole, at + hole.length);
    }
  }
  return bytes;
}

/** Byte-level damage: flips, inserts, deletes, truncation, splices. */
function mutateBytes(rand: Rand, bytes: Uint8Array, other: Uint8Array): Uint8Array {
  const n = bytes.length;
  const at = int(rand, n + 1);
  switch (int(rand, 6)) {
    case 0: {
      const out = bytes.slice();
      for (let i = 0, k = 1 + int(rand, 8); i < k && n > 0; i++) {
        out[int(rand, n)]! ^= 1 << int(rand, 8);
      }
      return out;
    }
    case 1:
      return concat([
        bytes.subarray(0, at),
        Uint8Array.from({ length: 1 + int(rand, 8) }, () => int(rand, 256)),
        bytes.subarray(at),
      ]);
    case 2:
      return concat([bytes.subarray(0, at), bytes.subarray(Math.min(n, at + 1 + int(rand, 8)))]);
    case 3:
      return bytes.subarray(0, at);
    case 4:
      return concat([bytes.subarray(0, at), other.subarray(int(rand, other.length + 1))]);
    default: {
      const end = Math.min(n, at + 1 + int(rand, 16));
      return concat([bytes.subarray(0, end), bytes.subarray(at, end), bytes.subarray(end)]);
    }
  }
}

/**
 * One fuzz frame: a mutated template.
 *
 * @returns The frame, and whether its template takes a request ID.
 */
function fuzzFrame(rand: Rand, ser: Ser, first: boolean, request: number): [Uint8Array, boolean] {
  const all = templates(rand, request);
  const msg = structuredClone(first && rand() < 0.5 ? hello() : pick(rand, all));
  const takesId = NEW_REQUEST.has(msg[0]);
  // Half the frames keep a valid encoding (value mutations only), so the
  // parser and the handlers behind it see them, not just the decoder.
  const mode = rand();
  const valueMutations = mode < 0.8 ? 1 + int(rand, 2) : 0;
  for (let i = 0; i < valueMutations; i++) mutateValue(rand, msg, ser);
  let bytes = fillHoles(rand, ser, encode(ser, msg));
  const byteMutations = mode < 0.5 ? 0 : 1 + int(rand, 2);
  for (let i = 0; i < byteMutations; i++) {
    bytes = mutateBytes(rand, bytes, encode(ser, pick(rand, all)));
  }
  return [bytes.length > MAX_FRAME ? bytes.subarray(0, MAX_FRAME) : bytes, takesId];
}

// ---- raw peers -------------------------------------------------------------------

function decode(ser: Ser, payload: Uint8Array): unknown {
  if (ser === "json") return JSON.parse(new TextDecoder().decode(payload));
  return ser === "msgpack" ? decodeMsgpack(payload, { useBigInt64: true }) : cborx.decode(payload);
}

/** A raw connection: sends frames, reads messages until closed. */
interface RawPeer {
  send(frame: Uint8Array): Promise<void>;
  /** The next message, or "closed". */
  next(): Promise<unknown[] | "closed">;
  close(): Promise<void>;
}

async function rawWs(t: TestRouter, ser: Ser): Promise<RawPeer> {
  const ws = await rawWebSocket(t.listener.urls.websocket!, [`wamp.2.${ser}`]);
  ok(ws.head.startsWith("HTTP/1.1 101"), ws.head);
  return {
    async send(frame) {
      try {
        await ws.send(ser === "json" ? new TextDecoder().decode(frame) : frame);
      } catch { /* closed under us: next() says so */ }
    },
    async next() {
      try {
        const { opcode, payload } = await ws.read();
        return opcode === 8 ? "closed" : decode(ser, payload) as unknown[];
      } catch {
        return "closed";
      }
    },
    close: () => Promise.resolve(ws.close()),
  };
}

async function rawTcp(t: TestRouter, ser: Ser): Promise<RawPeer> {
  const raw = await rawFrames(t.listener.urls.rawsocket!, { json: 1, msgpack: 2, cbor: 3 }[ser]);
  return {
    async send(frame) {
      await raw.send(frame); // closed under us: next() says so
    },
    async next() {
      const payload = await raw.next();
      return payload === null ? "closed" : decode(ser, payload) as unknown[];
    },
    close() {
      raw.close();
      return Promise.resolve();
    },
  };
}

async function rawLongPoll(t: TestRouter, ser: Ser): Promise<RawPeer> {
  const base = t.listener.urls.longpoll!;
  const opened = await fetch(`${base}/open`, {
    method: "POST",
    body: JSON.stringify({ protocols: [`wamp.2.${ser}`] }),
  });
  equal(opened.status, 200);
  const { transport } = await opened.json() as { transport: string };
  const post = async (op: string, body?: Uint8Array): Promise<[number, Uint8Array]> => {
    const res = await fetch(`${base}/${transport}/${op}`, {
      method: "POST",
      ...(body === undefined ? {} : { body: body as Uint8Array<ArrayBuffer> }),
    });
    return [res.status, new Uint8Array(await res.arrayBuffer())];
  };
  let closed = false;
  return {
    async send(frame) {
      if (!closed) await post("send", frame);
    },
    async next() {
      if (closed) return "closed";
      const [status, body] = await post("receive");
      if (status === 200) return decode(ser, body) as unknown[];
      closed = true;
      return "closed";
    },
    async close() {
      if (!closed) await post("close");
      closed = true;
    },
  };
}

function rawPeer(t: TestRouter, transport: Transport, ser: Ser): Promise<RawPeer> {
  if (transport === "ws") return rawWs(t, ser);
  return transport === "tcp" ? rawTcp(t, ser) : rawLongPoll(t, ser);
}

type Outcome = "answered" | "aborted" | "goodbye" | "closed";

/**
 * Reads until the probe (the CALL with ID `probe`) is answered, or, before
 * a session exists (`probe` 0), until any reply; or until the session ends.
 *
 * @returns The outcome, and whether the session is still open.
 */
async function settle(peer: RawPeer, probe: number): Promise<[Outcome, boolean]> {
  for (;;) {
    const msg = await peer.next();
    if (msg === "closed") return ["closed", false];
    if (!Array.isArray(msg)) continue;
    if (msg[0] === 3) return ["aborted", false];
    if (msg[0] === 6) return ["goodbye", false];
    if (probe === 0) return ["answered", msg[0] === 2];
    if (msg[0] === 50 && msg[1] === probe) return ["answered", true];
    if (msg[0] === 8 && msg[1] === 48 && msg[2] === probe) return ["answered", true];
  }
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 512), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Fuzzes one transport × serializer lane; returns the outcome counts. */
async function fuzzLane(
  t: TestRouter,
  transport: Transport,
  ser: Ser,
  frames: number,
  seed: number,
): Promise<Record<Outcome, number>> {
  const rand = prng(seed);
  const counts: Record<Outcome, number> = { answered: 0, aborted: 0, goodbye: 0, closed: 0 };
  let peer: RawPeer | undefined;
  let request = 1;
  try {
    for (let i = 0; i < frames; i++) {
      const first = peer === undefined && rand() < 0.125;
      if (peer === undefined) {
        peer = await rawPeer(t, transport, ser);
        request = 1;
        if (!first) {
          await peer.send(encode(ser, hello()));
          const [outcome, welcomed] = await within(settle(peer, 0), REPLY_BOUND_MS, "WELCOME");
          ok(welcomed, `[${transport}:${ser}] no WELCOME to a valid HELLO: ${outcome}`);
        }
      }
      const [frame, takesId] = fuzzFrame(rand, ser, first, request);
      // The probe takes the ID after the frame's, as if the frame was accepted;
      // if it was not, the router aborts the session: an answer too.
      const probe = first ? 0 : request + (takesId ? 1 : 0);
      await peer.send(frame);
      await peer.send(encode(ser, first ? hello() : [48, probe, {}, "wamp.session.count"]));
      request = probe + 1;
      const [outcome, alive] = await within(
        settle(peer, probe),
        REPLY_BOUND_MS,
        `[${transport}:${ser}] the answer to fuzz frame #${i} (${
          first ? "first frame" : "after HELLO"
        }) ${hex(frame)}`,
      );
      counts[outcome]++;
      if (!alive || first) {
        await peer.close();
        peer = undefined;
      }
    }
  } finally {
    await peer?.close();
  }
  return counts;
}

// ---- healthy traffic -----------------------------------------------------------

interface Healthy {
  stop(): Promise<void>;
}

/**
 * A subscriber (RawSocket+msgpack), a publisher (WebSocket+cbor), a callee
 * (long-poll+json) and a caller (WebSocket+json) exchanging numbered
 * events and calls until stopped; then nothing may be missing. They also
 * subscribe to the fuzzers' topics and answer their procedure.
 */
async function healthyTraffic(t: TestRouter): Promise<Healthy> {
  const urls = t.listener.urls;
  const sessions: Session[] = [];
  const join = async (url: string, ser: Ser): Promise<Session> => {
    const s = await connect(url, { realm: "realm1", serializers: [ser] });
    sessions.push(s);
    return s;
  };
  const subscriber = await join(urls.rawsocket!, "msgpack");
  const publisher = await join(urls.websocket!, "cbor");
  const callee = await join(urls.longpoll!, "json");
  const caller = await join(urls.websocket!, "json");
  const received: number[] = [];
  await subscriber.subscribe("com.healthy.events", (e: Event) => {
    if (typeof e.args[0] === "number") received.push(e.args[0]);
  });
  await callee.register("com.healthy.double", (args) => ({ args: [(args[0] as number) * 2] }));
  // Bystanders of the fuzz traffic: they get whatever the router accepts
  // from the fuzzers, and must stay open.
  let fuzzEvents = 0;
  await subscriber.subscribe("com.fuzz.", () => void fuzzEvents++, { match: "prefix" });
  await publisher.subscribe("com.fuzz.retained", () => {}, { get_retained: true });
  await callee.register("com.fuzz.proc", (args, kwargs) => ({ args, kwargs }));
  let running = true;
  let sent = 0;
  const loop = (async () => {
    while (running) {
      const n = sent;
      await within(
        publisher.publish("com.healthy.events", { args: [n] }, { acknowledge: true }),
        5000,
        "publish",
      );
      sent++;
      const result = await within(caller.call("com.healthy.double", { args: [n] }), 5000, "call");
      deepEqual(result.args, [n * 2]);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  })();
  // Held until stop() reports it, so a failure mid-run is not an unhandled rejection.
  let failure: unknown;
  loop.catch((error) => failure = error);
  return {
    async stop() {
      running = false;
      await loop.catch(() => {});
      for (const [i, s] of sessions.entries()) {
        if (!s.isOpen) fail(`healthy session #${i} was closed: ${JSON.stringify(await s.closed)}`);
      }
      if (failure !== undefined) throw failure;
      await until(() => received.length >= sent, 5000, `${sent} healthy events`);
      deepEqual(received, Array.from({ length: sent }, (_, i) => i));
      ok(sent > 0);
      ok(fuzzEvents > 0, "no fuzz event reached the bystander");
      await Promise.all(sessions.map((s) => s.close()));
    },
  };
}

Deno.test(`mutated frames over ws/rawsocket/long-poll × json/msgpack/cbor (${FRAMES} frames, seed ${SEED})`, async () => {
  await using t = await startRouter();
  const healthy = await healthyTraffic(t);
  const lanes = TRANSPORTS.flatMap((transport) => SERS.map((ser) => [transport, ser] as const));
  const perLane = Math.ceil(FRAMES / lanes.length);
  const results = await Promise.all(
    lanes.map(([transport, ser], i) => fuzzLane(t, transport, ser, perLane, SEED * 1000 + i)),
  );
  await healthy.stop();
  const total = results.reduce((n, r) => n + r.answered + r.aborted + r.goodbye + r.closed, 0);
  equal(total, perLane * lanes.length);
  // Some frames must have been refused and some survived, or the fuzzer tests nothing.
  ok(results.every((r) => r.answered > 0 && r.aborted + r.closed > 0), JSON.stringify(results));
  deepEqual(t.logs.filter((line) => line.startsWith("error")), []);
  const late = await connect(t.url, { realm: "realm1" });
  equal((await late.call("wamp.session.count")).args.length, 1);
  await late.close();
  if (Deno.env.has("FUZZ_FRAMES")) {
    console.log(lanes.map(([tr, s], i) => `${tr}:${s} ${JSON.stringify(results[i])}`).join("\n"));
  }
});

for (const ser of ["msgpack", "cbor"] as const) {
  Deno.test({
    name:
      `a lone surrogate published over JSON is refused from its publisher, not a ${ser} subscriber (found by FUZZ_SEED=7)`,
    // The router accepted the JSON escape "\ud800" in a payload and
    // re-encoded it for msgpack/cbor as bytes that are not UTF-8, so our
    // client's decoder aborted the subscriber's session. Now the publisher
    // is refused at arrival.
    async fn() {
      await using t = await startRouter();
      const subscriber = await connect(t.listener.urls.rawsocket!, {
        realm: "realm1",
        serializers: [ser],
      });
      const events: Event[] = [];
      await subscriber.subscribe("com.fuzz.topic", (e) => void events.push(e));
      const ws = await rawWebSocket(t.url, ["wamp.2.json"]);
      try {
        await ws.send(JSON.stringify(hello()));
        equal(JSON.parse(new TextDecoder().decode((await ws.read()).payload))[0], 2);
        await ws.send('[16,1,{"acknowledge":true},"com.fuzz.topic",["\\ud800"]]');
        const reply = await within(ws.read(), REPLY_BOUND_MS, "ABORT");
        equal(JSON.parse(new TextDecoder().decode(reply.payload))[0], 3); // ABORT
        const publisher = await connect(t.url, { realm: "realm1", serializers: ["json"] });
        await publisher.publish("com.fuzz.topic", { args: ["after"] }, { acknowledge: true });
        await publisher.close();
        await until(() => events.some((e) => e.args[0] === "after"), 5000, "the next event");
        equal(events.length, 1);
        ok(subscriber.isOpen);
      } finally {
        ws.close();
        await subscriber.close();
      }
    },
  });
}
