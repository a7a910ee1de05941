/**
 * A client session: publisher, subscriber, caller and callee over any
 * {@linkcode Link}.
 *
 * @module
 */

import denoConfig from "../deno.json" with { type: "json" };
import {
  type ChallengeMessage,
  CLIENT_FEATURES,
  CloseUri,
  type Dict,
  ErrorUri,
  type Link,
  MAX_ID,
  MessageType,
  messageTypeName,
  type PeerHandler,
  type PublishOptions,
  rolesDict,
  type SubscribeOptions,
  type WampMessage,
  type WelcomeDetails,
} from "../wamp/mod.ts";
import { type AuthCredentials, CANNOT_AUTHENTICATE, ClientAuthenticator } from "./auth.ts";
import { Callee, type Endpoint, type RegisterRequestOptions, type Registration } from "./callee.ts";
import { Caller, type CallRequestOptions, type Result } from "./caller.ts";
import type { Arguments, SessionContext } from "./context.ts";
import { ApplicationError, SessionClosedError } from "./errors.ts";
import { MetaApi } from "./meta/mod.ts";
import { type Event, type EventHandler, Subscription } from "./subscription.ts";

/** Options for joining a realm: the realm, credentials, a timeout. */
export interface JoinOptions extends AuthCredentials {
  /** The realm to join. */
  realm: string;
  /**
   * How long to wait for WELCOME, in milliseconds.
   * @default {10000}
   */
  timeout?: number;
}

/** Why and how a session ended. */
export interface CloseInfo {
  /** The GOODBYE/ABORT reason, or `wamp.close.transport_lost`. */
  readonly reason: string;
  /** Details of the GOODBYE or ABORT. */
  readonly details: Dict;
}

interface Pending {
  resolve(msg: WampMessage): void;
  reject(error: Error): void;
}

/** A joined WAMP session. Made by `connect()` or `connectLocal()`. */
export class Session {
  #link: Link;
  #id = 0;
  #details: WelcomeDetails = {};
  #realm: string;
  #lastRequest = 0;
  #pending = new Map<number, Pending>();
  #subscriptions = new Map<number, Set<Subscription>>();
  #caller: Caller;
  #callee: Callee;
  #state: "joining" | "open" | "closing" | "closed" = "joining";
  #join: { resolve(): void; reject(e: Error): void } | undefined;
  #closed: Promise<CloseInfo>;
  #resolveClosed!: (info: CloseInfo) => void;
  #meta: MetaApi | undefined;
  #auth: ClientAuthenticator;

