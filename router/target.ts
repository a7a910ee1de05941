/**
 * One connection's outbound end: every message to it goes through its
 * target, which applies the slow-consumer policy (drop EVENTs or close the
 * session) and what to do with a message too large for its peer; the
 * connection's own replies (CHALLENGE, WELCOME, ABORT, GOODBYE) too.
 *
 * @module
 */

import {
  DEFAULT_OUTBOUND,
  ErrorUri,
  MAX_URI_LENGTH,
  MessageTooLargeError,
  MessageType,
  messageTypeName,
  type OutboundOptions,
  type Peer,
  type SlowConsumerPolicy,
  type WampMessage,
} from "../wamp/mod.ts";
import type { LogFields, Logger, SessionInfo } from "./core/types.ts";

import { errorReply } from "./core/errors.ts";
import { type RouterMetrics, SessionMeter } from "./metrics.ts";
import { cutReply, oversize } from "./oversize.ts";

/** The log event of a message over what the peer accepts. */
const TOO_LARGE = "message_too_large";

/** Milliseconds between two slow-consumer warnings for one session. */
export const DROP_LOG_INTERVAL = 10_000;

/** What a target closes when its session must end. */
export interface TargetSession {
  /** Closes the connection at once (leaving the realm). */
  close(): void;
  /** Closes the session with GOODBYE. */
  shutdown(reason: string, message?: string): void;
  /** Aborts the session for a protocol violation found after the fact. */
  violate(message: string, error?: unknown): void;
  /**
   * Handles a message as if the peer had sent it: the router answering
   * for a peer that cannot take what it was sent (`oversize.ts`). Nothing
   * happens unless `session` is still the one joined.
   */
  handle(msg: WampMessage, session: number): void;
}

/**
 * One connection's outbound end: its peer and the slow-consumer policy.
 * As a realm member it carries the joined session's identity.
 */
export class Target {
  /** The transport. */
  readonly peer: Peer;
  /** EVENTs dropped for this connection because it did not keep up. */
  droppedEvents = 0;
  /** When the session joined (epoch milliseconds; 0 before WELCOME). */
  joinedAt = 0;
  /** What this connection adds to the router's metrics (none for a cluster proxy). */
  readonly meter: SessionMeter | undefined;
  #info: SessionInfo | undefined;
  #maxBacklog: number;
  #maxBacklogMessages: number;
  #policy: SlowConsumerPolicy;
  /**
   * What is left to write of a message larger than half of `maxBacklog`
   * (where EVENTs stop), handed over while the backlog was within the
   * limit: such a message takes a while to write out even to a peer that
   * reads at full speed, and is no sign of a slow consumer. The backlog
   * may exceed either line by that much, which shrinks as its bytes go
   * out: drops of the backlog count once the bytes queued ahead of it
   * (`#ahead`) have gone.
   */
  #allowance = 0;
  /** What was queued ahead of that message and has not gone out yet. */
  #ahead = 0;
  /** The backlog when last seen (after a send, or when checked). */
  #seen = 0;
  #dropping = false;
  /** Calls whose message was too large for this peer, by the side it is on: see `#endingCall`. */
  #ending: { results: Set<number>; invocations: Set<number> } | undefined;
  /** When a drop warning was last written, the count then, and whether this episode's was. */
  #droppedLoggedAt = -Infinity;
  #droppedLogged = 0;
  #logging = false;
  #log: Logger;
  #session: TargetSession;

  /**
   * Creates the target.
   *
   * @param peer The transport.
   * @param options Outbound limits.
   * @param log Where log lines go.
   * @param session The connection: closed when over the limit (under the
   * `close` policy, or for a message that cannot be dropped), shut down
   * with GOODBYE when the realm asks.
   * @param metrics The router's metrics, to count this connection in.
   */
  constructor(
    peer: Peer,
    options: OutboundOptions,
    log: Logger,
    session: TargetSession,
    metrics?: RouterMetrics,
  ) {
    this.peer = peer;
    this.meter = metrics === undefined ? undefined : new SessionMeter(metrics, this);
    this.#maxBacklog = options.maxBacklog ?? DEFAULT_OUTBOUND.maxBacklog;
    this.#maxBacklogMessages = options.maxBacklogMessages ?? DEFAULT_OUTBOUND.maxBacklogMessages;
    this.#policy = options.slowConsumer ?? DEFAULT_OUTBOUND.slowConsumer;
    this.#log = log;
    this.#session = session;
  }

