/**
 * The shell around one transport connection: it feeds what arrives into
 * the session state machine (`core/session_state.ts`) and acts on what
 * comes back: sends its replies, joins and leaves the realm, delivers,
 * runs timers with `setTimeout` and tasks (dynamic authenticators) as
 * promises, feeding their outcomes back, also once the connection closed (a
 * login step holds its place until then). It owns the hello timeout and
 * the wait for the client's GOODBYE after the router's.
 *
 * @module
 */

import {
  type AttachOptions,
  CloseUri,
  MessageType,
  type Peer,
  type PeerHandler,
  type ProtocolViolationError,
  type WampMessage,
} from "../wamp/mod.ts";
import { NOTHING } from "./core/output.ts";
import type { Realm, RealmRequest } from "./core/realm.ts";
import { keptPayloadSize } from "./core/limits.ts";
import { MAX_HELD, MAX_HELD_BYTES } from "./core/requests.ts";
import type {
  SessionEffect,
  SessionOutput,
  SessionTask,
  SessionTimer,
} from "./core/session_output.ts";
import { type SessionHost, SessionState } from "./core/session_state.ts";
import type { Logger, SessionInfo } from "./core/types.ts";
import type { Delivery } from "./delivery.ts";
import { Target } from "./target.ts";
import type { OutputRunner } from "./output_runner.ts";
import type { SessionLog } from "./session_log.ts";
import type { RouterMetrics } from "./metrics.ts";

/** What a connection needs from its router. */
export interface ConnectionHost extends SessionHost<Realm> {
  /** Finds a realm by name. */
  realm(name: string): Realm | undefined;
  /** Where messages for joined sessions go. */
  readonly delivery: Delivery;
  /** Delivers what realms return and runs their effects (router-wide timers and tasks). */
  readonly runner: OutputRunner;
  /** Where log lines go. */
  readonly log: Logger;
  /** Where joins and leaves are logged (summed up above a rate). */
  readonly sessions: SessionLog;
  /** The router's metrics. */
  readonly metrics?: RouterMetrics;
  /** Called once when the connection is gone. */
  detach(connection: Connection): void;
}

/** One transport connection attached to the router. */
export class Connection implements PeerHandler {
  #host: ConnectionHost;
  #peer: Peer;
  #state: SessionState<Realm>;
  #target: Target;
  /**
   * GOODBYE or ABORT that arrived while the realm held this session's
   * requests behind an authorization, and what came after it, in order.
   */
  #held: WampMessage[] | undefined;
  /** The estimated bytes held, bounded as the realm's held requests are. */
  #heldBytes = 0;
  #helloTimeout: number;
  #helloTimer: ReturnType<typeof setTimeout> | undefined;
  #timers: Map<unknown, ReturnType<typeof setTimeout>> | undefined;
  /** Timers armed during the current step, armed when it ends (see {@linkcode Connection.#run}). */
  #arming: Map<unknown, SessionTimer> | undefined;
  /** How deep in steps (a synchronous task's outcome is a step within a step). */
  #depth = 0;

  /**
   * Attaches a transport connection.
   *
   * @param host The router.
   * @param peer The transport's sending half.
   * @param options Outbound limits and the hello timeout.
   */
  constructor(host: ConnectionHost, peer: Peer, options: AttachOptions = {}) {
    this.#host = host;
    this.#peer = peer;
    this.#helloTimeout = options.helloTimeout ?? 10_000;
    this.#target = new Target(peer, options, host.log, this, host.metrics);
    const runner = host.runner;
    const requests = {
      request: (realm: Realm, session: SessionInfo, msg: WampMessage, fresh: boolean) => {
        runner.run(realm.receive(session, msg as RealmRequest, fresh));
        return NOTHING;
      },
    };
    this.#state = new SessionState(host, requests, peer.info, peer.sendLimit);
    this.#armHelloTimer();
  }

  /** The joined session's identity (throws before WELCOME). */
  get info(): SessionInfo {
    return this.#state.info;
  }

  /** The session ID, or 0 before WELCOME. */
  get id(): number {
    return this.#state.id;
  }

  /** The transport under the session. */
  get peer(): Peer {
    return this.#peer;
  }

  /** Whether a session has joined a realm. */
  get joined(): boolean {
    return this.#state.joined;
  }

  /** Whether the connection is closed. */
  get ended(): boolean {
    return this.#state.phase === "closed";
  }

  /** EVENTs dropped for this connection because it did not keep up. */
  get droppedEvents(): number {
    return this.#target.droppedEvents;
  }

  // ---- PeerHandler: what the transport calls ----

