/**
 * The router's end of one transport connection: the session state machine
 * (HELLO → WELCOME → … → GOODBYE), role checks, request-ID sequencing, the
 * one place where protocol violations become ABORT, and the outbound
 * policy for slow consumers.
 *
 * @module
 */

import {
  type AttachOptions,
  CloseUri,
  type Dict,
  ErrorUri,
  type HelloMessage,
  MAX_ID,
  MessageType,
  messageTypeName,
  type Peer,
  type PeerHandler,
  ProtocolViolationError,
  type SlowConsumerPolicy,
  type WampMessage,
} from "../../wamp/mod.ts";
import { acceptHello } from "./acceptor.ts";
import { Handshake, welcomeDetails } from "./handshake.ts";
import type { Identity } from "./auth/authenticator.ts";
import { trustLevelFor } from "./realm_options.ts";
import type { Output } from "./output.ts";
import type { Realm, RealmMember } from "./realm.ts";
import { MAX_HELD } from "./requests.ts";
import type { Logger, SessionInfo } from "./types.ts";

/** What a session needs from its router. */
export interface SessionHost {
  /** Finds a realm by name. */
  realm(name: string): Realm | undefined;
  /** Draws a global-scope ID for a new session. */
  sessionId(): number;
  /** The agent string sent in WELCOME. */
  readonly agent: string;
  /** Milliseconds a client has from HELLO to WELCOME when it must authenticate. */
  readonly authTimeout: number;
  /** WELCOME.Details.roles. */
  readonly roles: Record<string, unknown>;
  /** Where log lines go. */
  readonly log: Logger;
  /** Called once when the connection is gone. */
  detach(session: Session): void;
  /** Makes a joined session reachable by ID for {@linkcode SessionHost.run} (null: forget it). */
  reach(id: number, session: Session | null): void;
  /** Delivers what a realm returned and runs its effects. */
  run(out: Output): void;
  /** Has `session.resume()` called after the next asynchronous continuation. */
  wait(session: Session): void;
}

type State = "idle" | "authenticating" | "open" | "shutting-down" | "closed";

const ROLE_OF: Partial<Record<number, string>> = {
  [MessageType.PUBLISH]: "publisher",
  [MessageType.SUBSCRIBE]: "subscriber",
  [MessageType.UNSUBSCRIBE]: "subscriber",
  [MessageType.CALL]: "caller",
  [MessageType.CANCEL]: "caller",
  [MessageType.REGISTER]: "callee",
  [MessageType.UNREGISTER]: "callee",
  [MessageType.YIELD]: "callee",
  [MessageType.ERROR]: "callee",
};

/** One transport connection as the router sees it. */
export class Session implements PeerHandler, RealmMember {
  #host: SessionHost;
  #peer: Peer;
  #maxBacklog: number;
  #maxBacklogMessages: number;
  #helloTimer: ReturnType<typeof setTimeout> | undefined;
  #helloTimeout: number;
  #policy: SlowConsumerPolicy;
  #state: State = "idle";
  #realm: Realm | undefined;
  #info: SessionInfo | undefined;
  #lastRequest = 0;
  #dropping = false;
  #handshake: Handshake | undefined;
  /**
   * GOODBYE or ABORT that arrived while the realm held this session's
   * requests behind an authorization, and what came after it, in order.
   */
  #held: WampMessage[] | undefined;
  /** EVENTs dropped for this session because it did not keep up. */
  droppedEvents = 0;

  /**
   * Wraps a transport connection.
   *
   * @param host The router.
   * @param peer The transport's sending half.
   * @param options Outbound limits.
   */
  constructor(host: SessionHost, peer: Peer, options: AttachOptions = {}) {
    this.#host = host;
    this.#peer = peer;
    this.#maxBacklog = options.maxBacklog ?? 1024 * 1024;
    this.#maxBacklogMessages = options.maxBacklogMessages ?? 16384;
    this.#policy = options.slowConsumer ?? "drop";
    this.#helloTimeout = options.helloTimeout ?? 10_000;
    this.#armHelloTimer();
  }

