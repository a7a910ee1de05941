/**
 * Harness for the Autobahn|JS interop tests: loads `npm:autobahn` (or says
 * why it cannot), starts a Cloverleaf router on a real WebSocket port, opens
 * Autobahn and Cloverleaf sessions against it, and tears everything down
 * with `await using`.
 *
 * Autobahn|JS ships no types, so the slice of its API these tests use is
 * declared here.
 *
 * @module
 */

import { importAutobahn } from "../_deps.ts";
import {
  connect,
  listen,
  type Listener,
  type LogLevel,
  Router,
  type SerializerName,
  type Session,
} from "../../mod.ts";

/** The serializers every scenario runs with. */
export const SERIALIZERS: readonly SerializerName[] = [
  "json",
  "msgpack",
  "cbor",
];

/** The bound on every wait, in milliseconds. */
export const TIMEOUT_MS = 5000;

/** The realm the test router offers. */
export const REALM = "realm1";

// ---- Autobahn|JS, as far as these tests use it -------------------------

/** A plain object. */
export type Dict = Record<string, unknown>;

/** What Autobahn passes an event handler as its third argument. */
export interface AutobahnEventDetails {
  readonly publication: number;
  readonly topic: string;
  readonly publisher?: number;
}

/** What Autobahn passes an endpoint as its third argument. */
export interface AutobahnInvocation {
  readonly procedure: string;
  readonly caller?: number;
  readonly progress: ((args?: unknown[], kwargs?: Dict) => void) | null;
}

/** `autobahn.Result` and `autobahn.Error` instances. */
export interface AutobahnResult {
  readonly args: unknown[];
  readonly kwargs: Dict;
}

/** `autobahn.Error` instances (not an `Error` subclass). */
export interface AutobahnError extends AutobahnResult {
  readonly error: string;
}

/** `autobahn.Subscription`. */
export interface AutobahnSubscription {
  readonly id: number;
  readonly active: boolean;
  unsubscribe(): Promise<unknown>;
}

/** `autobahn.Registration`. */
export interface AutobahnRegistration {
  readonly id: number;
  readonly active: boolean;
  unregister(): Promise<unknown>;
}

/** Per-role feature flags, as `session.features` computes them. */
export type AutobahnFeatures = Record<
  string,
  Record<string, boolean | undefined>
>;

/** `autobahn.Session`. */
export interface AutobahnSession {
  readonly id: number | null;
  readonly realm: string | null;
  readonly isOpen: boolean;
  /** The features both Autobahn and the router's WELCOME announce. */
  readonly features: AutobahnFeatures | null;
  subscribe(
    topic: string,
    handler: (
      args: unknown[],
      kwargs: Dict,
      details: AutobahnEventDetails,
    ) => void,
    options?: Dict,
  ): Promise<AutobahnSubscription>;
  publish(
    topic: string,
    args?: unknown[] | null,
    kwargs?: Dict | null,
    options?: Dict,
  ): Promise<{ id: number }> | undefined;
  register(
    procedure: string,
    endpoint: (
      args: unknown[],
      kwargs: Dict,
      details: AutobahnInvocation,
    ) => unknown,
    options?: Dict,
  ): Promise<AutobahnRegistration>;
  call(
    procedure: string,
    args?: unknown[] | null,
    kwargs?: Dict | null,
    options?: Dict,
  ): Promise<
    unknown
  >;
  leave(reason?: string, message?: string): void;
  /** Internal: hands a message array to the transport. Wrapped to trace. */
  _send_wamp(msg: unknown[]): void;
}

/** `autobahn.Connection`. */
export interface AutobahnConnection {
  onopen: ((session: AutobahnSession, details: Dict) => void) | undefined;
  onclose:
    | ((reason: string, details: AutobahnCloseDetails) => boolean | void)
    | undefined;
  readonly isConnected: boolean;
  readonly isOpen: boolean;
  readonly transport: {
    info: { type: string; url: string | null; protocol: string | null };
  };
  open(): void;
  close(reason?: string, message?: string): void;
}

/** What `Connection.onclose` receives as its second argument. */
export interface AutobahnCloseDetails {
  /** The GOODBYE or ABORT reason. */
  reason: string | null;
  message: string | null;
  will_retry: boolean;
}

/** What `Connection.onclose` was called with. */
export interface AutobahnClose {
  /** `"closed"`, `"lost"`, `"unreachable"` or `"unsupported"`. */
  readonly reason: string;
  readonly details: AutobahnCloseDetails;
}