  /** A message arrived from the client. */
  receive(msg: WampMessage): void {
    this.#target.meter?.received(msg);
    this.#receive(msg);
  }

  #receive(msg: WampMessage): void {
    if (this.#state.phase === "closed") return;
    if (this.#held !== undefined) {
      // GOODBYE or ABORT waits behind requests a dynamic authorizer holds: keep order.
      this.#heldBytes += keptPayloadSize([msg], MAX_HELD_BYTES);
      if (this.#held.push(msg) > MAX_HELD || this.#heldBytes > MAX_HELD_BYTES) {
        this.#held = undefined;
        this.#run(this.#state.violation("too many requests awaiting authorization"));
      }
      return;
    }
    if (
      (msg.type === MessageType.GOODBYE || msg.type === MessageType.ABORT) && this.#state.joined &&
      this.#host.realm(this.#state.info.realm)?.holding(this.#state.id) === true
    ) {
      this.#held = [msg];
      this.#heldBytes = keptPayloadSize([msg], MAX_HELD_BYTES);
      return this.#host.runner.wait(this);
    }
    const out = this.#state.receive(msg);
    if (out !== NOTHING) this.#run(out);
  }

  /** A frame could not be decoded. */
  fail(error: ProtocolViolationError): void {
    this.#run(this.#state.violation(error.message));
  }

