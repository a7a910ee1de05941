/**
 * wampy (npm `wampy` 8.0.2, a widely used JS WAMP client) against our router
 * over WebSocket, with json, msgpack and cbor: join, publish/subscribe with
 * args and kwargs (to another wampy and to our own client), a prefix
 * subscription, unsubscribe, register/call both ways, a callee's error URI,
 * `wamp.error.no_such_procedure`, progressive results and leave. The router
 * must log no protocol violation, warning or error.
 *
 * wampy runs under Deno as under Node: it sees the `process` global, so it
 * needs the `ws` option (we pass Deno's global `WebSocket`). msgpackr and
 * cbor-x use their native add-ons only with `--allow-ffi`; `deno task test`
 * does not grant it, so the tests run on their pure-JS paths.
 *
 * What wampy 8.0.2 sends that is off-spec (seen on the wire):
 * - SUBSCRIBE.Options always carries `match` and `get_retained`, `undefined`
 *   when not given. JSON drops them; cbor-x writes CBOR `undefined` (0xf7),
 *   which the router reads as absent; msgpackr writes fixext 1 type 0
 *   (`d4 00 00`, its private encoding of `undefined`), which the router
 *   reads as absent too (before, it refused it as an ext type and no wampy
 *   SUBSCRIBE got through over msgpack). `[msgpack, undefined as nil]` runs
 *   the same scenario with msgpack nil instead.
 * - Its callee role announces neither `progressive_call_results` nor
 *   `call_canceling` (only its caller role does), yet its callee sends
 *   progressive YIELDs. The router, as the spec asks, passes no
 *   `receive_progress` to such a callee and drops those YIELDs, so callers get
 *   the final result only; the tests pin that, and patch the two features into
 *   wampy's HELLO to check that progressive results flow once announced.
 * - It offers one subprotocol only, and falls back to JSON silently if the
 *   router picks `wamp.2.json`; the tests check the negotiated subprotocol.
 * - Not off the wire but worth knowing: msgpackr decodes uint64 to bigint, so
 *   over msgpack wampy hands out session, subscription and publication IDs
 *   from 2^32 up as bigint.
 *
 * @module
 */

import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import {
  ApplicationError,
  connect,
  type Event,
  type Result,
  type SerializerName,
  type Session,
} from "../../mod.ts";
import { importWampy, type WampyModule } from "../_deps.ts";
import { startRouter, type TestRouter, within } from "../_helpers/router.ts";
import { useThenDispose } from "../_helpers/dispose.ts";

/** The bound on every wait, in milliseconds. */
const TIMEOUT_MS = 3000;

// ---- wampy, loaded or not -----------------------------------------------------

type Wampy = InstanceType<WampyModule["Wampy"]>;
type WampyOptions = NonNullable<ConstructorParameters<WampyModule["Wampy"]>[1]>;
type WampySerializer = NonNullable<WampyOptions["serializer"]>;
type EventData = Parameters<Parameters<Wampy["subscribe"]>[1]>[0];

interface Loaded {
  Wampy: WampyModule["Wampy"];
  JsonSerializer: new () => WampySerializer;
  MsgpackSerializer: new () => WampySerializer;
  CborSerializer: new () => WampySerializer;
}

async function load(): Promise<{ wampy?: Loaded; unavailable?: string }> {
  try {
    const [{ Wampy }, { JsonSerializer }, { MsgpackSerializer }, { CborSerializer }] =
      await importWampy();
    return { wampy: { Wampy, JsonSerializer, MsgpackSerializer, CborSerializer } };
  } catch (error) {
    return { unavailable: `npm:wampy cannot be imported (${String(error).split("\n")[0]})` };
  }
}

const { wampy, unavailable } = await load();

// ---- serializers, traced --------------------------------------------------------

/** `value` with every `undefined` inside arrays and plain objects replaced by `null`. */
function undefinedToNull(value: unknown): unknown {
  if (value === undefined) return null;
  if (Array.isArray(value)) return value.map(undefinedToNull);
  if (value !== null && typeof value === "object" && value.constructor === Object) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, undefinedToNull(v)]),
    );
  }
  return value;
}

