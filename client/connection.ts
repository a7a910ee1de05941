/**
 * A connection that outlives its sessions: it joins, and when the session is lost (the router
 * restarts, the network drops) it reconnects with exponential backoff and jitter, joins again with
 * the same credentials, and subscribes and registers again what the application subscribed and
 * registered through it, like Autobahn|JS's `Connection` (timers and `Math.random` only).
 *
 * @module
 */

import { CloseUri, type PublishOptions, type SubscribeOptions } from "../wamp/mod.ts";
import { Backoff } from "./backoff.ts";
import type { Endpoint, RegisterRequestOptions } from "./callee.ts";
import type { Registration } from "./registration.ts";
import type { CallRequestOptions, Result } from "./caller.ts";
import { dial } from "./connect.ts";
import { warningsToConsole } from "./join.ts";
import {
  attemptFailure,
  type ConnectionCloseDetails,
  type ConnectionCloseReason,
  type ConnectionOptions,
  connectionOptions,
  sessionEnd,
} from "./connection_options.ts";
import type { Arguments } from "./context.ts";
import { Durables } from "./durable.ts";
import { deferred } from "./deferred.ts";
import { NotConnectedError } from "./errors.ts";
import { type CloseInfo, Session } from "./session.ts";
import type { EventHandler, Subscription } from "./subscription.ts";

/** Requests waiting for a session, at most (then they fail fast). */
const MAX_WAITING = 10_000;

/**
 * A WAMP client connection that reconnects. `open()` starts it; the
 * session methods (`subscribe`, `register`, `publish`, `call`) go to the
 * current session, and what is subscribed and registered through them is
 * restored on every new session: the same {@linkcode Subscription} and
 * {@linkcode Registration} objects, the same handlers, `for await` loops
 * that keep going. `close()` stops it.
 *
 * @example Surviving a router restart
 * ```ts
 * import { Connection } from "@cloverleaf/wamp/client";
 * import { listen, Router } from "@cloverleaf/wamp";
 * import { equal } from "node:assert/strict";
 *
 * let router = new Router({ realms: [{ name: "realm1" }] });
 * let listener = await listen(router, { port: 0 });
 * const url = listener.urls.websocket!;
 * const connection = new Connection(url, {
 *   realm: "realm1",
 *   initialRetryDelay: 20,
 * });
 * await connection.open();
 * await connection.register("com.example.add", (args) => ({
 *   args: [Number(args[0]) + Number(args[1])],
 * }));
 * const reopened = new Promise((resolve) => connection.onopen = resolve);
 *
 * await listener.close();
 * await router.close();
 * router = new Router({ realms: [{ name: "realm1" }] });
 * listener = await listen(router, { port: Number(new URL(url).port) });
 * await reopened;
 * equal((await connection.call("com.example.add", { args: [2, 3] })).args[0], 5);
 *
 * await connection.close();
 * await listener.close();
 * await router.close();
 * ```
 */
export class Connection {
  /** Called on each join (see {@linkcode ConnectionOptions.onopen}); may be set at any time. */
  onopen: ((session: Session) => void | Promise<void>) | undefined;
  /** Called when a session ends (see {@linkcode ConnectionOptions.onclose}). */
  onclose: ConnectionOptions["onclose"];
  readonly #url: string;
  readonly #options: ConnectionOptions;
  readonly #backoff: Backoff;
  readonly #durables = new Durables();
  #session: Session | undefined;
  #state: "idle" | "connecting" | "open" | "waiting" | "stopped" = "idle";
  #everJoined = false;
  #stopping = false;
  #attempt = new AbortController();
  #wakeUp: (() => void) | undefined;
  #nextAttempt: { at: number; count: number } | undefined;
  #last: { reason: ConnectionCloseReason; details: ConnectionCloseDetails } | undefined;
  #waiting = new Set<{ resolve(s: Session): void; reject(e: Error): void }>();
  #firstJoin = deferred<Session>();
  #stopped = deferred<ConnectionCloseReason>();

  /**
   * Creates the connection; nothing happens until {@linkcode Connection.open}.
   *
   * @param url The router's URL (any scheme `connect()` takes).
   * @param options Realm, credentials, transport settings, retries, callbacks.
   * @throws {RangeError} When a retry option, `kdfLimits` or a limit is out of range (it names it).
   */
  constructor(url: string, options: ConnectionOptions) {
    this.#options = connectionOptions(options); // checked now, not on every attempt
    this.#url = url;
    this.#backoff = new Backoff(options);
    this.onopen = options.onopen;
    this.onclose = options.onclose;
    this.#firstJoin.promise.catch(() => {}); // open() hands it out; unawaited is fine
    options.signal?.addEventListener("abort", () => void this.close(), { once: true });
  }

