/**
 * A client session: publisher, subscriber, caller and callee over any
 * {@linkcode Link}.
 *
 * @module
 */

import denoConfig from "../deno.json" with { type: "json" };
import {
  type CallOptions,
  CLIENT_FEATURES,
  CloseUri,
  type Dict,
  ErrorUri,
  type InvocationMessage,
  type Link,
  MAX_ID,
  MessageType,
  messageTypeName,
  type PeerHandler,
  type PublishOptions,
  type RegisterOptions,
  rolesDict,
  type SubscribeOptions,
  type WampMessage,
} from "../wamp/mod.ts";
import { ApplicationError, SessionClosedError } from "./errors.ts";
import { type Event, type EventHandler, Subscription } from "./subscription.ts";

/** Positional and keyword arguments of a call, result or publication. */
export interface Arguments {
  /** Positional arguments. */
  args?: unknown[];
  /** Keyword arguments. */
  kwargs?: Dict;
}

/** A call's result: always carries `args` and `kwargs`. */
export interface Result {
  /** Positional results (empty when none). */
  readonly args: unknown[];
  /** Keyword results (empty when none). */
  readonly kwargs: Dict;
  /** RESULT.Details. */
  readonly details: Dict;
}

/**
 * A procedure implementation. Return `{ args, kwargs }` (or nothing); throw
 * {@linkcode ApplicationError} to send a specific error. Any other throw
 * sends `wamp.error.runtime_error` with the error's message.
 */
export type Endpoint = (
  args: unknown[],
  kwargs: Dict,
  details: Dict,
) => Arguments | void | Promise<Arguments | void>;

/** A registered procedure. */
export interface Registration extends AsyncDisposable {
  /** The router's registration ID. */
  readonly id: number;
  /** The procedure. */
  readonly procedure: string;
  /** Withdraws the registration. */
  unregister(): Promise<void>;
}

/** Options for {@linkcode Session.call}: the wire options plus `signal`. */
export interface CallRequestOptions extends CallOptions {
  /** Rejects the call locally when aborted. */
  signal?: AbortSignal;
}

/** Options for joining a realm. */
export interface JoinOptions {
  /** The realm to join. */
  realm: string;
  /** The authid to ask for. */
  authid?: string;
  /**
   * Authentication methods to offer.
   * @default {["anonymous"]}
   */
  authmethods?: string[];
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
  #details: Dict = {};
  #realm: string;
  #lastRequest = 0;
  #pending = new Map<number, Pending>();
  #subscriptions = new Map<number, Set<Subscription>>();
  #registrations = new Map<number, { procedure: string; endpoint: Endpoint }>();
  #state: "joining" | "open" | "closing" | "closed" = "joining";
  #join: { resolve(): void; reject(e: Error): void } | undefined;
  #closed: Promise<CloseInfo>;
  #resolveClosed!: (info: CloseInfo) => void;