/** Wraps a wampy serializer and keeps every SUBSCRIBE frame it writes. */
class Traced implements WampySerializer {
  readonly subscribes: (string | Uint8Array)[] = [];
  readonly protocol: string;
  readonly isBinary: boolean;
  readonly #inner: WampySerializer;
  readonly #nil: boolean;

  /**
   * @param inner wampy's serializer.
   * @param nil Send `undefined` as `null` (msgpack nil).
   */
  constructor(inner: WampySerializer, nil = false) {
    this.#inner = inner;
    this.#nil = nil;
    this.protocol = inner.protocol;
    this.isBinary = inner.isBinary;
  }

  encode(data: unknown): string | ArrayBuffer | Uint8Array {
    const out = this.#inner.encode(this.#nil ? undefinedToNull(data) : data);
    if (Array.isArray(data) && data[0] === 32) {
      this.subscribes.push(out instanceof ArrayBuffer ? new Uint8Array(out) : out);
    }
    return out;
  }

  decode(data: string | ArrayBuffer | Uint8Array): unknown {
    return this.#inner.decode(data);
  }
}

/** Whether `frame` holds `bytes` contiguously. */
function holds(frame: string | Uint8Array, bytes: number[]): boolean {
  if (typeof frame === "string") return false;
  for (let i = 0; i + bytes.length <= frame.length; i++) {
    if (bytes.every((b, j) => frame[i + j] === b)) return true;
  }
  return false;
}

// ---- a wampy peer -----------------------------------------------------------------

/** A joined wampy client; disposing leaves (GOODBYE) and waits for the socket to close. */
class WampyPeer implements AsyncDisposable {
  readonly client: Wampy;
  /** WELCOME.Details. */
  welcome: Record<string, unknown> = {};
  /** What wampy reported through `onError`. */
  readonly errors: Error[] = [];
  /** Resolves when wampy's `onClose` fires. */
  readonly closed: Promise<void>;
  #isClosed = false;

  constructor(w: Loaded, url: string, serializer: WampySerializer, calleeProgress = false) {
    let onClose = () => {};
    this.closed = new Promise<void>((resolve) => onClose = resolve);
    this.client = new w.Wampy(url, {
      realm: "realm1",
      ws: WebSocket,
      serializer,
      autoReconnect: false,
      onClose: () => {
        this.#isClosed = true;
        onClose();
      },
      onError: (error) => {
        this.errors.push(error);
      },
    });
    if (calleeProgress) {
      // wampy 8.0.2 announces these for its caller role only; its callee
      // sends progressive YIELDs all the same.
      const features = (this.client as unknown as {
        _wamp_features: { roles: { callee: { features: Record<string, boolean> } } };
      })._wamp_features.roles.callee.features;
      features.progressive_call_results = true;
      features.call_canceling = true;
    }
  }

  /** Opens a wampy session; `track` gets it first, so a failed join is torn down too. */
  static async open(
    w: Loaded,
    url: string,
    serializer: WampySerializer,
    track: (peer: WampyPeer) => void,
    calleeProgress = false,
  ): Promise<WampyPeer> {
    const peer = new WampyPeer(w, url, serializer, calleeProgress);
    track(peer);
    peer.welcome = await within(peer.client.connect(), TIMEOUT_MS, "wampy connect()");
    return peer;
  }

  /** The negotiated WebSocket subprotocol (wampy keeps the socket private). */
  get subprotocol(): string | undefined {
    return (this.client as unknown as { _ws: WebSocket | null })._ws?.protocol;
  }

  /** `disconnect()`: GOODBYE, then the socket closes. */
  async leave(): Promise<void> {
    await within(this.client.disconnect(), TIMEOUT_MS, "wampy disconnect()");
    await within(this.closed, TIMEOUT_MS, "wampy onClose");
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#isClosed) return;
    if (this.client.getSessionId() != null) {
      await this.leave();
    } else {
      await this.client.disconnect();
      await within(this.closed, TIMEOUT_MS, "wampy onClose");
    }
  }
}

/** Collects what a handler receives; `take(n)` waits for the first `n`. */
class Inbox<T> {
  readonly items: T[] = [];

  push = (item: T): void => {
    this.items.push(item);
  };

  async take(count: number, what: string): Promise<T[]> {
    await within(
      (async () => {
        while (this.items.length < count) await new Promise((r) => setTimeout(r, 5));
      })(),
      TIMEOUT_MS,
      `${what} (${this.items.length} of ${count})`,
    );
    return this.items.slice(0, count);
  }
}

