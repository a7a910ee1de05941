/**
 * A client session over any {@linkcode Link}: joining, GOODBYE and ABORT,
 * the dispatch of what arrives to the roles (`publisher.ts`, `subscriber.ts`,
 * `caller.ts`, `callee.ts`), which the public methods delegate to.
 *
 * @module
 */

import {
  CloseUri,
  type Dict,
  ErrorUri,
  type Link,
  MessageType,
  type PublishOptions,
  type SubscribeOptions,
  type WampMessage,
  type WelcomeDetails,
} from "../wamp/mod.ts";
import type { Endpoint, RegisterRequestOptions } from "./callee.ts";
import type { Registration } from "./registration.ts";
import type { CallRequestOptions, Result } from "./caller.ts";
import { deferred } from "./deferred.ts";
import type { Arguments, SessionContext } from "./context.ts";
import { type ClosedBy, SessionClosedError, type UserErrorHandler } from "./errors.ts";
import { Joiner, type JoinOptions, joinWithin } from "./join.ts";
import { MetaApi } from "./meta/mod.ts";
import { Outbound } from "./outbound.ts";
import { Requests } from "./requests.ts";
import { Roles } from "./roles.ts";
import type { EventHandler, Subscription } from "./subscription.ts";

/** Why and how a session ended. */
export interface CloseInfo {
  /** The GOODBYE/ABORT reason, or `wamp.close.transport_lost`. */
  readonly reason: string;
  /** Details of the GOODBYE or ABORT. */
  readonly details: Dict;
  /** Who ended it: the router (GOODBYE, ABORT), the client (`close()`, its ABORT), the transport. */
  readonly by: ClosedBy;
}

/** A session's roles. Internal: a `Connection` restores its subscriptions and registrations. */
export let rolesOf: (session: Session) => Roles;

/** A joined WAMP session. Made by `connect()` or `connectLocal()`. */
export class Session {
  static {
    rolesOf = (session) => session.#roles;
  }
  /** Gets failures of application code the session runs; else `JoinOptions.logger` does. */
  onUserError: UserErrorHandler | undefined;
  #link: Link;
  #out: Outbound;
  #id = 0;
  #details: WelcomeDetails = {};
  #requests = new Requests();
  #roles: Roles;
  #state: "joining" | "open" | "closing" | "closed" = "joining";
  #joiner: Joiner;
  #join = deferred<void>();
  #closed = deferred<CloseInfo>();
  #meta: MetaApi | undefined;
  #closeError: SessionClosedError | undefined;

  private constructor(link: Link, joiner: Joiner) {
    this.#link = link;
    this.#joiner = joiner;
    const end = (reason: string, message: string) => this.#finish(reason, { message }, "client");
    this.#out = new Outbound(link, joiner.limits.maxSendBacklog, end);
    const context: SessionContext = {
      isOpen: () => this.#state === "open",
      routerRoles: () => this.#details.roles ?? {},
      send: (msg) => this.#send(msg),
      notOpen: () => this.#notOpen(),
      report: (error, where) => this.#report(error, where),
      violation: (message) => this.#violation(message),
      request: (make, onReply) => this.#request(make, onReply),
      withdraw: (make) => this.#request(make, undefined, true),
      nextRequest: () => this.#nextRequest(),
      sendBlocked: () => this.#out.blocked,
      log: joiner.log,
      limits: joiner.limits,
    };
    this.#roles = new Roles(context, this.#requests);
    link.bind({
      receive: (msg) => this.#receive(msg),
      fail: (error) => this.#violation(error.message),
      closed: () => this.#finish(CloseUri.TRANSPORT_LOST, {}, "transport"),
    });
  }

