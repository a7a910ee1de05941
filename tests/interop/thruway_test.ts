/**
 * thruway.js (npm `thruway.js` 2.0.7, voryx's RxJS 5 WAMP client) against our
 * router over WebSocket + `wamp.2.json` (all it speaks: JSON.stringify and
 * JSON.parse are hard-wired into its transport): join, publish/subscribe with
 * args and kwargs (to thruway.js and to our own client), unsubscribe,
 * register/call both ways, a callee's error URI, `no_such_procedure`,
 * progressive results both ways, unregister and leave. The router must log no
 * protocol violation, warning or error.
 *
 * Under Deno it takes the global `WebSocket` (it uses `ws` only when there is
 * none, but requires it all the same: the peer is in deno.dev.lock).
 *
 * What thruway.js 2.0.7 sends that is off-spec (seen on the wire):
 * - Request IDs are random (`Math.random() * 2^53`), not 1, 2, 3, … per
 *   session. With `strictRequestIds` (the default) its first request ends the
 *   session with ABORT `wamp.error.protocol_violation`; the tests pin that,
 *   and run the rest on a realm with `strictRequestIds: false`.
 * - It never sends GOODBYE: it leaves by closing the WebSocket, 100 ms after
 *   its last subscriber lets go. The router logs the leave as usual.
 * - REGISTER.Options carries its local settings: `extended` (callback gets
 *   args and kwargs) and, from `progressiveRegister`, `progress` and
 *   `replace_orphaned_sessions`. The router ignores unknown keys.
 * - Its progressive callee sends progressive YIELDs whether or not the
 *   INVOCATION has `receive_progress`, and ends with an empty YIELD. The
 *   router drops them for a caller that did not ask; that caller gets the
 *   empty final result.
 * - A caller that lets go of a call after its RESULT (`take(1)`, as its README
 *   suggests with `.map(...).subscribe`) sends CANCEL for the finished call;
 *   the router ignores it.
 * - Not off the wire: a callee's YIELD is always `[value]` (no ArgumentsKw),
 *   `publish` sends one value as `[value]`, and a failed call hands out the
 *   ERROR's args plus `{ uri }` and drops its kwargs (they are on the wire).
 *
 * @module
 */

import { deepEqual, equal, match, ok } from "node:assert/strict";
import { ApplicationError, connect, type Event, type Result, type Session } from "../../mod.ts";
import { importThruway } from "../_deps.ts";
import { startRouter, type TestRouter, until, within } from "../_helpers/router.ts";
import { useThenDispose } from "../_helpers/dispose.ts";

/** The bound on every wait, in milliseconds. */
const TIMEOUT_MS = 3000;

// ---- thruway.js, loaded or not --------------------------------------------------

type Loaded = Awaited<ReturnType<typeof importThruway>>;
type Frame = unknown[];
/** What Client's constructor takes: a URL, a transport, or an observable of configs. */
type Source = ConstructorParameters<Loaded[0]["Client"]>[0];
/** What thruway hands to a subscriber or a caller (EventMessage, ResultMessage). */
interface Payload {
  readonly args: unknown[];
  readonly argskw: Record<string, unknown>;
  readonly details: Record<string, unknown>;
}
/** What a failed thruway call errors with (WampErrorException). */
interface CallError {
  readonly errorUri: string;
  readonly args: unknown[];
  readonly argskw: Record<string, unknown>;
}
/** An rxjs 5 subscription. */
interface Unsubscribable {
  unsubscribe(): void;
}

async function load(): Promise<{ thruway?: Loaded; unavailable?: string }> {
  try {
    return { thruway: await importThruway() };
  } catch (error) {
    return { unavailable: `npm:thruway.js cannot be imported (${String(error).split("\n")[0]})` };
  }
}

const { thruway, unavailable } = await load();

// ---- a thruway.js peer ----------------------------------------------------------

/** A joined thruway.js client over a traced transport; disposing leaves and awaits the close. */
class ThruwayPeer implements AsyncDisposable {
  readonly client: InstanceType<Loaded[0]["Client"]>;
  /** Frames thruway sent and received, in order. */
  readonly sent: Frame[] = [];
  readonly received: Frame[] = [];
  /** What thruway reported through an error callback. */
  readonly errors: unknown[] = [];
  /** Resolves when the WebSocket has closed. */
  readonly closed: Promise<void>;
  readonly #subscriptions: Unsubscribable[] = [];
  #isClosed = false;
  #held: Unsubscribable | undefined;

