/**
 * One connection's session, as a state machine (spec "Session Lifecycle"):
 * idle → authenticating (the {@linkcode Acceptor}) → open → shutting down
 * or idle again after GOODBYE → closed. It checks what an open session
 * sends (its announced roles, session-scope request IDs), hands requests to
 * the realm, and is the one place where a protocol violation becomes
 * ABORT. It never touches the transport: every entry returns a
 * {@linkcode SessionOutput} for the shell (`router/connection.ts`) to act on.
 *
 * @module
 */

import {
  CloseUri,
  ErrorUri,
  MAX_ID,
  MessageType,
  messageTypeName,
  ProtocolViolationError,
  type TransportInfo,
  type WampMessage,
} from "../../wamp/mod.ts";
import { Acceptor, type AcceptorHost, type AcceptorRealm } from "./acceptor.ts";
import type { Effect, Output } from "./output.ts";
import type { ResolvedRealmOptions } from "./realm_options.ts";
import {
  continued,
  fromRealm,
  QUIET,
  type SessionEffect,
  type SessionOutput,
} from "./session_output.ts";
import type { SessionInfo } from "./types.ts";

/** A realm as a session sees it. */
export interface SessionRealm extends AcceptorRealm {
  /** The realm's options (whether request IDs must be sequential). */
  readonly options: Pick<ResolvedRealmOptions, "trustLevels" | "strictRequestIds">;
}

/** What a session needs from its router. */
export type SessionHost<R extends SessionRealm = SessionRealm> = AcceptorHost<R>;

/** Where an open session's requests go: its realm. */
export interface SessionRequests<R extends SessionRealm = SessionRealm> {
  /**
   * Hands a request of an open session to its realm (PUBLISH, SUBSCRIBE,
   * UNSUBSCRIBE, REGISTER, UNREGISTER, CALL, CANCEL, YIELD, ERROR for
   * INVOCATION), once its role and request ID were checked.
   *
   * @param realm The session's realm.
   * @param session The session.
   * @param msg The request.
   * @param fresh Whether its request ID is new (false: a CALL that may
   * continue a progressive call; the dealer judges it).
   * @returns What the realm returned.
   */
  request(realm: R, session: SessionInfo, msg: WampMessage, fresh: boolean): Output;
}

/** The states of a session (spec "Session Lifecycle"). */
export type SessionPhase = "idle" | "authenticating" | "open" | "shutting-down" | "closed";

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

/** The session on one transport connection (one after another, after GOODBYE). */
export class SessionState<R extends SessionRealm = SessionRealm> {
  #host: SessionHost<R>;
  #requests: SessionRequests<R>;
  #transport: TransportInfo;
  #sendLimit: number | undefined;
  #phase: SessionPhase = "idle";
  #acceptor: Acceptor<R> | undefined;
  #realm: R | undefined;
  #info: SessionInfo | undefined;
  #lastRequest = 0;

  /**
   * Creates the state of a new connection.
   *
   * @param host The router.
   * @param requests Where the open session's requests go.
   * @param transport The transport.
   * @param sendLimit The largest message the peer accepts, if it said.
   */
  constructor(
    host: SessionHost<R>,
    requests: SessionRequests<R>,
    transport: TransportInfo,
    sendLimit?: number,
  ) {
    this.#host = host;
    this.#requests = requests;
    this.#transport = transport;
    this.#sendLimit = sendLimit;
  }