/** The `autobahn` module. */
export interface AutobahnModule {
  readonly version: string;
  readonly Connection: new (options: Dict) => AutobahnConnection;
  readonly Result: new (args?: unknown[], kwargs?: Dict) => AutobahnResult;
  readonly Error: new (
    error: string,
    args?: unknown[],
    kwargs?: Dict,
  ) => AutobahnError;
  readonly serializer: Record<string, (new () => unknown) | undefined>;
  readonly log: { warn: (...args: unknown[]) => void };
}

const SERIALIZER_CLASSES: Record<SerializerName, string> = {
  json: "JSONSerializer",
  msgpack: "MsgpackSerializer",
  cbor: "CBORSerializer",
};

async function load(): Promise<
  { autobahn?: AutobahnModule; unavailable?: string }
> {
  try {
    const mod = await importAutobahn();
    const autobahn = (mod.default ?? mod) as AutobahnModule;
    for (const name of Object.values(SERIALIZER_CLASSES)) {
      if (autobahn.serializer[name] === undefined) {
        return { unavailable: `autobahn ${autobahn.version} has no ${name}` };
      }
    }
    // Autobahn warns on every close ("connection closed", "auto-reconnect
    // disabled!"); keep those out of the test output, pass the rest on.
    const warn = autobahn.log.warn;
    autobahn.log.warn = (...args: unknown[]) => {
      const first = String(args[0]);
      if (
        first === "connection closed" ||
        first.startsWith("auto-reconnect disabled") ||
        first.startsWith("giving up")
      ) return;
      warn(...args);
    };
    return { autobahn };
  } catch (error) {
    return {
      unavailable: `npm:autobahn cannot be imported (${String(error).split("\n")[0]})`,
    };
  }
}

const loaded = await load();

/** The Autobahn|JS module, or `undefined` when it cannot be imported. */
export const autobahn: AutobahnModule | undefined = loaded.autobahn;

/** Why {@linkcode autobahn} is undefined. */
export const unavailable: string | undefined = loaded.unavailable;

/**
 * Registers `name` as a test that fails saying why Autobahn|JS is missing:
 * a peer the suite tests against that cannot be loaded fails its tests, it
 * does not pass them silently.
 */
export function missingAutobahn(name: string): void {
  Deno.test(name, () => {
    throw new Error(
      `Autobahn|JS is missing: ${unavailable} (deno install --frozen --lock=deno.dev.lock)`,
    );
  });
}

// ---- waiting, boundedly ---------------------------------------------------

/**
 * Settles like `promise`, or rejects after `ms` so that no test can hang.
 *
 * @param promise What to wait for.
 * @param what What it is, for the timeout message.
 * @param ms The bound.
 * @returns The promise's value.
 */