/** An Error carrying what wampy puts in ERROR (it reads these fields off what the endpoint throws). */
class WampyCalleeError extends Error {
  readonly error: string;
  readonly argsList: unknown[];
  readonly argsDict: Record<string, unknown>;

  constructor(error: string, argsList: unknown[], argsDict: Record<string, unknown>) {
    super(error);
    this.error = error;
    this.argsList = argsList;
    this.argsDict = argsDict;
  }
}

/** What a failed wampy call rejects with (`Errors.CallError`). */
interface WampyCallError {
  readonly name: string;
  readonly errorUri: string;
  readonly argsList?: unknown[];
  readonly argsDict?: Record<string, unknown>;
}

/** Asserts that a wampy call rejects with a CallError carrying `uri` (and the payload, if given). */
async function callFails(
  call: Promise<unknown>,
  uri: string,
  payload?: { argsList?: unknown[]; argsDict?: Record<string, unknown> },
): Promise<void> {
  await rejects(within(call, TIMEOUT_MS, `call failing with ${uri}`), (e: WampyCallError) => {
    equal(e.name, "CallError");
    equal(e.errorUri, uri);
    if (payload?.argsList) deepEqual(e.argsList, payload.argsList);
    if (payload?.argsDict) deepEqual(e.argsDict, payload.argsDict);
    return true;
  });
}

// ---- the bed --------------------------------------------------------------------

/** A router plus the wampy and Cloverleaf sessions a test opened; checks the logs on the way out. */
class Bed implements AsyncDisposable {
  readonly t: TestRouter;
  readonly #w: Loaded;
  readonly #protocol: SerializerName;
  readonly #peers: WampyPeer[] = [];
  readonly #sessions: Session[] = [];
  /** Log lines a test expects (removed from the protocol-violation check). */
  expected: RegExp | undefined;

  private constructor(t: TestRouter, w: Loaded, protocol: SerializerName) {
    this.t = t;
    this.#w = w;
    this.#protocol = protocol;
  }

  static async start(w: Loaded, protocol: SerializerName): Promise<Bed> {
    return new Bed(await startRouter(), w, protocol);
  }

  /** A joined wampy session over this bed's serializer. */
  async wampy(serializer: WampySerializer, calleeProgress = false): Promise<WampyPeer> {
    const peer = await WampyPeer.open(
      this.#w,
      this.t.url,
      serializer,
      (p) => this.#peers.push(p),
      calleeProgress,
    );
    equal(peer.subprotocol, `wamp.2.${this.#protocol}`);
    return peer;
  }