  /** Where the session is in its lifecycle. */
  get phase(): SessionPhase {
    return this.#phase;
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

  /** Whether the session has joined a realm. */
  get joined(): boolean {
    return this.#phase === "open";
  }

  /**
   * A message arrived from the client.
   *
   * @param msg The message.
   * @returns What to do.
   */
  receive(msg: WampMessage): SessionOutput {
    if (this.#phase === "closed") return QUIET;
    try {
      return this.#receive(msg);
    } catch (error) {
      if (error instanceof ProtocolViolationError) return this.violation(error.message);
      this.#host.log("error", `Session ${this.id}: internal error: ${error}`);
      return this.violation("internal router error");
    }
  }

  /**
   * The client broke the protocol: ABORT `protocol_violation`, leave, close.
   *
   * @param message What it did.
   * @returns What to do.
   */
  violation(message: string): SessionOutput {
    if (this.#phase === "closed") return QUIET;
    this.#host.log("warn", `Session ${this.id}: protocol violation: ${message}`, {
      realm: this.#info?.realm,
      session: this.id,
      transport: this.#transport.type,
      peer: this.#transport.peer,
      reason: message,
      event: "protocol_violation", // limited per kind by the shell's log
    });
    const abort: WampMessage = {
      type: MessageType.ABORT,
      details: { message },
      reason: ErrorUri.PROTOCOL_VIOLATION,
    };
    return this.#close([abort], true);
  }

  /**
   * The connection's hello timeout ran out while authenticating: ABORT
   * `authentication_failed`, as when `authTimeout` runs out first.
   *
   * @param reason Why, for the log.
   * @returns What to do.
   */
  expire(reason: string): SessionOutput {
    const acceptor = this.#acceptor;
    if (this.#phase !== "authenticating" || acceptor === undefined) return QUIET;
    return this.#accepting(acceptor, acceptor.expire(reason));
  }

  /**
   * Starts a router-initiated close of an open session: GOODBYE with
   * `reason`, then the session leaves and waits for the client's GOODBYE
   * (the shell bounds the wait). A session that is not open closes at once.
   *
   * @param reason The close reason URI.
   * @param message An optional human-readable message.
   * @returns What to do.
   */
  shutdown(reason: string, message?: string): SessionOutput {
    if (this.#phase === "open") {
      const goodbye: WampMessage = {
        type: MessageType.GOODBYE,
        details: message === undefined ? {} : { message },
        reason,
      };
      const left = this.#leave();
      this.#phase = "shutting-down";
      return { reply: [goodbye], messages: [], effects: [], ...left };
    }
    if (this.#phase === "shutting-down") return QUIET;
    return this.close();
  }

  /**
   * Ends the session at once: it leaves its realm and the transport closes.
   *
   * @returns What to do.
   */
  close(): SessionOutput {
    return this.#phase === "closed" ? QUIET : this.#close([], true);
  }

  /**
   * The transport is gone: the session leaves its realm.
   *
   * @returns What to do.
   */
  closed(): SessionOutput {
    return this.#phase === "closed" ? QUIET : this.#close([], false);
  }

  #receive(msg: WampMessage): SessionOutput {
    switch (this.#phase) {
      case "idle":
        if (msg.type === MessageType.HELLO) {
          const acceptor = new Acceptor(this.#host, this.#transport, this.#sendLimit);
          this.#acceptor = acceptor;
          this.#phase = "authenticating";
          return this.#accepting(acceptor, acceptor.hello(msg));
        }
        if (msg.type === MessageType.ABORT) return this.close();
        throw new ProtocolViolationError(
          `${messageTypeName(msg.type)} received before the session was established`,
        );
      case "authenticating": {
        const acceptor = this.#acceptor!;
        if (msg.type === MessageType.AUTHENTICATE && acceptor.challenged) {
          return this.#accepting(acceptor, acceptor.authenticate(msg));
        }
        if (msg.type === MessageType.ABORT) return this.close();
        throw new ProtocolViolationError(
          `${messageTypeName(msg.type)} received while authenticating`,
        );
      }
      case "open":
        return this.#receiveOpen(msg);
      default:
        // shutting-down: only the GOODBYE reply matters now (spec: SHUTTING DOWN state).
        if (msg.type === MessageType.GOODBYE || msg.type === MessageType.ABORT) {
          return this.close();
        }
        return QUIET;
    }
  }

  #receiveOpen(msg: WampMessage): SessionOutput {
    const role = ROLE_OF[msg.type];
    const info = this.info;
    if (role !== undefined && !(role in info.roles)) {
      throw new ProtocolViolationError(
        `${messageTypeName(msg.type)} from a session that did not announce the ${role} role`,
      );
    }
    switch (msg.type) {
      case MessageType.PUBLISH:
      case MessageType.SUBSCRIBE:
      case MessageType.UNSUBSCRIBE:
      case MessageType.REGISTER:
      case MessageType.UNREGISTER:
        this.#nextRequest(msg.request);
        return this.#request(info, msg, true);
      case MessageType.CALL:
        // An old ID may continue a progressive call; the dealer decides.
        return this.#request(info, msg, this.#nextRequest(msg.request, true));
      case MessageType.CANCEL:
      case MessageType.YIELD:
        return this.#request(info, msg, true);
      case MessageType.ERROR:
        if (msg.requestType !== MessageType.INVOCATION) {
          throw new ProtocolViolationError(
            `ERROR for ${
              messageTypeName(msg.requestType)
            }: clients may only send ERROR for INVOCATION`,
          );
        }
        return this.#request(info, msg, true);
      case MessageType.GOODBYE: {
        const goodbye: WampMessage = {
          type: MessageType.GOODBYE,
          details: {},
          reason: CloseUri.GOODBYE_AND_OUT,
        };
        // The transport may carry a new session, within the hello timeout.
        return { reply: [goodbye], messages: [], effects: [], ...this.#leave() };
      }
      case MessageType.ABORT:
        return this.close();
      default:
        throw new ProtocolViolationError(
          `${messageTypeName(msg.type)} is not a message a router accepts here`,
        );
    }
  }

  /** Hands a request to the realm. */
  #request(info: SessionInfo, msg: WampMessage, fresh: boolean): SessionOutput {
    return fromRealm(this.#requests.request(this.#realm!, info, msg, fresh));
  }

  /** Turns the acceptor's output into the session's, following its result. */
  #accepting(acceptor: Acceptor<R>, out: Output): SessionOutput {
    const reply = out.messages.map((o) => o.msg);
    const effects = out.effects.map((effect) => this.#continued(acceptor, effect));
    const result = acceptor.result;
    if (result === undefined || this.#acceptor !== acceptor) {
      return { reply, messages: [], effects };
    }
    this.#acceptor = undefined;
    if ("aborted" in result) {
      this.#phase = "closed";
      return { reply, messages: [], effects, close: true };
    }
    const info = result.welcome;
    this.#info = info;
    this.#realm = result.realm;
    this.#lastRequest = 0;
    this.#phase = "open";
    return { reply, messages: [], effects, joined: info };
  }

  /** The acceptor's effect, continuing into the session. */
  #continued(acceptor: Acceptor<R>, effect: Effect): SessionEffect {
    return continued(effect, (out) => this.#accepting(acceptor, out));
  }

  /**
   * Enforces session-scope request IDs: each new one is the last plus 1.
   * With `mayRepeat` (CALL), an ID issued before is not an error here: it
   * returns false and the dealer judges it (one never issued is).
   *
   * @returns Whether `request` is a new ID.
   */
  #nextRequest(request: number, mayRepeat = false): boolean {
    const expected = this.#lastRequest >= MAX_ID ? 1 : this.#lastRequest + 1;
    if (request !== expected && this.#realm!.options.strictRequestIds) {
      if (mayRepeat && request < expected) return false;
      throw new ProtocolViolationError(
        `Request ID ${request} out of sequence: expected ${expected}`,
      );
    }
    this.#lastRequest = request;
    return true;
  }

  /** Leaves the realm, if joined. */
  #leave(): { left?: SessionInfo } {
    const realm = this.#realm;
    const info = this.#info;
    if (this.#phase === "open") this.#phase = "idle";
    if (realm === undefined || info === undefined) return {};
    this.#realm = undefined;
    return { left: info };
  }

  #close(reply: WampMessage[], close: boolean): SessionOutput {
    const left = this.#leave();
    const acceptor = this.#acceptor;
    this.#acceptor = undefined;
    this.#phase = "closed";
    const effects = acceptor === undefined
      ? []
      : acceptor.stop().effects.map((effect) => this.#continued(acceptor, effect));
    return { reply, messages: [], effects, close, ...left };
  }
}