  /**
   * Joins a realm over an open link.
   *
   * @param link The transport.
   * @param options Realm and authentication.
   * @returns The joined session.
   * @throws {SessionClosedError} When the router sends ABORT (its reason),
   * when the client cannot answer a CHALLENGE (`wamp.error.cannot_authenticate`)
   * or when the router fails to prove it knows WAMP-SCRAM credentials
   * (`wamp.error.authentication_failed`).
   * @throws {CredentialsError} When the cryptosign key cannot be used (link closed).
   * @throws {TypeError} When channel binding is asked for over a link without TLS.
   */
  static async join(link: Link, options: JoinOptions): Promise<Session> {
    const joiner = new Joiner(options, link);
    const pending = joiner.hello(); // a key that cannot be derived: no session to reject
    const hello = pending instanceof Promise ? await pending : pending;
    const session = new Session(link, joiner);
    session.#out.send(hello);
    await joinWithin(session.#join.promise, options.timeout ?? 10_000, () => joiner.expired());
    return session;
  }

  /** The session ID the router assigned. */
  get id(): number {
    return this.#id;
  }

  /** The realm joined. */
  get realm(): string {
    return this.#joiner.realm;
  }

  /** WELCOME.Details: roles, authid, authrole, … */
  get details(): Dict {
    return this.#details;
  }

  /** Whether the session is open. */
  get isOpen(): boolean {
    return this.#state === "open";
  }

  /** Resolves when the session ends, with the reason. */
  get closed(): Promise<CloseInfo> {
    return this.#closed.promise;
  }

  /** The realm's Meta API, typed: see {@linkcode MetaApi}. */
  get meta(): MetaApi {
    return this.#meta ??= new MetaApi(this);
  }

  /**
   * Subscribes to a topic, or to a pattern with `options.match` (`prefix`,
   * `wildcard`). With `options.get_retained`, the topic's retained event
   * (if any) arrives first, flagged `details.retained`. A router that
   * revokes the subscription ends it ({@linkcode Subscription.revoked}).
   *
   * @param topic The topic or pattern.
   * @param handler Called for each event; omit to iterate the subscription.
   * @param options SUBSCRIBE options.
   * @returns The subscription: async-iterable and async-disposable.
   * @throws {ApplicationError} When the router refuses.
   */
  subscribe(
    topic: string,
    handler?: EventHandler,
    options: SubscribeOptions = {},
  ): Promise<Subscription> {
    return this.#roles.subscriber.subscribe(topic, handler, options);
  }

  /**
   * Publishes an event. Without `acknowledge` it resolves once sent; with
   * it, once the broker confirms (or rejects with its error).
   *
   * @param topic The topic.
   * @param payload Arguments and keyword arguments.
   * @param options PUBLISH options.
   * @returns The publication ID when acknowledged.
   * @throws {ApplicationError} When an acknowledged publish is refused.
   * @throws {TypeError} When `payload` is not `{ args?, kwargs? }` (an
   * array, a bare value: Autobahn's positional style).
   * @throws {SessionClosedError} When the session is closed: its message
   * says why (`transport lost`, `closed by router: <reason>`, …).
   */
  publish(
    topic: string,
    payload: Arguments = {},
    options: PublishOptions = {},
  ): Promise<number | undefined> {
    return this.#roles.publisher.publish(topic, payload, options);
  }

  /**
   * Registers a procedure (spec "Remote Procedure Calls"). `options` are
   * REGISTER.Options, passed through: `match` (`"prefix"`, `"wildcard"`:
   * pattern-based registration), `invoke` (shared registration policy),
   * `disclose_caller`, `forward_timeout`; plus `onRevoked`, called when the
   * router revokes the registration.
   *
   * The endpoint gets `(args, kwargs, details, invocation)`; the
   * `Invocation` carries the concrete `procedure`, an abort
   * `signal` (INTERRUPT, timeout), `progress()` for progressive results and
   * the input `chunks` of a progressive call.
   *
   * @param procedure The procedure URI, or a pattern with `match`.
   * @param endpoint Its implementation.
   * @param options REGISTER options, plus `onRevoked`.
   * @returns The registration.
   * @throws {ApplicationError} When the router refuses.
   *
   * @example A prefix registration
   * ```ts
   * import { connectLocal, Router } from "@cloverleaf/wamp";
   * import { equal } from "node:assert/strict";
   *
   * const router = new Router({ realms: [{ name: "realm1" }] });
   * const session = await connectLocal(router, "realm1");
   * await using _reg = await session.register(
   *   "com.example.user.",
   *   (_args, _kwargs, _details, invocation) => ({ args: [invocation.procedure] }),
   *   { match: "prefix" },
   * );
   * equal((await session.call("com.example.user.get")).args[0], "com.example.user.get");
   * await session.close();
   * await router.close();
   * ```
   */
  register(
    procedure: string,
    endpoint: Endpoint,
    options: RegisterRequestOptions = {},
  ): Promise<Registration> {
    return this.#roles.callee.register(procedure, endpoint, options);
  }

  /**
   * Calls a procedure (spec "Remote Procedure Calls"). `options` are
   * CALL.Options, passed through (`timeout`, `disclose_me`, `runmode`,
   * `rkey`, `ppt_*`, …), plus `onProgress` for progressive results and
   * `signal`/`cancelMode` for canceling: see {@linkcode CallRequestOptions}.
   *
   * `payload` is the call's arguments, or an async iterable of input chunks
   * (spec "Progressive Call Invocations"): they go out as CALLs under one
   * request ID, `progress: true` on all but the last. A chunk is sent once
   * the next one is known or the iterable ends, and only the first CALL
   * carries `options`. The callee reads them from `invocation.chunks`. If
   * the iterable throws, the call is canceled and rejects with that error.
   * Examples: `CallRequestOptions.onProgress` (progressive results) and
   * `Invocation.chunks` (streamed input).
   *
   * @param procedure The procedure URI.
   * @param payload Arguments and keyword arguments, or input chunks.
   * @param options CALL options, plus `signal`, `cancelMode` and `onProgress`.
   * @returns The final result, with `args` and `kwargs` always present.
   * @throws {ApplicationError} With the callee's or router's error.
   * @throws {SessionClosedError} When the session is or becomes closed:
   * its message says why (`transport lost`, `closed by router: <reason>`,
   * `closed by the client`).
   * @throws {TypeError} When `payload` (or an input chunk) is not
   * `{ args?, kwargs? }` (an array, a bare value: Autobahn's positional style).
   */
  call(
    procedure: string,
    payload: Arguments | AsyncIterable<Arguments> = {},
    options: CallRequestOptions = {},
  ): Promise<Result> {
    return this.#roles.caller.call(procedure, payload, options);
  }

  /**
   * Leaves the realm: GOODBYE, wait for the reply (up to a second), close
   * the transport.
   *
   * @param reason The GOODBYE reason.
   * @param message An optional message for the router's log.
   * @returns When the session is closed.
   */
  async close(reason: string = CloseUri.NORMAL, message?: string): Promise<void> {
    if (this.#state === "open") {
      this.#state = "closing";
      this.#out.send({
        type: MessageType.GOODBYE,
        details: message === undefined ? {} : { message },
        reason,
      });
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.#closed.promise,
        new Promise((resolve) => timer = setTimeout(resolve, 1000)),
      ]);
      clearTimeout(timer);
    }
    this.#finish(reason, message === undefined ? {} : { message }, "client");
  }

  // ---- internals ----

  /** What arrives: the session's own messages are handled here, the rest by the roles. */
  #receive(msg: WampMessage): void {
    switch (msg.type) {
      case MessageType.WELCOME: {
        if (this.#state !== "joining") return this.#violation("WELCOME on an open session");
        const refused = this.#joiner.welcome(msg);
        if (refused !== undefined) return this.#abort(ErrorUri.AUTHENTICATION_FAILED, refused);
        this.#id = msg.session;
        this.#details = msg.details;
        this.#state = "open";
        return this.#join.resolve();
      }
      case MessageType.CHALLENGE:
        if (this.#state !== "joining") return this.#violation("CHALLENGE on an open session");
        return this.#joiner.challenge(msg, (reply) => {
          if (this.#state === "joining") this.#out.send(reply);
        }, (reason, message) => this.#abort(reason, message));
      case MessageType.ABORT:
        return this.#finish(msg.reason, msg.details, "router");
      case MessageType.GOODBYE:
        if (this.#state === "open") {
          this.#out.send({
            type: MessageType.GOODBYE,
            details: {},
            reason: CloseUri.GOODBYE_AND_OUT,
          });
        }
        return this.#finish(
          msg.reason,
          msg.details,
          this.#state === "closing" ? "client" : "router",
        );
      default:
        return this.#roles.receive(msg);
    }
  }

  #send(msg: WampMessage): void {
    if (this.#state !== "open") throw this.#notOpen();
    this.#out.send(msg);
  }

  #nextRequest(): number {
    if (this.#state !== "open") throw this.#notOpen();
    const refused = this.#out.refusal();
    if (refused !== undefined) throw refused;
    return this.#requests.next();
  }

  #request(
    make: (request: number) => WampMessage,
    onReply?: (reply: WampMessage) => string | void,
    withdrawal = false,
  ): Promise<WampMessage> {
    if (this.#state !== "open") return Promise.reject(this.#notOpen());
    // A withdrawal always goes: the client has forgotten the subscription or registration already.
    const refused = withdrawal ? undefined : this.#out.refusal();
    if (refused !== undefined) return Promise.reject(refused);
    const { msg, reply } = this.#requests.open(make, onReply);
    this.#out.send(msg);
    return reply;
  }

  /** Why the session is not open, for a request made anyway. */
  #notOpen(): SessionClosedError {
    if (this.#closeError !== undefined) return this.#closeError;
    return this.#state === "closing"
      ? new SessionClosedError(CloseUri.NORMAL, undefined, "client")
      : new SessionClosedError(CloseUri.NORMAL, "the session is not joined yet");
  }

  #report(error: unknown, where: string, handler = this.onUserError): void {
    try {
      if (handler !== undefined) return handler(error, where);
    } catch (failed) {
      return this.#report(failed, `Session.onUserError for the ${where}`, undefined);
    }
    const reason = error instanceof Error ? error.message : String(error);
    this.#joiner.log("error", `The ${where} failed: ${error}`, { reason });
  }

  #violation(message: string): void {
    this.#abort(ErrorUri.PROTOCOL_VIOLATION, message);
  }

  #abort(reason: string, message: string): void {
    if (this.#state === "closed") return;
    this.#out.send({ type: MessageType.ABORT, details: { message }, reason });
    this.#finish(reason, { message }, "client");
  }

  #finish(reason: string, details: Dict, by: ClosedBy): void {
    if (this.#state === "closed") return;
    const wasJoining = this.#state === "joining";
    this.#state = "closed";
    this.#joiner.ended();
    const message = typeof details.message === "string" ? details.message : undefined;
    // A refused join keeps the plain "Session closed: <reason>: <message>".
    const error = new SessionClosedError(reason, message, wasJoining ? undefined : by);
    this.#closeError = error;
    if (wasJoining) this.#join.reject(error);
    this.#requests.close(error);
    this.#roles.close(error);
    this.#link.close();
    this.#closed.resolve({ reason, details, by });
  }
}