export async function within<T>(
  promise: Promise<T>,
  what: string,
  ms = TIMEOUT_MS,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`Timed out after ${ms} ms: ${what}`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Resolves once `check()` holds, polling every 5 ms, within `ms`.
 *
 * @param check The condition.
 * @param what What it is, for the timeout message.
 * @param ms The bound.
 */
export async function until(
  check: () => boolean,
  what: string,
  ms = TIMEOUT_MS,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${ms} ms: ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Collects what a handler receives; `take(n)` waits for the first `n`. */
export class Inbox<T> {
  /** Everything received so far, in order. */
  readonly items: T[] = [];
  #waiters = new Set<() => void>();

  /** Adds an item (use as, or inside, a handler). */
  push = (item: T): void => {
    this.items.push(item);
    for (const wake of [...this.#waiters]) wake();
  };

  /**
   * Waits until `count` items have arrived.
   *
   * @param count How many.
   * @param what What they are, for the timeout message.
   * @returns The first `count` items.
   */
  async take(count: number, what: string): Promise<T[]> {
    if (this.items.length < count) {
      await within(
        new Promise<void>((resolve) => {
          const wake = () => {
            if (this.items.length < count) return;
            this.#waiters.delete(wake);
            resolve();
          };
          this.#waiters.add(wake);
        }),
        `${what} (${this.items.length} of ${count} received)`,
      );
    }
    return this.items.slice(0, count);
  }
}

// ---- Autobahn sessions --------------------------------------------------

/** Autobahn closed the connection before joining. */
export class AutobahnJoinError extends Error {
  /** What `Connection.onclose` received. */
  readonly close: AutobahnClose;

  /**
   * @param close What `Connection.onclose` received.
   */
  constructor(close: AutobahnClose) {
    super(
      `Autobahn could not join: ${close.reason} (${close.details.reason}: ${close.details.message})`,
    );
    this.name = "AutobahnJoinError";
    this.close = close;
  }
}

/** Options for {@linkcode AutobahnPeer.open}. */
export interface AutobahnPeerOptions {
  /** @default {the bed's serializer} */
  serializer?: SerializerName;
  /** @default {"realm1"} */
  realm?: string;
}

/** An Autobahn|JS connection and its joined session. */
export class AutobahnPeer implements AsyncDisposable {
  /** The connection. */
  readonly connection: AutobahnConnection;
  /** What `Connection.onclose` receives, once it fires. */
  readonly closed: Promise<AutobahnClose>;
  /** Exceptions Autobahn reported from application code (`on_user_error`). */
  readonly userErrors: unknown[] = [];
  /** Errors Autobahn reported from itself (`on_internal_error`). */
  readonly internalErrors: unknown[] = [];
  #session: AutobahnSession | undefined;
  #welcome: Dict = {};

  private constructor(
    ab: AutobahnModule,
    url: string,
    options: Required<AutobahnPeerOptions>,
  ) {
    const Serializer = ab.serializer[SERIALIZER_CLASSES[options.serializer]]!;
    this.connection = new ab.Connection({
      url,
      realm: options.realm,
      serializers: [new Serializer()],
      max_retries: 0,
      retry_if_unreachable: false,
      on_user_error: (error: unknown) => this.userErrors.push(error),
      // Autobahn's session.js shadows the global Error with autobahn.Error, so
      // its protocol-violation report calls that without `new` and the error
      // arrives as undefined: keep the message too.
      on_internal_error: (error: unknown, message?: string) =>
        this.internalErrors.push(
          `${message ?? "(no message)"} ${Deno.inspect(error)}`,
        ),
    });
    this.closed = new Promise((resolve) => {
      this.connection.onclose = (reason, details) => {
        resolve({ reason, details });
        return true; // never reconnect
      };
    });
  }

  /**
   * Opens a connection and waits for the session to join.
   *
   * @param ab The autobahn module.
   * @param url The router's URL.
   * @param options Serializer and realm.
   * @param track Called with the peer before joining, so a failed join is
   * still torn down.
   * @returns The joined peer.
   * @throws {AutobahnJoinError} When the connection closes before WELCOME.
   */
  static async open(
    ab: AutobahnModule,
    url: string,
    options: Required<AutobahnPeerOptions>,
    track: (peer: AutobahnPeer) => void,
  ): Promise<AutobahnPeer> {
    const peer = new AutobahnPeer(ab, url, options);
    track(peer);
    const opened = new Promise<void>((resolve) => {
      peer.connection.onopen = (session, details) => {
        peer.#session = session;
        peer.#welcome = details;
        resolve();
      };
    });
    peer.connection.open();
    await within(
      Promise.race([
        opened,
        peer.closed.then((close) => Promise.reject(new AutobahnJoinError(close))),
      ]),
      `Autobahn [${options.serializer}] joining ${options.realm}`,
    );
    return peer;
  }

  /** The joined session. */
  get session(): AutobahnSession {
    if (this.#session === undefined) {
      throw new Error("Autobahn session not joined");
    }
    return this.#session;
  }

  /** WELCOME.Details as `Connection.onopen` received them. */
  get welcome(): Dict {
    return this.#welcome;
  }

  /** The negotiated WebSocket subprotocol. */
  get protocol(): string | null {
    return this.connection.transport.info.protocol;
  }

  /**
   * `connection.close()`: GOODBYE, then the socket closes.
   *
   * @returns What `onclose` received.
   */
  close(): Promise<AutobahnClose> {
    if (this.connection.isConnected) this.connection.close();
    return within(this.closed, "Autobahn connection.close()");
  }

  /**
   * `session.leave()`: GOODBYE; Autobahn closes the socket on the reply.
   *
   * @returns What `onclose` received.
   */
  leave(): Promise<AutobahnClose> {
    this.session.leave();
    return within(this.closed, "Autobahn session.leave()");
  }

  /** Closes unless already closed. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

// ---- the router ---------------------------------------------------------

/** A line the router logged. */
export interface LogLine {
  readonly level: LogLevel;
  readonly message: string;
}

/**
 * A Cloverleaf router on a real WebSocket port, plus every session opened
 * through it. Disposing closes the sessions, then the router, then the
 * listener, and fails if the router logged a warning, an error or a
 * protocol violation, or Autobahn reported an internal error.
 */
export class TestBed implements AsyncDisposable {
  /** The router. */
  readonly router: Router;
  /** Its listener on port 0 (WebSocket, RawSocket and long-poll). */
  readonly listener: Listener;
  /** The serializer sessions use unless told otherwise. */
  readonly serializer: SerializerName;
  /** Everything the router logged. */
  readonly logs: LogLine[];
  #ab: AutobahnModule;
  #peers: AutobahnPeer[] = [];
  #sessions: Session[] = [];

  /**
   * Starts a router with realm `realm1` and a listener on port 0.
   *
   * @param ab The autobahn module.
   * @param serializer The default serializer for sessions.
   * @returns The running bed.
   */
  static async start(ab: AutobahnModule, serializer: SerializerName): Promise<TestBed> {
    const logs: LogLine[] = [];
    const router = new Router({
      realms: [{ name: REALM }],
      logger: (level, message) => logs.push({ level, message }),
    });
    const listener = await listen(router, { port: 0 });
    return new TestBed(ab, serializer, router, listener, logs);
  }

  private constructor(
    ab: AutobahnModule,
    serializer: SerializerName,
    router: Router,
    listener: Listener,
    logs: LogLine[],
  ) {
    this.#ab = ab;
    this.serializer = serializer;
    this.router = router;
    this.listener = listener;
    this.logs = logs;
  }

  /** The router's `ws://` URL. */
  get url(): string {
    return this.listener.urls.websocket!;
  }

  /**
   * Opens an Autobahn|JS session.
   *
   * @param options Serializer (default: the bed's) and realm.
   * @returns The joined peer.
   */
  autobahn(options: AutobahnPeerOptions = {}): Promise<AutobahnPeer> {
    return AutobahnPeer.open(
      this.#ab,
      this.url,
      {
        serializer: options.serializer ?? this.serializer,
        realm: options.realm ?? REALM,
      },
      (peer) => this.#peers.push(peer),
    );
  }

  /**
   * Opens a Cloverleaf client session over the same WebSocket listener.
   *
   * @param serializer Default: the bed's.
   * @returns The joined session.
   */
  async cloverleaf(
    serializer: SerializerName = this.serializer,
  ): Promise<Session> {
    const session = await within(
      connect(this.url, {
        realm: REALM,
        serializers: [serializer],
        timeout: TIMEOUT_MS,
      }),
      `Cloverleaf [${serializer}] joining ${REALM}`,
    );
    this.#sessions.push(session);
    return session;
  }

  /** Router log lines that mean something went wrong. */
  problems(): LogLine[] {
    return this.logs.filter((l) =>
      l.level === "warn" || l.level === "error" ||
      /protocol violation/i.test(l.message)
    );
  }

  /** Tears everything down, then checks nothing went wrong on the way. */
  async [Symbol.asyncDispose](): Promise<void> {
    const failures: string[] = [];
    const settle = async (what: string, work: Promise<unknown>) => {
      try {
        await work;
      } catch (error) {
        failures.push(`${what}: ${error}`);
      }
    };
    await Promise.all(
      this.#peers.map((p) => settle("closing an Autobahn peer", p.close())),
    );
    await Promise.all(
      this.#sessions.map((s) => settle("closing a Cloverleaf session", within(s.close(), "close"))),
    );
    await settle(
      "router.close()",
      within(this.router.close(), "router.close()"),
    );
    await settle(
      "listener.close()",
      within(this.listener.close(), "listener.close()"),
    );
    for (const line of this.problems()) {
      failures.push(`router logged ${line.level}: ${line.message}`);
    }
    for (const peer of this.#peers) {
      for (const e of peer.internalErrors) {
        failures.push(`Autobahn internal error: ${e}`);
      }
    }
    if (failures.length > 0) {
      throw new Error(`Teardown found problems:\n  ${failures.join("\n  ")}`);
    }
  }
}

// ---- one scenario, one serializer --------------------------------------------

/** A scenario: runs against a fresh test bed. */
export type Scenario = (bed: TestBed, ab: AutobahnModule) => Promise<void>;

/**
 * Registers one scenario for one serializer as a test; when Autobahn|JS
 * cannot be loaded, as a failing one, saying why.
 *
 * @param serializer The serializer both sides use.
 * @param name The scenario's name.
 * @param fn The scenario.
 */
export function scenario(serializer: SerializerName, name: string, fn: Scenario): void {
  const prefix = `Autobahn|JS ${autobahn?.version ?? ""} [${serializer}] ${name}`;
  if (autobahn === undefined) {
    missingAutobahn(prefix);
    return;
  }
  const ab = autobahn;
  Deno.test(prefix, async () => {
    await using bed = await TestBed.start(ab, serializer);
    await fn(bed, ab);
  });
}