  /** Closes the connection unless a session joins within the hello timeout. */
  #armHelloTimer(): void {
    const helloTimeout = this.#helloTimeout;
    if (helloTimeout <= 0) return;
    this.#helloTimer = setTimeout(() => {
      // A CHALLENGE left unanswered (or an authenticator still deciding)
      // ends in ABORT, as when authTimeout runs out first.
      const handshake = this.#handshake;
      if (handshake !== undefined) return this.#denied(handshake, "timed out (helloTimeout)");
      this.#host.log(
        "info",
        `Connection from ${
          this.#peer.info.peer ?? this.#peer.info.type
        }: no session within ${helloTimeout} ms, closing`,
      );
      this.#close();
    }, helloTimeout);
  }

  /** The joined session's identity (throws before WELCOME). */
  get info(): SessionInfo {
    if (this.#info === undefined) throw new Error("Session has not joined a realm");
    return this.#info;
  }

  /** The session ID, or 0 before WELCOME. */
  get id(): number {
    return this.#info?.id ?? 0;
  }

  /** The transport under the session. */
  get peer(): Peer {
    return this.#peer;
  }

  /** Whether the session has joined a realm. */
  get joined(): boolean {
    return this.#state === "open";
  }

  // ---- PeerHandler: what the transport calls ----

  /** A message arrived from the client. */
  receive(msg: WampMessage): void {
    if (this.#state === "closed") return;
    if (this.#held !== undefined) {
      // A dynamic authorizer is deciding an earlier request: keep order.
      if (this.#held.push(msg) > MAX_HELD) {
        this.#violation("too many requests awaiting authorization");
      }
      return;
    }
    try {
      this.#receive(msg);
    } catch (error) {
      if (error instanceof ProtocolViolationError) {
        this.#violation(error.message);
      } else {
        this.#host.log("error", `Session ${this.id}: internal error: ${error}`);
        this.#violation("internal router error");
      }
    }
  }

  /** The realm may have released this session's requests: go on with what was kept back. */
  resume(): void {
    const held = this.#held;
    if (held === undefined || this.#state === "closed") return;
    if (this.#realm?.holding(this.id) === true) return this.#host.wait(this);
    this.#held = undefined;
    for (const msg of held) this.receive(msg);
  }

  /**
   * Aborts the session for a protocol violation found later (a request
   * released after an authorization).
   *
   * @param message The ABORT's message.
   * @param error What was thrown, when it was not a protocol violation.
   */
  violate(message: string, error?: unknown): void {
    if (this.#state === "closed") return;
    if (error !== undefined) {
      this.#host.log("error", `Session ${this.id}: internal error: ${error}`);
    }
    this.#violation(message);
  }

  /** A frame could not be decoded. */
  fail(error: ProtocolViolationError): void {
    if (this.#state !== "closed") this.#violation(error.message);
  }

  /** The transport is gone. */
  closed(): void {
    if (this.#state === "closed") return;
    clearTimeout(this.#helloTimer);
    this.#helloTimer = undefined;
    this.#endHandshake();
    this.#leave();
    this.#state = "closed";
    this.#host.detach(this);
  }

  // ---- RealmMember: what the realm calls ----

  /** Delivers a message, applying the slow-consumer policy. */
  send(msg: WampMessage): void {
    if (this.#state === "closed") return;
    const backlog = this.#peer.backlog();
    if (backlog <= this.#maxBacklog && this.#peer.queued() < this.#maxBacklogMessages) {
      if (this.#dropping) {
        this.#dropping = false;
        this.#host.log(
          "info",
          `Session ${this.id}: caught up, ${this.droppedEvents} events dropped so far`,
        );
      }
      this.#peer.send(msg);
      return;
    }
    if (this.#policy === "drop" && msg.type === MessageType.EVENT) {
      this.droppedEvents++;
      if (!this.#dropping) {
        this.#dropping = true;
        this.#host.log(
          "warn",
          `Session ${this.id}: slow consumer, ${backlog} bytes / ${this.#peer.queued()} messages queued: dropping events`,
        );
      }
      return;
    }
    this.#host.log(
      "warn",
      `Session ${this.id}: slow consumer, ${backlog} bytes / ${this.#peer.queued()} messages queued: closing session`,
    );
    this.#leave();
    this.#close();
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
    if (this.#state === "open") {
      this.#peer.send({
        type: MessageType.GOODBYE,
        details: message === undefined ? {} : { message },
        reason,
      });
      const id = this.id;
      this.#leave();
      this.#state = "shutting-down";
      // A client that never answers does not keep its connection.
      const wait = this.#helloTimeout > 0 ? this.#helloTimeout : 10_000;
      clearTimeout(this.#helloTimer);
      this.#helloTimer = setTimeout(() => {
        this.#host.log("info", `Session ${id}: no GOODBYE reply within ${wait} ms, closing`);
        this.#close();
      }, wait);
    } else if (this.#state !== "shutting-down") {
      this.#close();
    }
  }

  /** Closes the transport at once. */
  close(): void {
    this.#leave();
    this.#close();
  }

  // ---- the state machine ----

  #receive(msg: WampMessage): void {
    switch (this.#state) {
      case "idle":
        return this.#receiveIdle(msg);
      case "authenticating":
        if (msg.type === MessageType.AUTHENTICATE && this.#handshake?.challenged) {
          return this.#handshake.authenticate(msg);
        }
        if (msg.type === MessageType.ABORT) return this.#close();
        throw new ProtocolViolationError(
          `${messageTypeName(msg.type)} received while authenticating`,
        );
      case "open":
        return this.#receiveOpen(msg);
      case "shutting-down":
        // Only the GOODBYE reply matters now (spec: SHUTTING DOWN state).
        if (msg.type === MessageType.GOODBYE || msg.type === MessageType.ABORT) {
          this.#close();
        }
        return;
    }
  }

  #receiveIdle(msg: WampMessage): void {
    if (msg.type === MessageType.HELLO) return this.#onHello(msg);
    if (msg.type === MessageType.ABORT) return this.#close();
    throw new ProtocolViolationError(
      `${messageTypeName(msg.type)} received before the session was established`,
    );
  }

  #receiveOpen(msg: WampMessage): void {
    const role = ROLE_OF[msg.type];
    if (role !== undefined && !(role in this.info.roles)) {
      throw new ProtocolViolationError(
        `${messageTypeName(msg.type)} from a session that did not announce the ${role} role`,
      );
    }
    const realm = this.#realm!;
    const info = this.info;
    switch (msg.type) {
      case MessageType.PUBLISH:
      case MessageType.SUBSCRIBE:
      case MessageType.UNSUBSCRIBE:
      case MessageType.REGISTER:
      case MessageType.UNREGISTER:
        this.#nextRequest(msg.request);
        return this.#host.run(realm.receive(info, msg));
      case MessageType.CALL:
        // An old ID may continue a progressive call; the dealer decides.
        return this.#host.run(realm.receive(info, msg, this.#nextRequest(msg.request, true)));
      case MessageType.CANCEL:
      case MessageType.YIELD:
      case MessageType.ERROR:
        return this.#host.run(realm.receive(info, msg));
      case MessageType.GOODBYE:
      case MessageType.ABORT:
        if (realm.holding(info.id)) {
          // Earlier requests wait for an authorization: this waits behind them.
          this.#held = [msg];
          return this.#host.wait(this);
        }
        if (msg.type === MessageType.ABORT) {
          this.#leave();
          return this.#close();
        }
        return this.#onGoodbye();
      default:
        throw new ProtocolViolationError(
          `${messageTypeName(msg.type)} is not a message a router accepts here`,
        );
    }
  }
  #onHello(msg: HelloMessage): void {
    const realm = this.#host.realm(msg.realm);
    const accepted = acceptHello(msg, realm, this.#peer.info);
    if ("abort" in accepted) {
      this.#peer.send(accepted.abort);
      this.#close();
      return;
    }
    const handshake = new Handshake(
      {
        send: (challenge) => this.#peer.send(challenge),
        welcome: (identity) => this.#welcome(realm!, handshake, accepted.roles, identity),
        deny: (reason) => this.#denied(handshake, reason),
      },
      msg,
      this.#host.sessionId(),
      accepted.authenticator.method,
      this.#host.authTimeout,
    );
    this.#handshake = handshake;
    this.#state = "authenticating";
    handshake.start(accepted.authenticator, this.#peer.info);
  }

  #endHandshake(): void {
    this.#handshake?.end();
    this.#handshake = undefined;
  }

  #denied(handshake: Handshake, reason: string): void {
    this.#host.log(
      "info",
      `Session ${handshake.id}: ${handshake.method} authentication failed: ${reason}`,
    );
    this.#endHandshake();
    this.#peer.send({
      type: MessageType.ABORT,
      details: { message: "authentication failed" },
      reason: ErrorUri.AUTHENTICATION_FAILED,
    });
    this.#close();
  }

  #welcome(realm: Realm, handshake: Handshake, roles: Dict, identity: Identity): void {
    this.#endHandshake();
    if (realm.full) {
      // Filled up while this session was authenticating.
      this.#peer.send({
        type: MessageType.ABORT,
        details: { message: `Realm "${realm.name}" is full` },
        reason: ErrorUri.REALM_FULL,
      });
      return this.#close();
    }
    const { hello, id } = handshake;
    const transport = this.#peer.info.type;
    const trustlevel = trustLevelFor(realm.options.trustLevels, identity.authrole, transport);
    this.#info = {
      id,
      realm: hello.realm,
      ...identity,
      roles,
      transport,
      hello: hello.details,
      ...(trustlevel === undefined ? {} : { trustlevel }),
    };
    this.#realm = realm;
    this.#lastRequest = 0;
    this.#state = "open";
    clearTimeout(this.#helloTimer);
    this.#helloTimer = undefined;
    const details: Record<string, unknown> = {
      roles: this.#host.roles,
      agent: this.#host.agent,
      realm: hello.realm,
      ...identity,
    };
    this.#peer.send({
      type: MessageType.WELCOME,
      session: id,
      details: welcomeDetails(id, details, roles, this.#peer.sendLimit),
    });
    this.#host.reach(id, this);
    this.#host.run(realm.join(this));
    this.#host.log(
      "debug",
      `Session ${id} joined realm "${hello.realm}" as ${identity.authid} (${identity.authmethod}, ${transport})`,
    );
  }

  #onGoodbye(): void {
    this.#peer.send({ type: MessageType.GOODBYE, details: {}, reason: CloseUri.GOODBYE_AND_OUT });
    this.#leave();
    this.#state = "idle"; // the transport may carry a new session, within the hello timeout
    this.#armHelloTimer();
  }

  /**
   * Enforces session-scope request IDs: each new one is the last plus 1.
   * With `mayRepeat` (CALL), an out-of-sequence ID is not an error here: it
   * returns false and the dealer judges it.
   *
   * @returns Whether `request` is a new ID.
   */
  #nextRequest(request: number, mayRepeat = false): boolean {
    const expected = this.#lastRequest >= MAX_ID ? 1 : this.#lastRequest + 1;
    if (request !== expected && this.#realm!.options.strictRequestIds) {
      if (mayRepeat) return false;
      throw new ProtocolViolationError(
        `Request ID ${request} out of sequence: expected ${expected}`,
      );
    }
    this.#lastRequest = request;
    return true;
  }

  #violation(message: string): void {
    this.#host.log("info", `Session ${this.id}: protocol violation: ${message}`);
    this.#peer.send({
      type: MessageType.ABORT,
      details: { message },
      reason: ErrorUri.PROTOCOL_VIOLATION,
    });
    this.#leave();
    this.#close();
  }

  #leave(): void {
    if (this.#info !== undefined && this.#realm !== undefined) {
      const realm = this.#realm;
      this.#realm = undefined;
      this.#host.reach(this.#info.id, null);
      this.#host.run(realm.leave(this.#info.id));
      this.#host.log("debug", `Session ${this.#info.id} left realm "${realm.name}"`);
    }
    if (this.#state === "open") this.#state = "idle";
  }

  #close(): void {
    if (this.#state === "closed") return;
    clearTimeout(this.#helloTimer);
    this.#helloTimer = undefined;
    this.#endHandshake();
    this.#state = "closed";
    this.#peer.close();
    this.#host.detach(this);
  }
}