  /** The transport is gone. */
  closed(): void {
    if (this.#state.phase === "closed") return;
    this.#run(this.#state.closed());
    this.#stopTimers();
    this.#host.detach(this);
  }

  // ---- what the router calls ----

  /** The realm may have released this session's requests: go on with what was kept back. */
  resume(): void {
    const held = this.#held;
    if (held === undefined || this.#state.phase === "closed") return;
    if (this.#state.joined && this.#host.realm(this.#state.info.realm)?.holding(this.#state.id)) {
      return this.#host.runner.wait(this);
    }
    this.#held = undefined;
    for (const msg of held) this.#receive(msg);
  }

  /**
   * Handles a message as if the client had sent it: the router answering for a client that
   * cannot take what it was sent (`oversize.ts`), never held behind (nor counted against) what
   * waits for an authorization. Nothing happens unless `session` is still the one joined.
   *
   * @param msg The message.
   * @param session The session it answers for.
   */
  handle(msg: WampMessage, session: number): void {
    const info = this.#state.joined && this.#state.id === session ? this.#state.info : undefined;
    const realm = info && this.#host.realm(info.realm);
    try {
      if (realm) this.#host.runner.run(realm.receive(info!, msg as RealmRequest, true, false));
    } catch (error) {
      this.#host.log("error", `Session ${session}: internal error answering for it: ${error}`);
    }
  }

  /**
   * Aborts the session for a protocol violation found later (a request
   * released after an authorization).
   *
   * @param message The ABORT's message.
   * @param error What was thrown, when it was not a protocol violation.
   */
  violate(message: string, error?: unknown): void {
    if (this.#state.phase === "closed") return;
    if (error !== undefined) {
      this.#host.log("error", `Session ${this.#state.id}: internal error: ${error}`);
    }
    this.#run(this.#state.violation(message));
  }

  /**
   * Starts a router-initiated close: GOODBYE with `reason`, then the
   * transport closes when the client answers, or after the hello timeout
   * (10 s when there is none) if it never does.
   *
   * @param reason The close reason URI.
   * @param message An optional human-readable message.
   */
  shutdown(reason: string = CloseUri.SYSTEM_SHUTDOWN, message?: string): void {
    const id = this.#state.id;
    const wasOpen = this.#state.joined;
    this.#run(this.#state.shutdown(reason, message));
    if (!wasOpen || this.#state.phase !== "shutting-down") return;
    // A client that never answers does not keep its connection.
    const wait = this.#helloTimeout > 0 ? this.#helloTimeout : 10_000;
    clearTimeout(this.#helloTimer);
    this.#helloTimer = setTimeout(() => {
      this.#host.log("info", `Session ${id}: no GOODBYE reply within ${wait} ms, closing`);
      this.#run(this.#state.close());
    }, wait);
  }

  /** Closes the transport at once. */
  close(): void {
    this.#run(this.#state.close());
  }

  // ---- acting on the state machine's output ----

  /**
   * Acts on a step's output. Timers are set when the outermost step ends:
   * a handshake whose steps all finish at once (anonymous, a static
   * ticket) arms and cancels its `authTimeout` without a `setTimeout`.
   */
  #run(out: SessionOutput): void {
    this.#depth++;
    try {
      const reply = out.reply;
      if (reply !== undefined && !reply.every((msg) => this.#target.reply(msg))) {
        // A reply that did not fit ends the connection now: nothing it brought after runs, and
        // a session whose WELCOME it was never joins (its leaving is not acted on either).
        this.#state.close();
        if (out.left !== undefined) this.#leave(out.left);
        return this.#close();
      }
      if (out.joined !== undefined) this.#join(out.joined);
      if (out.messages.length > 0) this.#host.delivery.deliver(out.messages);
      if (out.left !== undefined) this.#leave(out.left);
      for (const effect of out.effects) this.#effect(effect);
      if (out.close === true) this.#close();
    } finally {
      if (--this.#depth === 0 && this.#arming !== undefined) this.#armTimers();
    }
  }

  #join(info: SessionInfo): void {
    clearTimeout(this.#helloTimer);
    this.#helloTimer = undefined;
    this.#target.info = info;
    const realm = this.#host.realm(info.realm);
    this.#target.meter?.joined(info, realm?.options.strictUris ?? false);
    this.#host.delivery.add(info.id, this.#target);
    this.#host.sessions.joined(info, this.#peer.info.peer);
    if (realm !== undefined) this.#host.runner.run(realm.join(this.#target));
  }

  #leave(info: SessionInfo): void {
    this.#target.meter?.left();
    this.#host.delivery.remove(info.id);
    this.#host.sessions.left(info);
    this.#held = undefined;
    const realm = this.#host.realm(info.realm);
    if (realm !== undefined) this.#host.runner.run(realm.leave(info.id));
    this.#target.left(); // the realm took what it keeps of it
    // After GOODBYE the transport may carry a new session, within the hello timeout.
    if (this.#state.phase === "idle") this.#armHelloTimer();
  }

  #effect(effect: SessionEffect): void {
    switch (effect.kind) {
      case "arm":
        (this.#arming ??= new Map()).set(effect.key, effect);
        return;
      case "cancel":
        this.#arming?.delete(effect.key);
        if (this.#timers === undefined) return;
        clearTimeout(this.#timers.get(effect.key));
        this.#timers.delete(effect.key);
        return;
      case "task":
        return this.#task(effect);
      case "close":
      case "abort":
      case "resume":
      case "cluster":
      case "cluster-publish":
      case "cluster-interest":
      case "cluster-session":
      case "cluster-testaments":
        return this.#host.runner.run({ messages: [], effects: [effect] });
    }
  }

  /** Sets the timers the step armed (re-arming one replaces it). */
  #armTimers(): void {
    const arming = this.#arming!;
    this.#arming = undefined;
    if (this.#state.phase === "closed") return;
    for (const [key, timer] of arming) {
      const timers = this.#timers ??= new Map();
      clearTimeout(timers.get(key));
      timers.set(
        key,
        setTimeout(() => {
          timers.delete(key);
          if (this.#state.phase !== "closed") this.#run(timer.fire());
        }, timer.ms),
      );
    }
  }

  /**
   * Runs a task: at once when it is synchronous, else when its promise settles (or its `limit`
   * passed, `OutputRunner.settle`), also once the connection closed (a login step's late outcome
   * frees its place or counts a failed login).
   */
  #task(task: SessionTask): void {
    let value: unknown;
    try {
      value = task.run();
    } catch (error) {
      return this.#run(task.resume({ ok: false, error }));
    }
    if (!isThenable(value)) return this.#run(task.resume({ ok: true, value }));
    this.#host.runner.settle(value, task.limit, (settled) => this.#run(task.resume(settled)));
  }

  /** Closes the connection unless a session joins within the hello timeout. */
  #armHelloTimer(): void {
    const helloTimeout = this.#helloTimeout;
    clearTimeout(this.#helloTimer);
    this.#helloTimer = undefined;
    if (helloTimeout <= 0) return;
    this.#helloTimer = setTimeout(() => {
      this.#helloTimer = undefined;
      // A CHALLENGE left unanswered (or an authenticator still deciding)
      // ends in ABORT, as when authTimeout runs out first.
      if (this.#state.phase === "authenticating") {
        return this.#run(this.#state.expire("timed out (helloTimeout)"));
      }
      const peer = this.#peer.info.peer ?? this.#peer.info.type;
      const line = `Connection from ${peer}: no session within ${helloTimeout} ms, closing`;
      this.#host.log("info", line, { event: "hello_timeout", peer });
      this.#run(this.#state.close());
    }, helloTimeout);
  }

  #stopTimers(): void {
    clearTimeout(this.#helloTimer);
    this.#helloTimer = undefined;
    if (this.#timers === undefined) return;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  #close(): void {
    this.#stopTimers();
    this.#peer.close();
    this.#host.detach(this);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === "function";
}