  private constructor(w: Loaded, url: string) {
    let onClose = () => {};
    this.closed = new Promise<void>((resolve) => onClose = resolve);
    const transport = new w[0].WebSocketTransport(url, ["wamp.2.json"]);
    // Trace thruway's own transport: what it writes and what its socket reads.
    const raw = transport as unknown as {
      next(msg: { wampifiedMsg(): Frame }): void;
      connectSocket(): void;
      socket: WebSocket | null;
    };
    const next = raw.next.bind(raw);
    raw.next = (msg) => {
      this.sent.push(msg.wampifiedMsg());
      next(msg);
    };
    const connectSocket = raw.connectSocket.bind(raw);
    let traced: WebSocket | null = null;
    raw.connectSocket = () => {
      connectSocket();
      if (raw.socket === null || raw.socket === traced) return;
      traced = raw.socket;
      traced.addEventListener("message", (e) => this.received.push(JSON.parse(e.data)));
      traced.addEventListener("close", () => {
        this.#isClosed = true;
        onClose();
      });
    };
    // No reconnecting: an error ends the session (the default retries 10000 times).
    // WebSocketTransport is a Subject of any message; Client's type wants Subject<IMessage>.
    this.client = new w[0].Client(transport as unknown as Source, "realm1", {
      retryWhen: (errors) =>
        errors.map((e) => {
          throw e;
        }),
    });
  }

  /** Opens a session: thruway connects once something subscribes to `onOpen`; we hold it. */
  static async open(w: Loaded, url: string, track: (p: ThruwayPeer) => void): Promise<ThruwayPeer> {
    const peer = new ThruwayPeer(w, url);
    track(peer);
    const welcome = new Promise<void>((resolve, reject) => {
      peer.#held = peer.client.onOpen.subscribe(() => resolve(), (e: unknown) => {
        peer.errors.push(e);
        reject(e);
      });
    });
    await within(welcome, TIMEOUT_MS, "thruway WELCOME");
    return peer;
  }

  /** Keeps `s` until `leave()`. */
  keep<T extends Unsubscribable>(s: T): T {
    this.#subscriptions.push(s);
    return s;
  }

  /** An error callback that records what thruway reports. */
  readonly onError = (e: unknown): void => {
    this.errors.push(e);
  };

  /** Waits for the router's answer (`ackType`) to thruway's last `type` request. */
  async acked(type: number, ackType: number, what: string): Promise<Frame> {
    const request = this.sent.findLast((f) => f[0] === type)?.[1];
    ok(request !== undefined, `thruway sent ${what}`);
    await until(
      () => this.received.some((f) => f[0] === ackType && f[1] === request),
      TIMEOUT_MS,
      `${what} acknowledged`,
    );
    return this.received.find((f) => f[0] === ackType && f[1] === request)!;
  }

  /** Subscribes through `topic()` and waits for SUBSCRIBED. */
  async subscribe(topic: string, inbox: Inbox<Payload>): Promise<Unsubscribable> {
    const s = this.keep(
      this.client.topic(topic).subscribe((e) => inbox.push(e as unknown as Payload), this.onError),
    );
    await this.acked(32, 33, `SUBSCRIBE ${topic}`);
    return s;
  }

  /** Registers (`register` or `progressiveRegister`) and waits for REGISTERED. */
  async register(
    procedure: string,
    endpoint: (...args: never[]) => unknown,
    how: { extended?: boolean; progressive?: boolean } = {},
  ): Promise<Unsubscribable> {
    const options = how.extended ? { extended: true } : {};
    const registering = how.progressive
      ? this.client.progressiveRegister(procedure, endpoint, options)
      : this.client.register(procedure, endpoint, options);
    const s = this.keep(registering.subscribe(() => {}, this.onError));
    await this.acked(64, 65, `REGISTER ${procedure}`);
    return s;
  }

  /** Calls; resolves with the last ResultMessage, rejects with the WampErrorException. */
  call(procedure: string, args?: unknown[], kwargs?: Record<string, unknown>): Promise<Payload> {
    return within(this.client.call(procedure, args, kwargs).toPromise(), TIMEOUT_MS, procedure);
  }

  /** Leaves the way thruway does: let go of everything, `close()`, and the socket closes. */
  async leave(): Promise<void> {
    for (const s of this.#subscriptions.splice(0)) s.unsubscribe();
    this.client.close();
    this.#held?.unsubscribe();
    await within(this.closed, TIMEOUT_MS, "thruway's socket closing");
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#isClosed) await this.leave();
  }
}

/** Collects what a handler receives; `take(n)` waits for the first `n`. */
class Inbox<T> {
  readonly items: T[] = [];

  push = (item: T): void => {
    this.items.push(item);
  };