  /** The joined session's identity (throws when none is joined). */
  get info(): SessionInfo {
    if (this.#info === undefined) throw new Error("Session has not joined a realm");
    return this.#info;
  }

  /** Sets the identity of the session now joined (on WELCOME). */
  set info(info: SessionInfo) {
    this.#info = info;
    this.#ending = undefined;
    this.joinedAt = Date.now();
  }

  /** Forgets the session that left (the connection may carry another). */
  left(): void {
    this.#info = undefined;
  }

  /** The session ID (0 before WELCOME). */
  get id(): number {
    return this.#info?.id ?? 0;
  }

  /**
   * Sends a message, applying the slow-consumer policy.
   *
   * @param msg The message.
   */
  send(msg: WampMessage): void {
    if (this.#ending !== undefined && this.#endingCall(msg)) return;
    const peer = this.peer;
    const backlog = peer.backlog();
    const over = this.overLimit(backlog);
    // EVENTs stop at half the limit: the other half is the session's own answers' (`busy`).
    const event = msg.type === MessageType.EVENT && this.#policy === "drop";
    const crowded = (event || this.#dropping) && this.#crowded(backlog); // read once per message
    if (event ? !over && !crowded : !over || this.#endsCall(msg)) {
      if (this.#dropping && !crowded) this.#caughtUp();
      try {
        peer.send(msg);
      } catch (error) {
        if (!(error instanceof MessageTooLargeError)) throw error;
        return this.#tooLarge(msg, error);
      }
      this.meter?.sent(msg);
      const after = peer.backlog();
      if (backlog <= this.#maxBacklog && after - backlog > this.#maxBacklog / 2) {
        this.#allowance = after - backlog;
        this.#ahead = backlog;
      }
      this.#seen = after;
      return;
    }
    if (event) {
      this.droppedEvents++;
      this.meter?.dropped();
      if (!this.#dropping) this.#startDropping(backlog);
      return;
    }
    this.#log(
      "warn",
      `Session ${this.id}: slow consumer, ${backlog} bytes / ${peer.queued()} messages queued: closing session`,
      this.#fields(backlog, "slow consumer: closed"),
    );
    this.#session.close();
  }

  /**
   * Whether a message belongs to a call a message too large for this peer
   * is ending, and is dropped. As its caller: its progressive RESULT was
   * too large (its CANCEL is on the way): more progressive RESULTs are
   * dropped, and a final RESULT that overtook the CANCEL becomes ERROR
   * `canceled` rather than an answer missing a part. As its callee: a
   * chunk of its INVOCATION was too large (its ERROR is on the way): the
   * chunks after it are dropped.
   */
  #endingCall(msg: WampMessage): boolean {
    const { results, invocations } = this.#ending!;
    if (msg.type === MessageType.INVOCATION) return invocations.has(msg.request);
    if (msg.type === MessageType.RESULT && results.has(msg.request)) {
      if (msg.details.progress === true) return true;
      results.delete(msg.request);
      this.send(errorReply(this.id, MessageType.CALL, msg.request, ErrorUri.CANCELED).msg);
      return true;
    }
    if (msg.type === MessageType.ERROR && msg.requestType === MessageType.CALL) {
      results.delete(msg.request);
    }
    return false;
  }

  /** A message over what the peer accepts: see `oversize.ts`. */
  #tooLarge(msg: WampMessage, error: MessageTooLargeError): void {
    const instead = oversize(msg, error);
    const fields = this.#fields(undefined, instead.why, TOO_LARGE);
    switch (instead.kind) {
      case "drop":
        this.droppedEvents++;
        this.meter?.dropped();
        return this.#log("warn", `Session ${this.id}: ${instead.why}: EVENT dropped`, fields);
      case "handle": {
        const answered = { ...fields, event: "message_too_large_answered" };
        this.#log("info", `Session ${this.id}: ${instead.why}: answered for it`, answered);
        const ending = this.#ending ??= { results: new Set(), invocations: new Set() };
        if (msg.type === MessageType.RESULT || msg.type === MessageType.INVOCATION) {
          (msg.type === MessageType.RESULT ? ending.results : ending.invocations).add(msg.request);
        }
        // Once this delivery is over (what the answer leads to is the realm's to route), and
        // only for this session, should the connection carry another by then.
        const session = this.id;
        return queueMicrotask(() => {
          this.#session.handle(instead.msg, session);
          // The call is over for the dealer: it drops any later chunk.
          if (msg.type === MessageType.INVOCATION) ending.invocations.delete(msg.request);
        });
      }
      case "send":
        try {
          this.peer.send(instead.msg);
          return this.meter?.sent(instead.msg);
        } catch {
          break; // not even that fits
        }
    }
    this.#log("warn", `Session ${this.id}: ${instead.why}: closing session`, fields);
    this.#session.close();
  }

  /**
   * Whether a message goes past the limit (under `drop`): an INTERRUPT, or
   * an ERROR for a CALL without payload and with a URI of at most
   * `MAX_URI_LENGTH` (a callee's may be longer). Each is small, one per
   * call in flight at most; dropped, it would leave a `kill` CANCEL waiting
   * forever, a callee waiting for a chunk, or a caller for its call's end
   * (the dealer ends a call whose progressive result finds its caller over
   * the limit).
   */
  #endsCall(msg: WampMessage): boolean {
    if (this.#policy !== "drop") return false;
    if (msg.type === MessageType.INTERRUPT) return true;
    return msg.type === MessageType.ERROR && msg.requestType === MessageType.CALL &&
      msg.error.length <= MAX_URI_LENGTH && Object.keys(msg.details).length === 0 &&
      msg.args === undefined && msg.kwargs === undefined && msg.payload === undefined;
  }

  /**
   * Whether the connection is not reading what it is sent: it holds more
   * than half its outbound limit (in bytes or messages), where its reading
   * stops, and where what others send it stops too (EVENTs are dropped,
   * new INVOCATIONs refused), so that the other half is left for the
   * answers it asked for. Before, another session's EVENTs or CALLs could
   * fill it all, and the next RESULT it was owed closed it as a slow
   * consumer. With `whole`: past all of it (a call in progress ends rather
   * than send it one more chunk).
   *
   * @param whole Past the whole limit rather than half of it.
   * @returns True when past it.
   */
  busy(whole = false): boolean {
    const backlog = this.peer.backlog();
    return this.overLimit(backlog) || (!whole && this.#crowded(backlog));
  }

  #crowded(backlog: number): boolean {
    return backlog > this.#maxBacklog / 2 + this.#allowance ||
      this.peer.queued() >= this.#maxBacklogMessages / 2;
  }

  /**
   * Whether the connection holds more than its outbound limit, in bytes or
   * messages: one more message that cannot be dropped would close it. In
   * bytes the limit is `maxBacklog`, plus what is left to write of one
   * message larger than half of it, handed over while within it.
   *
   * @param backlog Its backlog in bytes, if just read.
   * @returns True when over the limit.
   */
  overLimit(backlog: number = this.peer.backlog()): boolean {
    if (backlog <= this.#maxBacklog / 2) this.#allowance = 0;
    else if (backlog < this.#seen) {
      const gone = this.#seen - backlog;
      const ahead = Math.min(gone, this.#ahead);
      this.#ahead -= ahead;
      this.#allowance = Math.max(0, this.#allowance - (gone - ahead));
    }
    this.#seen = backlog;
    if (backlog > this.#maxBacklog + this.#allowance) return true;
    return this.peer.queued() >= this.#maxBacklogMessages;
  }

  /**
   * A drop episode starts: a warning, unless one was written for this
   * session within {@linkcode DROP_LOG_INTERVAL} (a consumer that keeps
   * falling behind and catching up gets one line per interval, with the
   * count of events dropped since the last one).
   */
  #startDropping(backlog: number): void {
    this.#dropping = true;
    const now = Date.now();
    if (now - this.#droppedLoggedAt < DROP_LOG_INTERVAL) return;
    this.#droppedLoggedAt = now;
    this.#logging = true;
    const dropped = this.droppedEvents - this.#droppedLogged;
    this.#droppedLogged = this.droppedEvents;
    const earlier = dropped > 1 ? ` (${dropped - 1} dropped since the last warning)` : "";
    this.#log(
      "warn",
      `Session ${this.id}: slow consumer, ${backlog} bytes / ${this.peer.queued()} messages queued: dropping events${earlier}`,
      { ...this.#fields(backlog, "slow consumer: dropping events"), dropped: this.droppedEvents },
    );
  }

  /** The episode ends: a line at `info` when its start was logged. */
  #caughtUp(): void {
    this.#dropping = false;
    if (!this.#logging) return;
    this.#logging = false;
    const fields = this.#fields(this.peer.backlog(), "slow consumer: caught up");
    const line = `Session ${this.id}: caught up, ${this.droppedEvents} events dropped so far`;
    this.#log("info", line, { ...fields, dropped: this.droppedEvents });
    this.#droppedLogged = this.droppedEvents;
  }

  #fields(backlog: number | undefined, reason: string, event = "slow_consumer"): LogFields {
    const info = this.#info;
    return {
      realm: info?.realm,
      session: this.id,
      authid: info?.authid,
      transport: this.peer.info.type,
      peer: this.peer.info.peer,
      reason,
      backlog,
      // Kinds a client can cause at will: limited per source address in Router.log.
      event,
    };
  }

  /**
   * Sends one of the session's own protocol replies (CHALLENGE, WELCOME,
   * ABORT, GOODBYE) past the slow-consumer policy: they open or end the
   * session, and dropping one would leave the client waiting.
   *
   * @param msg The message.
   * @returns False when it is over what the peer accepts (an ABORT or
   * GOODBYE even without its details): the connection must end at once.
   */
  reply(msg: WampMessage): boolean {
    try {
      this.peer.send(msg);
    } catch (error) {
      if (!(error instanceof MessageTooLargeError)) throw error;
      const peer = this.peer.info.peer ?? this.peer.info.type;
      const { line, retry } = cutReply(msg, error, this.#info?.id, peer);
      this.#log("warn", line, this.#fields(undefined, messageTypeName(msg.type), TOO_LARGE));
      return retry !== undefined && this.reply(retry);
    }
    this.meter?.sent(msg);
    return true;
  }

  /**
   * Closes the session with GOODBYE (`wamp.session.kill`, router close).
   *
   * @param reason The close reason URI.
   * @param message An optional human-readable message.
   */
  shutdown(reason: string, message?: string): void {
    this.#session.shutdown(reason, message);
  }

  /**
   * Aborts the session with `protocol_violation` (a request released after
   * an authorization turned out to be one).
   *
   * @param message The ABORT's message.
   * @param error What was thrown, when it was not a protocol violation.
   */
  violate(message: string, error?: unknown): void {
    this.#session.violate(message, error);
  }
}