  /**
   * Starts connecting (once; later calls return the same promise).
   *
   * @returns The first session, once joined and `onopen` called.
   * @throws {NotConnectedError} When the connection stops before a first join
   * (unreachable with no retries left, refused by the router, closed).
   */
  open(): Promise<Session> {
    if (this.#state === "idle") {
      this.#state = "connecting";
      void this.#run();
    }
    return this.#firstJoin.promise;
  }

  /** The open session, if any. */
  get session(): Session | undefined {
    return this.#state === "open" ? this.#session : undefined;
  }

  /** Whether a session is open (joined and restored). */
  get isOpen(): boolean {
    return this.#state === "open";
  }

  /** Resolves with the final reason once the connection has stopped for good. */
  get closed(): Promise<ConnectionCloseReason> {
    return this.#stopped.promise;
  }

  /**
   * Subscribes through the current session; the subscription is restored
   * on every new session until unsubscribed. See `Session.subscribe()`.
   *
   * @param topic The topic or pattern.
   * @param handler Called for each event; omit to iterate (across reconnects).
   * @param options SUBSCRIBE options.
   * @returns The subscription.
   * @throws {NotConnectedError} When not connected (with `whileDisconnected: "fail"`).
   */
  async subscribe(
    topic: string,
    handler?: EventHandler,
    options: SubscribeOptions = {},
  ): Promise<Subscription> {
    return this.#durables.subscribe(await this.#current(), topic, handler, options);
  }

  /**
   * Registers through the current session; the registration is restored
   * on every new session until unregistered (and stays `active` in
   * between). See `Session.register()`.
   *
   * @param procedure The procedure URI or pattern.
   * @param endpoint Its implementation.
   * @param options REGISTER options, plus `onRevoked`.
   * @returns The registration.
   * @throws {NotConnectedError} When not connected (with `whileDisconnected: "fail"`).
   */
  async register(
    procedure: string,
    endpoint: Endpoint,
    options: RegisterRequestOptions = {},
  ): Promise<Registration> {
    return this.#durables.register(await this.#current(), procedure, endpoint, options);
  }