  private constructor(link: Link, realm: string) {
    this.#link = link;
    this.#realm = realm;
    this.#closed = new Promise((resolve) => this.#resolveClosed = resolve);
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
   * @throws {SessionClosedError} When the router sends ABORT.
   */
  static async join(link: Link, options: JoinOptions): Promise<Session> {
    const session = new Session(link, options.realm);
    const details: Dict = {
      roles: rolesDict(CLIENT_FEATURES),
      agent: `Cloverleaf-${denoConfig.version}`,
      authmethods: options.authmethods ?? ["anonymous"],
    };
    if (options.authid !== undefined) details.authid = options.authid;
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

  /**
   * Subscribes to a topic.
   *
   * @param topic The topic.
   * @param handler Called for each event; omit to iterate the subscription.
   * @param options SUBSCRIBE options.
   * @returns The subscription.
   * @throws {ApplicationError} When the router refuses.
   */
  async subscribe(
    topic: string,
    handler?: EventHandler,
    options: SubscribeOptions = {},
  ): Promise<Subscription> {
    const reply = await this.#request((request) => ({
      type: MessageType.SUBSCRIBE,
      request,
      options,
      topic,
    }));
    const id = (reply as { subscription: number }).subscription;
    const sub = new Subscription(id, topic, handler, (s) => this.#unsubscribe(s));
    let local = this.#subscriptions.get(id);
    if (local === undefined) this.#subscriptions.set(id, local = new Set());
    local.add(sub);
    return sub;
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
   * Registers a procedure.
   *
   * @param procedure The procedure URI.
   * @param endpoint Its implementation.
   * @param options REGISTER options.
   * @returns The registration.
   * @throws {ApplicationError} When the router refuses.
   */
  async register(
    procedure: string,
    endpoint: Endpoint,
    options: RegisterOptions = {},
  ): Promise<Registration> {
    const reply = await this.#request((request) => ({
      type: MessageType.REGISTER,
      request,
      options,
      procedure,
    }));
    const id = (reply as { registration: number }).registration;
    this.#registrations.set(id, { procedure, endpoint });
    const unregister = async () => {
      if (!this.#registrations.delete(id) || this.#state !== "open") return;
      await this.#request((request) => ({
        type: MessageType.UNREGISTER,
        request,
        registration: id,
      }));
    };
    return { id, procedure, unregister, [Symbol.asyncDispose]: unregister };
  }

  /**
   * Calls a procedure.
   *
   * @param procedure The procedure URI.
   * @param payload Arguments and keyword arguments.
   * @param options CALL options, plus `signal`.
   * @returns The result, with `args` and `kwargs` always present.
   * @throws {ApplicationError} With the callee's or router's error.
   */
  async call(
    procedure: string,
    payload: Arguments = {},
    options: CallRequestOptions = {},
  ): Promise<Result> {
    const { signal, ...wireOptions } = options;
    signal?.throwIfAborted();
    let request = 0;
    const reply = this.#request((id) => {
      request = id;
      return { type: MessageType.CALL, request: id, options: wireOptions, procedure, ...payload };
    });
    const onAbort = () => {
      const pending = this.#pending.get(request);
      this.#pending.delete(request);
      pending?.reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const msg = await reply as { args?: unknown[]; kwargs?: Dict; details: Dict };
      return { args: msg.args ?? [], kwargs: msg.kwargs ?? {}, details: msg.details };
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
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
      case MessageType.WELCOME:
        if (this.#state !== "joining") return this.#violation("WELCOME on an open session");
        this.#id = msg.session;
        this.#details = msg.details;
        this.#state = "open";
        return this.#join?.resolve();
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
        void this.#onInvocation(msg);
        return;
      case MessageType.UNREGISTERED:
        if (msg.request === 0) {
          this.#registrations.delete(msg.details?.registration as number);
          return;
        }
        return this.#settle(msg.request, msg);
      case MessageType.UNSUBSCRIBED:
        if (msg.request === 0) {
          const id = msg.details?.subscription as number;
          for (const sub of this.#subscriptions.get(id) ?? []) sub.end();
          this.#subscriptions.delete(id);
          return;
        }
        return this.#settle(msg.request, msg);
      case MessageType.SUBSCRIBED:
      case MessageType.PUBLISHED:
      case MessageType.REGISTERED:
      case MessageType.RESULT:
        return this.#settle(msg.request, msg);
      case MessageType.ERROR:
        return this.#settle(msg.request, msg);
      case MessageType.CHALLENGE:
        return this.#violation("CHALLENGE received, but no authentication method needs one");
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

  #request(make: (request: number) => WampMessage): Promise<WampMessage> {
    if (this.#state !== "open") {
      return Promise.reject(
        new SessionClosedError("wamp.close.normal", "the session is not open"),
      );
    }
    const request = this.#nextRequest();
    const reply = new Promise<WampMessage>((resolve, reject) =>
      this.#pending.set(request, { resolve, reject })
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
        topic: (msg.details.topic as string | undefined) ?? sub.topic,
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

  async #onInvocation(msg: InvocationMessage): Promise<void> {
    const reg = this.#registrations.get(msg.registration);
    const fail = (error: string, args: unknown[], kwargs?: Dict) => {
      if (this.#state !== "open") return;
      this.#link.send({
        type: MessageType.ERROR,
        requestType: MessageType.INVOCATION,
        request: msg.request,
        details: {},
        error,
        args,
        ...(kwargs === undefined ? {} : { kwargs }),
      });
    };
    if (reg === undefined) {
      return fail(ErrorUri.NO_SUCH_REGISTRATION, ["registration withdrawn"]);
    }
    try {
      const out = await reg.endpoint(msg.args ?? [], msg.kwargs ?? {}, msg.details);
      if (this.#state !== "open") return;
      this.#link.send({
        type: MessageType.YIELD,
        request: msg.request,
        options: {},
        ...(out ?? {}),
      });
    } catch (error) {
      if (error instanceof ApplicationError) {
        fail(error.uri, error.args, error.kwargs);
      } else {
        fail(ErrorUri.RUNTIME_ERROR, [error instanceof Error ? error.message : String(error)]);
      }
    }
  }

  #violation(message: string): void {
    if (this.#state === "closed") return;
    this.#link.send({
      type: MessageType.ABORT,
      details: { message },
      reason: ErrorUri.PROTOCOL_VIOLATION,
    });
    this.#finish(ErrorUri.PROTOCOL_VIOLATION, { message });
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
    this.#registrations.clear();
    this.#link.close();
    this.#resolveClosed({ reason, details });
  }
}