  private constructor(link: Link, realm: string, auth: ClientAuthenticator) {
    this.#link = link;
    this.#realm = realm;
    this.#auth = auth;
    this.#closed = new Promise((resolve) => this.#resolveClosed = resolve);
    const context: SessionContext = {
      isOpen: () => this.#state === "open",
      routerRoles: () => this.#details.roles ?? {},
      send: (msg) => this.#send(msg),
      request: (make, onReply) => this.#request(make, onReply),
      nextRequest: () => this.#nextRequest(),
    };
    this.#caller = new Caller(context);
    this.#callee = new Callee(context);
    const handler: PeerHandler = {
      receive: (msg) => this.#receive(msg),
      fail: (error) => this.#violation(error.message),
      closed: () => this.#finish("wamp.close.transport_lost", {}),
    };
    link.bind(handler);
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
   * @throws {RangeError} If the cryptosign seed is not 32 bytes of hex.
   * @throws {TypeError} When channel binding is asked for over a link without TLS.
   */
  static async join(link: Link, options: JoinOptions): Promise<Session> {
    let auth: ClientAuthenticator;
    try {
      auth = new ClientAuthenticator(options, link.info);
    } catch (error) {
      link.close();
      throw error;
    }
    const session = new Session(link, options.realm, auth);
    const details: Dict = {
      roles: rolesDict(CLIENT_FEATURES),
      agent: `Cloverleaf-${denoConfig.version}`,
      ...auth.hello(),
    };
    const joined = new Promise<void>((resolve, reject) => session.#join = { resolve, reject });
    link.send({ type: MessageType.HELLO, realm: options.realm, details });
    const timeout = options.timeout ?? 10_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        link.close();
        reject(new SessionClosedError("wamp.close.timeout", `no WELCOME in ${timeout} ms`));
      }, timeout);
    });
    try {
      await Promise.race([joined, expired]);
    } finally {
      clearTimeout(timer);
    }
    return session;
  }

  /** The session ID the router assigned. */
  get id(): number {
    return this.#id;
  }

  /** The realm joined. */
  get realm(): string {
    return this.#realm;
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
    return this.#closed;
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
  async subscribe(
    topic: string,
    handler?: EventHandler,
    options: SubscribeOptions = {},
  ): Promise<Subscription> {
    let request = 0;
    const reply = this.#request((id) => {
      request = id;
      return { type: MessageType.SUBSCRIBE, request: id, options, topic };
    });
    // Attach the subscription the moment SUBSCRIBED is read, so an EVENT
    // right behind it (a retained event) finds it.
    let sub: Subscription | undefined;
    const pending = this.#pending.get(request);
    if (pending !== undefined) {
      this.#pending.set(request, {
        resolve: (msg) => {
          const id = (msg as { subscription: number }).subscription;
          sub = new Subscription(id, topic, handler, (s) => this.#unsubscribe(s));
          let local = this.#subscriptions.get(id);
          if (local === undefined) this.#subscriptions.set(id, local = new Set());
          local.add(sub);
          pending.resolve(msg);
        },
        reject: pending.reject,
      });
    }
    await reply;
    return sub!;
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
   */
  async publish(
    topic: string,
    payload: Arguments = {},
    options: PublishOptions = {},
  ): Promise<number | undefined> {
    const make = (request: number): WampMessage => ({
      type: MessageType.PUBLISH,
      request,
      options,
      topic,
      ...payload,
    });
    if (options.acknowledge !== true) {
      this.#send(make(this.#nextRequest()));
      return undefined;
    }
    const reply = await this.#request(make);
    return (reply as { publication: number }).publication;
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
    return this.#callee.register(procedure, endpoint, options);
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
   *
   * @param procedure The procedure URI.
   * @param payload Arguments and keyword arguments, or input chunks.
   * @param options CALL options, plus `signal`, `cancelMode` and `onProgress`.
   * @returns The final result, with `args` and `kwargs` always present.
   * @throws {ApplicationError} With the callee's or router's error.
   * @throws {SessionClosedError} When the session is or becomes closed.
   *
   * @example Progressive results
   * ```ts
   * import { connectLocal, Router } from "@cloverleaf/wamp";
   * import { deepEqual } from "node:assert/strict";
   *
   * const router = new Router({ realms: [{ name: "realm1" }] });
   * const session = await connectLocal(router, "realm1");
   * await session.register("com.example.count", (args, _kwargs, _details, invocation) => {
   *   const n = args[0] as number;
   *   for (let i = 1; i < n; i++) invocation.progress({ args: [i] });
   *   return { args: [n] };
   * });
   * const seen: unknown[] = [];
   * const result = await session.call("com.example.count", { args: [3] }, {
   *   onProgress: (progress) => seen.push(progress.args[0]),
   * });
   * deepEqual([...seen, result.args[0]], [1, 2, 3]);
   * await session.close();
   * await router.close();
   * ```
   *
   * @example Streaming input chunks
   * ```ts
   * import { connectLocal, Router } from "@cloverleaf/wamp";
   * import { deepEqual } from "node:assert/strict";
   *
   * const router = new Router({ realms: [{ name: "realm1" }] });
   * const session = await connectLocal(router, "realm1");
   * await session.register("com.example.sum", async (_args, _kwargs, _details, invocation) => {
   *   let sum = 0;
   *   for await (const chunk of invocation.chunks) sum += chunk.args[0] as number;
   *   return { args: [sum] };
   * });
   * async function* numbers() {
   *   for (const n of [1, 2, 3]) yield { args: [n] };
   * }
   * deepEqual((await session.call("com.example.sum", numbers())).args, [6]);
   * await session.close();
   * await router.close();
   * ```
   */
  call(
    procedure: string,
    payload: Arguments | AsyncIterable<Arguments> = {},
    options: CallRequestOptions = {},
  ): Promise<Result> {
    return this.#caller.call(procedure, payload, options);
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
      this.#link.send({
        type: MessageType.GOODBYE,
        details: message === undefined ? {} : { message },
        reason,
      });
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.#closed,
        new Promise((resolve) => timer = setTimeout(resolve, 1000)),
      ]);
      clearTimeout(timer);
    }
    this.#finish(reason, {});
  }

  // ---- internals ----

  #receive(msg: WampMessage): void {
    switch (msg.type) {
      case MessageType.WELCOME: {
        if (this.#state !== "joining") return this.#violation("WELCOME on an open session");
        const refused = this.#auth.welcome(msg.details);
        if (refused !== undefined) return this.#abort(ErrorUri.AUTHENTICATION_FAILED, refused);
        this.#id = msg.session;
        this.#details = msg.details;
        this.#state = "open";
        return this.#join?.resolve();
      }
      case MessageType.ABORT:
        return this.#finish(msg.reason, msg.details);
      case MessageType.GOODBYE:
        if (this.#state === "open") {
          this.#link.send({
            type: MessageType.GOODBYE,
            details: {},
            reason: CloseUri.GOODBYE_AND_OUT,
          });
        }
        return this.#finish(msg.reason, msg.details);
      case MessageType.EVENT:
        return this.#onEvent(msg);
      case MessageType.INVOCATION:
        return this.#callee.onInvocation(msg);
      case MessageType.INTERRUPT:
        return this.#callee.onInterrupt(msg);
      case MessageType.UNREGISTERED:
        if (msg.request === 0) return this.#callee.onRevoked(msg);
        return this.#settle(msg.request, msg);
      case MessageType.UNSUBSCRIBED:
        if (msg.request === 0) {
          const id = msg.details?.subscription;
          const reason = msg.details?.reason;
          if (typeof id !== "number") return;
          for (const sub of this.#subscriptions.get(id) ?? []) {
            sub.end(typeof reason === "string" ? reason : "");
          }
          this.#subscriptions.delete(id);
          return;
        }
        return this.#settle(msg.request, msg);
      case MessageType.SUBSCRIBED:
      case MessageType.PUBLISHED:
      case MessageType.REGISTERED:
        return this.#settle(msg.request, msg);
      case MessageType.RESULT:
        return this.#caller.onResult(msg);
      case MessageType.ERROR:
        if (msg.requestType === MessageType.CALL) return this.#caller.onError(msg);
        return this.#settle(msg.request, msg);
      case MessageType.CHALLENGE:
        if (this.#state !== "joining") return this.#violation("CHALLENGE on an open session");
        return this.#onChallenge(msg);
      default:
        return this.#violation(`unexpected ${messageTypeName(msg.type)}`);
    }
  }

  #nextRequest(): number {
    this.#lastRequest = this.#lastRequest >= MAX_ID ? 1 : this.#lastRequest + 1;
    return this.#lastRequest;
  }

  #send(msg: WampMessage): void {
    if (this.#state !== "open") {
      throw new SessionClosedError("wamp.close.normal", "the session is not open");
    }
    this.#link.send(msg);
  }

  #request(
    make: (request: number) => WampMessage,
    onReply?: (reply: WampMessage) => void,
  ): Promise<WampMessage> {
    if (this.#state !== "open") {
      return Promise.reject(
        new SessionClosedError("wamp.close.normal", "the session is not open"),
      );
    }
    const request = this.#nextRequest();
    const reply = new Promise<WampMessage>((resolve, reject) =>
      this.#pending.set(request, {
        resolve: onReply === undefined ? resolve : (msg) => {
          onReply(msg);
          resolve(msg);
        },
        reject,
      })
    );
    this.#link.send(make(request));
    return reply;
  }

  #settle(request: number, msg: WampMessage): void {
    const pending = this.#pending.get(request);
    if (pending === undefined) return; // e.g. a call aborted locally
    this.#pending.delete(request);
    if (msg.type === MessageType.ERROR) {
      pending.reject(
        new ApplicationError(msg.error, {
          args: msg.args ?? [],
          kwargs: msg.kwargs ?? {},
          details: msg.details,
        }),
      );
    } else {
      pending.resolve(msg);
    }
  }

  #onEvent(msg: WampMessage & { type: typeof MessageType.EVENT }): void {
    const subs = this.#subscriptions.get(msg.subscription);
    if (subs === undefined) return;
    for (const sub of subs) {
      const event: Event = {
        args: msg.args ?? [],
        kwargs: msg.kwargs ?? {},
        details: msg.details,
        publication: msg.publication,
        topic: msg.details.topic ?? sub.topic,
      };
      sub.deliver(event);
    }
  }

  async #unsubscribe(sub: Subscription): Promise<void> {
    const local = this.#subscriptions.get(sub.id);
    if (local === undefined || !local.delete(sub)) return;
    if (local.size > 0) return;
    this.#subscriptions.delete(sub.id);
    if (this.#state !== "open") return;
    await this.#request((request) => ({
      type: MessageType.UNSUBSCRIBE,
      request,
      subscription: sub.id,
    }));
  }

  #onChallenge(msg: ChallengeMessage): void {
    this.#auth.answer(msg.authmethod, msg.extra).then(
      ({ signature, extra }) => {
        if (this.#state !== "joining") return;
        this.#link.send({ type: MessageType.AUTHENTICATE, signature, extra });
      },
      (error: unknown) =>
        this.#abort(CANNOT_AUTHENTICATE, error instanceof Error ? error.message : String(error)),
    );
  }

  #violation(message: string): void {
    this.#abort(ErrorUri.PROTOCOL_VIOLATION, message);
  }

  #abort(reason: string, message: string): void {
    if (this.#state === "closed") return;
    this.#link.send({ type: MessageType.ABORT, details: { message }, reason });
    this.#finish(reason, { message });
  }

  #finish(reason: string, details: Dict): void {
    if (this.#state === "closed") return;
    const wasJoining = this.#state === "joining";
    this.#state = "closed";
    const error = new SessionClosedError(
      reason,
      typeof details.message === "string" ? details.message : undefined,
    );
    if (wasJoining) this.#join?.reject(error);
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
    for (const subs of this.#subscriptions.values()) for (const s of subs) s.end();
    this.#subscriptions.clear();
    this.#caller.close(error);
    this.#callee.close(error);
    this.#link.close();
    this.#resolveClosed({ reason, details });
  }
}