  /**
   * Publishes through the current session; see `Session.publish()`.
   *
   * @param topic The topic.
   * @param payload Arguments and keyword arguments.
   * @param options PUBLISH options.
   * @returns The publication ID when acknowledged.
   * @throws {NotConnectedError} When not connected (with `whileDisconnected: "fail"`).
   */
  async publish(
    topic: string,
    payload?: Arguments,
    options?: PublishOptions,
  ): Promise<number | undefined> {
    return (await this.#current()).publish(topic, payload, options);
  }

  /**
   * Calls through the current session; see `Session.call()`. A call
   * pending when the session is lost rejects (it is not sent again).
   *
   * @param procedure The procedure URI.
   * @param payload Arguments, or input chunks.
   * @param options CALL options.
   * @returns The result.
   * @throws {NotConnectedError} When not connected (with `whileDisconnected: "fail"`).
   */
  async call(
    procedure: string,
    payload?: Arguments | AsyncIterable<Arguments>,
    options?: CallRequestOptions,
  ): Promise<Result> {
    return (await this.#current()).call(procedure, payload, options);
  }

  /**
   * Stops: no more retries, the open session (if any) leaves with GOODBYE,
   * subscriptions and registrations end, waiting requests reject, and
   * `onclose` gets `closed`.
   *
   * @param reason The GOODBYE reason.
   * @param message A message for the router's log.
   * @returns When stopped.
   */
  async close(reason: string = CloseUri.NORMAL, message?: string): Promise<void> {
    if (this.#state === "idle") this.#stop("closed", { message: "closed by the client" });
    if (this.#state === "stopped") return;
    this.#stopping = true;
    this.#attempt.abort(new NotConnectedError(reason, "closed by the client"));
    this.#wakeUp?.();
    await this.#session?.close(reason, message);
    await this.#stopped.promise;
  }

  // ---- internals ----

  /** Connects, joins, restores, waits for the end, retries: until stopped. */
  async #run(): Promise<void> {
    while (!this.#stopping) {
      this.#state = "connecting";
      let session: Session;
      try {
        const link = await dial(this.#url, { ...this.#options, signal: this.#attempt.signal });
        session = await Session.join(link, this.#options);
      } catch (error) {
        if (this.#stopping) break;
        const [reason, details] = attemptFailure(error);
        if (await this.#retry(reason, details)) continue;
        break;
      }
      if (this.#stopping) {
        await session.close();
        break;
      }
      const info = await this.#serve(session);
      if (this.#stopping) break;
      if (!await this.#retry(...sessionEnd(info, this.#durables.stalled))) break;
    }
    this.#stop("closed", { message: "closed by the client" }); // unless stopped already
  }

  /** One session: restore, `onopen`, wait until it ends. */
  async #serve(session: Session): Promise<CloseInfo> {
    session.onUserError = this.#options.onUserError;
    this.#session = session;
    this.#everJoined = true;
    this.#backoff.opened(); // the retries start over if it stays open
    await this.#durables.restore(session);
    if (session.isOpen && !this.#stopping) {
      this.#state = "open";
      for (const waiter of this.#waiting) waiter.resolve(session);
      this.#waiting.clear();
      this.#firstJoin.resolve(session);
      try {
        await this.onopen?.(session);
      } catch (error) {
        this.#report(error, "onopen");
      }
    }
    const info = await session.closed;
    this.#session = undefined;
    return info;
  }

  /**
   * After a failure: tells `onclose`, then waits out the delay (resolving
   * `true`), or stops (resolving `false`; `close()` called meanwhile: the
   * caller stops with `closed`).
   */
  async #retry(
    reason: ConnectionCloseReason,
    why: { reason?: string; message?: string },
  ): Promise<boolean> {
    if (this.#stopping) return false;
    this.#state = "waiting";
    const retryable = reason === "lost" ||
      (reason === "unreachable" &&
        (this.#everJoined || this.#options.retryIfUnreachable !== false));
    const delay = retryable ? this.#backoff.next() : undefined;
    const details: ConnectionCloseDetails = {
      ...why,
      retryCount: this.#backoff.count,
      willRetry: delay !== undefined,
      ...(delay === undefined ? {} : { retryDelay: delay }),
    };
    this.#last = { reason, details };
    let stop = delay === undefined;
    try {
      if (this.onclose?.(reason, details) === true) stop = true;
    } catch (error) {
      this.#report(error, "onclose");
    }
    if (this.#stopping) return false;
    if (stop) {
      this.#stop(reason, details);
      return false;
    }
    this.#nextAttempt = { at: Date.now() + delay!, count: details.retryCount };
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delay);
      this.#wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.#wakeUp = undefined;
    this.#nextAttempt = undefined;
    return !this.#stopping;
  }

  /** Stops for good: everything waiting or durable ends. */
  #stop(reason: ConnectionCloseReason, details: Partial<ConnectionCloseDetails>): void {
    if (this.#state === "stopped") return;
    const wasIdle = this.#state === "idle";
    this.#state = "stopped";
    if (this.#last === undefined || this.#stopping) {
      this.#last = { reason, details: { retryCount: 0, willRetry: false, ...details } };
      if (this.#stopping && !wasIdle) this.#tellClosed(reason);
    }
    const error = this.#notConnected();
    for (const waiter of this.#waiting) waiter.reject(error);
    this.#waiting.clear();
    this.#firstJoin.reject(error);
    this.#durables.retire();
    this.#stopped.resolve(reason);
  }

  /** `onclose("closed")` for a stop the application asked for. */
  #tellClosed(reason: ConnectionCloseReason): void {
    try {
      this.onclose?.(reason, this.#last!.details);
    } catch (error) {
      this.#report(error, "onclose");
    }
  }

  /** The open session, or (with `whileDisconnected: "wait"`) the next one. */
  #current(): Promise<Session> {
    if (this.#state === "open" && this.#session?.isOpen) return Promise.resolve(this.#session);
    const wait = this.#options.whileDisconnected === "wait";
    if (!wait || this.#state === "stopped" || this.#waiting.size >= MAX_WAITING) {
      return Promise.reject(this.#notConnected());
    }
    return new Promise((resolve, reject) => this.#waiting.add({ resolve, reject }));
  }

  /** What a request fails with while there is no open session: the state and why. */
  #notConnected(): NotConnectedError {
    const last = this.#last;
    const uri = last?.details.reason ?? CloseUri.TRANSPORT_LOST;
    const why = last === undefined
      ? ""
      : `${last.reason}${last.details.message === undefined ? "" : ` (${last.details.message})`}`;
    switch (this.#state) {
      case "idle":
        return new NotConnectedError(uri, "the connection is not open yet (call open())");
      case "stopped":
        return new NotConnectedError(uri, `the connection has stopped: ${why}`);
      case "waiting": {
        const next = this.#nextAttempt;
        const when = next === undefined
          ? ""
          : `, attempt ${next.count} in ${Math.max(0, next.at - Date.now()) / 1000} s`;
        return new NotConnectedError(uri, `${why}; reconnecting${when}`);
      }
      default:
        return new NotConnectedError(uri, why === "" ? "connecting" : `${why}; reconnecting`);
    }
  }

  #report(error: unknown, where: string): void {
    const log = this.#options.logger ?? warningsToConsole;
    try {
      if (this.#options.onUserError === undefined) throw error;
      this.#options.onUserError(error, where); // a throw here must not reach the reconnect loop
    } catch (failed) {
      const what = failed === error ? where : "onUserError";
      log("error", `The connection's ${what} failed: ${failed}`);
    }
  }
}