  /** A joined Cloverleaf session over the same serializer. */
  async cloverleaf(): Promise<Session> {
    const session = await within(
      connect(this.t.url, {
        realm: "realm1",
        serializers: [this.#protocol],
        timeout: TIMEOUT_MS,
      }),
      TIMEOUT_MS,
      "Cloverleaf connect()",
    );
    this.#sessions.push(session);
    return session;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    const failures: string[] = [];
    const settle = (what: string, work: Promise<unknown>) =>
      work.catch((e) => failures.push(`${what}: ${e}`));
    await Promise.all(this.#peers.map((p) => settle("closing wampy", p[Symbol.asyncDispose]())));
    await Promise.all(
      this.#sessions.map((s) => settle("closing Cloverleaf", within(s.close(), TIMEOUT_MS))),
    );
    await settle(
      "router and listener",
      within(Promise.resolve(this.t[Symbol.asyncDispose]()), TIMEOUT_MS),
    );
    for (const line of this.t.logs) {
      if (this.expected?.test(line)) continue;
      if (/^(warn|error) |protocol violation/i.test(line)) failures.push(`router logged: ${line}`);
    }
    for (const peer of this.#peers) {
      for (const e of peer.errors) failures.push(`wampy onError: ${e.name}: ${e.message}`);
    }
    if (failures.length > 0) {
      throw new Error(`Teardown found problems:\n  ${failures.join("\n  ")}`);
    }
  }
}

// ---- the checks -------------------------------------------------------------------

/** A WAMP ID as wampy hands it over: msgpackr decodes uint64 (IDs from 2^32 up) to bigint. */
function isId(id: unknown): boolean {
  return (typeof id === "number" || typeof id === "bigint") && Number.isSafeInteger(Number(id)) &&
    Number(id) > 0;
}

/** WELCOME reached wampy: session ID and the router's roles. */
function checkJoin(peer: WampyPeer): void {
  ok(isId(peer.client.getSessionId()), "a session ID");
  const roles = peer.welcome.roles as Record<string, unknown>;
  ok(roles.broker, "WELCOME announces broker");
  ok(roles.dealer, "WELCOME announces dealer");
  equal(peer.welcome.authrole, "anonymous");
}

/**
 * pubsub_basic / pubsub_prefix_sub / unsubscribe: wampy `sub` subscribes
 * exactly and by prefix; wampy `pub` and Cloverleaf publish args and kwargs.
 */
async function checkPubSub(sub: WampyPeer, pub: WampyPeer, ours: Session): Promise<void> {
  const topic = "com.myapp.topic1";
  const exact = new Inbox<EventData>();
  const prefix = new Inbox<EventData>();
  const ourEvents = new Inbox<Event>();
  const exactSub = await within(sub.client.subscribe(topic, exact.push), TIMEOUT_MS, "subscribe");
  ok(isId(exactSub.subscriptionId), "a subscription ID");
  await within(
    sub.client.subscribe("com.myapp", prefix.push, { match: "prefix" }),
    TIMEOUT_MS,
    "subscribe match prefix",
  );
  await ours.subscribe(topic, ourEvents.push);

  // wampy publishes (wampy always asks for acknowledge: PUBLISHED resolves it).
  const published = await within(
    pub.client.publish(topic, { argsList: [1, "two", [3]], argsDict: { k: "v", n: 4.5 } }),
    TIMEOUT_MS,
    "publish",
  );
  ok(isId(published.publicationId), "a publication ID");
  const [e1] = await exact.take(1, "wampy's event");
  deepEqual([e1!.argsList, e1!.argsDict], [[1, "two", [3]], { k: "v", n: 4.5 }]);
  const [p1] = await prefix.take(1, "wampy's prefix event");
  equal(p1!.details.topic, topic);
  deepEqual(p1!.argsList, [1, "two", [3]]);
  const [o1] = await ourEvents.take(1, "our event");
  deepEqual([o1!.args, o1!.kwargs], [[1, "two", [3]], { k: "v", n: 4.5 }]);
  equal(o1!.publication, Number(published.publicationId));

  // Cloverleaf publishes to wampy.
  await ours.publish(topic, { args: ["ours"], kwargs: { from: "cloverleaf" } }, {
    acknowledge: true,
  });
  const [, e2] = await exact.take(2, "our event at wampy");
  deepEqual([e2!.argsList, e2!.argsDict], [["ours"], { from: "cloverleaf" }]);

  // Unsubscribed: the exact subscription gets nothing more, the prefix one does.
  await within(sub.client.unsubscribe(exactSub.subscriptionId), TIMEOUT_MS, "unsubscribe");
  await pub.client.publish(`${topic}.deeper`, ["sentinel"]);
  await pub.client.publish(topic, ["after"]);
  const p = await prefix.take(4, "prefix events");
  deepEqual(p.map((e) => [e.details.topic, e.argsList]).slice(1), [
    [topic, ["ours"]],
    [`${topic}.deeper`, ["sentinel"]],
    [topic, ["after"]],
  ]);
  equal(exact.items.length, 2);
}

/**
 * rpc_basic / rpc_error / rpc_progress, wampy ↔ wampy and wampy ↔ Cloverleaf.
 * `progressCapable` opens a wampy session whose callee role announces
 * progressive results.
 */
async function checkRpc(
  caller: WampyPeer,
  callee: WampyPeer,
  ours: Session,
  progressCapable: () => Promise<WampyPeer>,
): Promise<void> {
  // wampy callee: args and kwargs in, args and kwargs out.
  await within(
    callee.client.register("com.myapp.add2", ({ argsList, argsDict }) => ({
      argsList: [(argsList as number[])[0]! + (argsList as number[])[1]!],
      argsDict: { echo: argsDict },
    })),
    TIMEOUT_MS,
    "register",
  );
  const r = await within(
    caller.client.call("com.myapp.add2", { argsList: [2, 3], argsDict: { tag: "x" } }),
    TIMEOUT_MS,
    "call",
  );
  deepEqual([r.argsList, r.argsDict], [[5], { echo: { tag: "x" } }]);
  const ourResult = await ours.call("com.myapp.add2", { args: [4, 5], kwargs: { tag: "y" } });
  deepEqual([ourResult.args, ourResult.kwargs], [[9], { echo: { tag: "y" } }]);

  // Cloverleaf callee, wampy caller.
  await ours.register("com.myapp.mul", (args, kwargs) => ({
    args: [(args[0] as number) * (args[1] as number)],
    kwargs: { by: "cloverleaf", ...kwargs },
  }));
  const m = await within(
    caller.client.call("com.myapp.mul", { argsList: [6, 7], argsDict: { tag: "z" } }),
    TIMEOUT_MS,
    "call our procedure",
  );
  deepEqual([m.argsList, m.argsDict], [[42], { by: "cloverleaf", tag: "z" }]);

  // A wampy callee's error reaches both callers with its URI, args and kwargs.
  await callee.client.register("com.myapp.fail", () => {
    throw new WampyCalleeError("com.myapp.error.bad_input", ["bad input"], { code: 7 });
  });
  await callFails(caller.client.call("com.myapp.fail", ["x"]), "com.myapp.error.bad_input", {
    argsList: ["bad input"],
    argsDict: { code: 7 },
  });
  await rejects(ours.call("com.myapp.fail"), (e: ApplicationError) => {
    ok(e instanceof ApplicationError);
    deepEqual([e.uri, e.args, e.kwargs], ["com.myapp.error.bad_input", ["bad input"], { code: 7 }]);
    return true;
  });
  // And ours reaches wampy.
  await ours.register("com.myapp.ours_fails", () => {
    throw new ApplicationError("com.myapp.error.ours", { args: ["nope"], kwargs: { why: 1 } });
  });
  await callFails(caller.client.call("com.myapp.ours_fails"), "com.myapp.error.ours", {
    argsList: ["nope"],
    argsDict: { why: 1 },
  });

  // No such procedure.
  await callFails(caller.client.call("com.myapp.nothing"), "wamp.error.no_such_procedure");

  // Progressive results from a wampy callee. wampy announces
  // progressive_call_results and call_canceling for its caller role only, so
  // the router does not pass receive_progress on to it and drops its
  // progressive YIELDs: callers get the final result only.
  const countdown =
    (receiveProgress: unknown[]) =>
    ({ argsList, details, result_handler }: Parameters<Parameters<Wampy["register"]>[1]>[0]) => {
      receiveProgress.push(details.receive_progress);
      for (let i = (argsList as number[])[0]!; i > 0; i--) {
        result_handler({ argsList: [i], options: { progress: true } });
      }
      return { argsList: ["liftoff"] };
    };
  const progressiveCall = async (procedure: string) => {
    const steps: unknown[] = [];
    const final = await within(
      caller.client.call(procedure, [3], {
        progress_callback: ({ argsList }) => {
          steps.push(argsList?.[0]);
        },
      }),
      TIMEOUT_MS,
      "progressive call",
    );
    return [steps, final.argsList];
  };
  const stockAsked: unknown[] = [];
  await callee.client.register("com.myapp.countdown", countdown(stockAsked));
  deepEqual(await progressiveCall("com.myapp.countdown"), [[], ["liftoff"]]);
  deepEqual(stockAsked, [undefined]);
  // With both features announced (patched into wampy's HELLO), they flow,
  // to wampy and to Cloverleaf.
  const progressCallee = await progressCapable();
  const asked: unknown[] = [];
  await progressCallee.client.register("com.myapp.countdown2", countdown(asked));
  deepEqual(await progressiveCall("com.myapp.countdown2"), [[3, 2, 1], ["liftoff"]]);
  const ourSteps: Result[] = [];
  const ourFinal = await ours.call("com.myapp.countdown2", { args: [2] }, {
    onProgress: (p) => ourSteps.push(p),
  });
  deepEqual([ourSteps.map((step) => step.args), ourFinal.args], [[[2], [1]], ["liftoff"]]);
  deepEqual(asked, [true, true]);
  // Cloverleaf's progressive endpoint, wampy caller.
  await ours.register("com.myapp.ours_counts", (args, _kwargs, _details, invocation) => {
    for (let i = 1; i <= (args[0] as number); i++) invocation.progress({ args: [i] });
    return { args: ["done"] };
  });
  const wampySteps: unknown[] = [];
  const wampyFinal = await within(
    caller.client.call("com.myapp.ours_counts", [3], {
      progress_callback: ({ argsList }) => {
        wampySteps.push(argsList?.[0]);
      },
    }),
    TIMEOUT_MS,
    "progressive call to our procedure",
  );
  deepEqual([wampySteps, wampyFinal.argsList], [[1, 2, 3], ["done"]]);
}

/** wampy leaves: GOODBYE both ways, the socket closes, the router logs the leave. */
async function checkLeave(peer: WampyPeer, t: TestRouter): Promise<void> {
  const id = peer.client.getSessionId();
  await peer.leave();
  equal(peer.client.getSessionId() ?? null, null);
  ok(
    t.logs.some((l) => l.includes(`Session ${id} left realm "realm1"`)),
    `router logged the leave of ${id}`,
  );
}

// ---- the tests --------------------------------------------------------------------

interface Variant {
  /** The test name's tag. */
  readonly tag: string;
  readonly protocol: SerializerName;
  readonly make: (w: Loaded) => Traced;
  /** What wampy's SUBSCRIBE without options must look like on the wire. */
  readonly subscribeFrame: (frame: string | Uint8Array) => void;
}

const FULL: readonly Variant[] = [
  {
    tag: "json",
    protocol: "json",
    make: (w) => new Traced(new w.JsonSerializer()),
    // JSON.stringify drops the undefined keys.
    subscribeFrame: (frame) => match(String(frame), /^\[32,\d+,\{\},"com\.myapp\.topic1"\]$/),
  },
  {
    tag: "msgpack",
    protocol: "msgpack",
    make: (w) => new Traced(new w.MsgpackSerializer()),
    // "match" => fixext 1 type 0: msgpackr's undefined, read as absent
    subscribeFrame: (frame) =>
      ok(holds(frame, [0xa5, ...new TextEncoder().encode("match"), 0xd4, 0x00, 0x00])),
  },
  {
    tag: "msgpack, undefined as nil",
    protocol: "msgpack",
    make: (w) => new Traced(new w.MsgpackSerializer(), true),
    // "match" => nil
    subscribeFrame: (frame) => ok(holds(frame, [0xa5, ...new TextEncoder().encode("match"), 0xc0])),
  },
  {
    tag: "cbor",
    protocol: "cbor",
    make: (w) => new Traced(new w.CborSerializer()),
    // "match" => undefined (simple value 23)
    subscribeFrame: (frame) => ok(holds(frame, [0x65, ...new TextEncoder().encode("match"), 0xf7])),
  },
];

/**
 * Runs `fn` against a fresh bed, then tears it down. Unlike `await using`,
 * which reports a failing test body plus a failing teardown as a bare
 * SuppressedError, this reports both.
 */
async function withBed(
  w: Loaded,
  protocol: SerializerName,
  fn: (bed: Bed) => Promise<void>,
): Promise<void> {
  const bed = await Bed.start(w, protocol);
  await useThenDispose(bed, fn);
}

function named(tag: string, what: string): string {
  return `wampy 8.0.2 [${tag}] ${what}`;
}

if (wampy === undefined) {
  // It is in deno.lock: a missing wampy is a failure, never a skip.
  Deno.test(named("all", "can be imported"), () => {
    throw new Error(unavailable);
  });
} else {
  const w = wampy;
  for (const v of FULL) {
    Deno.test(
      named(v.tag, "join, pubsub, prefix sub, unsubscribe, rpc, errors, progress, leave"),
      () =>
        withBed(w, v.protocol, async (bed) => {
          const subSer = v.make(w);
          const a = await bed.wampy(subSer);
          const b = await bed.wampy(v.make(w));
          const ours = await bed.cloverleaf();
          checkJoin(a);
          checkJoin(b);
          await checkPubSub(a, b, ours);
          v.subscribeFrame(subSer.subscribes[0]!);
          await checkRpc(a, b, ours, () => bed.wampy(v.make(w), true));
          await checkLeave(a, bed.t);
          await checkLeave(b, bed.t);
        }),
    );
  }
}