  async take(count: number, what: string): Promise<T[]> {
    await until(() => this.items.length >= count, TIMEOUT_MS, `${what} (${this.items.length})`);
    return this.items.slice(0, count);
  }
}

/** `[args, kwargs]` of what thruway handed over. */
const payload = (p: Payload | undefined): unknown[] => [p?.args, p?.argskw];

// ---- the bed --------------------------------------------------------------------

/** A router plus the thruway and Cloverleaf sessions a test opened; checks the logs on the way out. */
class Bed implements AsyncDisposable {
  readonly #peers: ThruwayPeer[] = [];
  readonly #sessions: Session[] = [];
  /** Log lines and thruway errors a test expects. */
  expected: RegExp | undefined;

  constructor(readonly t: TestRouter, readonly w: Loaded) {}

  /** A joined thruway.js session. */
  thruway(): Promise<ThruwayPeer> {
    return ThruwayPeer.open(this.w, this.t.url, (p) => this.#peers.push(p));
  }

  /** A joined Cloverleaf session over JSON. */
  async cloverleaf(): Promise<Session> {
    const options = { realm: "realm1", serializers: ["json" as const], timeout: TIMEOUT_MS };
    const session = await within(connect(this.t.url, options), TIMEOUT_MS, "Cloverleaf connect()");
    this.#sessions.push(session);
    return session;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    const failures: string[] = [];
    const settle = (what: string, work: Promise<unknown>) =>
      work.catch((e) => failures.push(`${what}: ${e}`));
    await Promise.all(this.#peers.map((p) => settle("closing thruway", p[Symbol.asyncDispose]())));
    await Promise.all(
      this.#sessions.map((s) => settle("closing ours", within(s.close(), TIMEOUT_MS))),
    );
    await settle("router", within(Promise.resolve(this.t[Symbol.asyncDispose]()), TIMEOUT_MS));
    for (const line of this.t.logs) {
      if (this.expected?.test(line)) continue;
      if (/^(warn|error) |protocol violation/i.test(line)) failures.push(`router logged: ${line}`);
    }
    for (const e of this.#peers.flatMap((p) => p.errors)) {
      if (!this.expected?.test(String((e as Error).message))) failures.push(`thruway: ${e}`);
    }
    if (failures.length > 0) {
      throw new Error(`Teardown found problems:\n  ${failures.join("\n  ")}`);
    }
  }
}

/** Runs `fn` against a fresh router; a failing body and a failing teardown are both reported. */
async function withBed(w: Loaded, strict: boolean, fn: (bed: Bed) => Promise<void>): Promise<void> {
  const realms = [{ name: "realm1", ...(strict ? {} : { strictRequestIds: false }) }];
  const bed = new Bed(await startRouter({ realms }), w);
  await useThenDispose(bed, fn);
}

// ---- the tests --------------------------------------------------------------------

const named = (what: string): string => `thruway.js 2.0.7 [json] ${what}`;

if (thruway === undefined) {
  // It is in deno.dev.lock: a missing thruway.js is a failure, never a skip.
  Deno.test(named("can be imported"), () => {
    throw new Error(unavailable);
  });
} else {
  const w = thruway;
  const WampErrorException = w[1].WampErrorException;
  const Observable = w[2].Observable;

  Deno.test(
    named("its random request IDs: ABORT under strictRequestIds (the default)"),
    () =>
      withBed(w, true, async (bed) => {
        bed.expected = /out of sequence/;
        const peer = await bed.thruway();
        const first = peer.sent.find((f) => f[0] === 1)!;
        equal(first[1], "realm1");
        peer.keep(peer.client.topic("com.myapp.topic1").subscribe(() => {}, peer.onError));
        await within(peer.closed, TIMEOUT_MS, "the router closing thruway's socket");
        const [request] = peer.sent.filter((f) => f[0] === 32).map((f) => f[1] as number);
        ok(request !== 1, `a random request ID (${request})`);
        const abort = peer.received.find((f) => f[0] === 3)!;
        deepEqual(abort, [
          3,
          { message: `Request ID ${request} out of sequence: expected 1` },
          "wamp.error.protocol_violation",
        ]);
        match(String((peer.errors[0] as Error).message), /wamp\.error\.protocol_violation/);
      }),
  );

  Deno.test(
    named("join, pubsub to thruway and to ours, unsubscribe, leave without GOODBYE"),
    () =>
      withBed(w, false, async (bed) => {
        const a = await bed.thruway();
        const b = await bed.thruway();
        const ours = await bed.cloverleaf();
        const welcome = a.received.find((f) => f[0] === 2)!;
        ok(Number.isSafeInteger(welcome[1]) && (welcome[1] as number) > 0, "a session ID");
        const roles = (welcome[2] as { roles: Record<string, unknown> }).roles;
        ok(roles.broker && roles.dealer, "WELCOME announces broker and dealer");

        const topic = "com.myapp.topic1";
        const atA = new Inbox<Payload>();
        const atOurs = new Inbox<Event>();
        const subA = await a.subscribe(topic, atA);
        await ours.subscribe(topic, atOurs.push);
        // thruway publishes one value, as [value]; PUBLISH has no acknowledge.
        b.client.publish(topic, { k: "v", n: 4.5 });
        const [e1] = await atA.take(1, "thruway's event at thruway");
        deepEqual(payload(e1), [[{ k: "v", n: 4.5 }], {}]);
        const [o1] = await atOurs.take(1, "thruway's event at ours");
        deepEqual([o1!.args, o1!.kwargs], [[{ k: "v", n: 4.5 }], {}]);
        // Ours publishes args and kwargs to thruway.
        const args = [1, "two", [3]];
        await ours.publish(topic, { args, kwargs: { from: "cloverleaf" } }, { acknowledge: true });
        const [, e2] = await atA.take(2, "our event at thruway");
        deepEqual(payload(e2), [args, { from: "cloverleaf" }]);

        // Unsubscribed: thruway's subscription gets nothing more, ours does.
        subA.unsubscribe();
        await a.acked(34, 35, "UNSUBSCRIBE");
        b.client.publish(topic, "after");
        await atOurs.take(2, "ours, after thruway unsubscribed");
        equal(atA.items.length, 2);

        // Leaving: no GOODBYE, the socket just closes; the router logs the leave.
        const id = welcome[1];
        await a.leave();
        ok(!a.sent.some((f) => f[0] === 6), "thruway sent no GOODBYE");
        const left = `Session ${id} left realm "realm1"`;
        await until(() => bed.t.logs.some((l) => l.includes(left)), TIMEOUT_MS, "the leave logged");
      }),
  );

  Deno.test(
    named("rpc both ways, callee errors, no_such_procedure, unregister"),
    () =>
      withBed(w, false, async (bed) => {
        const caller = await bed.thruway();
        const callee = await bed.thruway();
        const ours = await bed.cloverleaf();
        // thruway callees: plain (args spread) and extended (args, kwargs, details).
        const add = await callee.register("com.myapp.add2", (x: number, y: number) => x + y);
        await callee.register(
          "com.myapp.echo",
          (args: unknown[], kwargs: Record<string, unknown>) => ({ args, kwargs }),
          { extended: true },
        );
        deepEqual(callee.sent.find((f) => f[0] === 64 && f[3] === "com.myapp.echo")![2], {
          extended: true,
        });
        deepEqual(payload(await caller.call("com.myapp.add2", [2, 3])), [[5], undefined]);
        const echoed = await caller.call("com.myapp.echo", [1], { tag: "x" });
        deepEqual(echoed.args, [{ args: [1], kwargs: { tag: "x" } }]);
        const ourEcho = await ours.call("com.myapp.echo", { args: [4], kwargs: { tag: "y" } });
        deepEqual([ourEcho.args, ourEcho.kwargs], [[{ args: [4], kwargs: { tag: "y" } }], {}]);

        // Our callee, thruway caller: args and kwargs both ways.
        await ours.register("com.myapp.mul", (args, kwargs) => ({
          args: [(args[0] as number) * (args[1] as number)],
          kwargs: { by: "cloverleaf", ...kwargs },
        }));
        const m = await caller.call("com.myapp.mul", [6, 7], { tag: "z" });
        deepEqual(payload(m), [[42], { by: "cloverleaf", tag: "z" }]);
        ok(!caller.sent.some((f) => f[0] === 49), "no CANCEL after a call that ran to its end");
        // Let go after the first value (its README's `.map(...).subscribe` with
        // `take(1)`): thruway CANCELs the finished call; the router ignores it.
        const first = caller.client.call("com.myapp.mul", [2, 2]).take(1).toPromise();
        deepEqual((await within(first, TIMEOUT_MS, "take(1)") as Payload).args, [4]);
        const called = caller.sent.findLast((f) => f[0] === 48)![1];
        deepEqual(caller.sent.findLast((f) => f[0] === 49), [49, called, {}]);
        deepEqual(payload(await caller.call("com.myapp.mul", [3, 3])), [[9], { by: "cloverleaf" }]);

        // A thruway callee's error URI, args and kwargs reach ours and thruway.
        await callee.register("com.myapp.fail", () => {
          throw new WampErrorException("com.myapp.error.bad_input", ["bad input"], { code: 7 });
        });
        const ourError = await ours.call("com.myapp.fail").catch((e) => e);
        ok(ourError instanceof ApplicationError);
        deepEqual([ourError.uri, ourError.args, ourError.kwargs], [
          "com.myapp.error.bad_input",
          ["bad input"],
          { code: 7 },
        ]);
        const theirs: CallError = await caller.call("com.myapp.fail", ["x"]).catch((e) => e);
        // thruway drops ERROR.ArgumentsKw and appends { uri }; the wire has both.
        deepEqual([theirs.errorUri, theirs.args, theirs.argskw], [
          "com.myapp.error.bad_input",
          ["bad input", { uri: "com.myapp.fail" }],
          {},
        ]);
        deepEqual(caller.received.findLast((f) => f[0] === 8)!.slice(4), [
          "com.myapp.error.bad_input",
          ["bad input"],
          { code: 7 },
        ]);
        // Ours reaches thruway.
        await ours.register("com.myapp.ours_fails", () => {
          throw new ApplicationError("com.myapp.error.ours", { args: ["nope"] });
        });
        const ourFailure: CallError = await caller.call("com.myapp.ours_fails").catch((e) => e);
        equal(ourFailure.errorUri, "com.myapp.error.ours");
        equal(ourFailure.args[0], "nope");

        // No such procedure; unregistered, add2 is gone too.
        const none: CallError = await caller.call("com.myapp.nothing").catch((e) => e);
        equal(none.errorUri, "wamp.error.no_such_procedure");
        add.unsubscribe();
        await callee.acked(66, 67, "UNREGISTER");
        const gone: CallError = await caller.call("com.myapp.add2", [1, 2]).catch((e) => e);
        equal(gone.errorUri, "wamp.error.no_such_procedure");
      }),
  );

  Deno.test(named("progressive results both ways"), () =>
    withBed(w, false, async (bed) => {
      const caller = await bed.thruway();
      const callee = await bed.thruway();
      const ours = await bed.cloverleaf();
      const countdown = (n: number) =>
        new Observable<number>((s) => {
          for (let i = n; i > 0; i--) s.next(i);
          s.complete();
        });
      await callee.register("com.myapp.countdown", countdown, { progressive: true });
      deepEqual(callee.sent.find((f) => f[0] === 64)![2], {
        progress: true,
        replace_orphaned_sessions: "yes",
      });
      // Ours asks for progress: 3, 2, 1, then thruway's empty final YIELD.
      const steps: Result[] = [];
      const final = await ours.call("com.myapp.countdown", { args: [3] }, {
        onProgress: (p) => steps.push(p),
      });
      deepEqual([steps.map((s) => s.args), final.args], [[[3], [2], [1]], []]);
      // A plain call does not ask: thruway sends progressive YIELDs all the
      // same; the router drops them and the caller gets the empty final RESULT.
      const yields = () => callee.sent.filter((f) => f[0] === 70).length;
      const before = yields();
      deepEqual(payload(await caller.call("com.myapp.countdown", [2])), [undefined, undefined]);
      const invocation = callee.received.findLast((f) => f[0] === 68)!;
      equal((invocation[3] as Record<string, unknown>).receive_progress, undefined);
      deepEqual(callee.sent.slice(-3).map((f) => [f[0], f[2]]), [
        [70, { progress: true }],
        [70, { progress: true }],
        [70, {}],
      ]);
      equal(yields() - before, 3);
      const request = caller.sent.findLast((f) => f[0] === 48)![1];
      deepEqual(caller.received.filter((f) => f[0] === 50 && f[1] === request), [[
        50,
        request,
        {},
      ]]);

      // thruway's progressiveCall, to thruway and to ours.
      const progressive = (procedure: string, args: unknown[]) => {
        const seen: unknown[] = [];
        const done = caller.client.progressiveCall(procedure, args)
          .do((r: Payload) => seen.push(r.args?.[0]))
          .toPromise();
        return within(done, TIMEOUT_MS, procedure).then(() => seen);
      };
      deepEqual(await progressive("com.myapp.countdown", [3]), [3, 2, 1]);
      await ours.register("com.myapp.ours_counts", (args, _kwargs, _details, invocation) => {
        for (let i = 1; i <= (args[0] as number); i++) invocation.progress({ args: [i] });
        return { args: ["done"] };
      });
      deepEqual(await progressive("com.myapp.ours_counts", [3]), [1, 2, 3, "done"]);
      deepEqual(caller.sent.findLast((f) => f[0] === 48)![2], { receive_progress: true });
    }));
}
