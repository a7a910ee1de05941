/**
 * What the pure core returns from every entry point: the messages to
 * deliver, addressed to sessions, and the effects the shell runs for it.
 * The core never arms a timer, reads the clock or awaits: it asks the
 * shell to, and the shell feeds the outcome back by calling the
 * continuation the effect carries.
 *
 * @module
 */

import type { MatchPolicy } from "../../wamp/mod.ts";
import type { SharedPublication } from "./broker/publication.ts";
import type { Dict } from "../../wamp/mod.ts";
import type { Outbound, SessionInfo } from "./types.ts";

/**
 * Arm a timer (re-arming one with the same `key` replaces it); when it
 * fires, the shell calls `fire()` and handles what it returns.
 */
export interface ArmTimer {
  /** The effect's kind. */
  readonly kind: "arm";
  /** Identifies the timer for {@linkcode CancelTimer} (compared by identity). */
  readonly key: unknown;
  /** Milliseconds until it fires. */
  readonly ms: number;
  /** What happens when it fires. */
  fire(): Output;
}

/** Cancel a timer armed by {@linkcode ArmTimer} (nothing if it already fired). */
export interface CancelTimer {
  /** The effect's kind. */
  readonly kind: "cancel";
  /** The timer's key. */
  readonly key: unknown;
}

/** How asynchronous work ended. */
export type Settled<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: unknown };

/**
 * Run work that may finish later (a dynamic authenticator or authorizer,
 * a router procedure, a call made by the router itself): the shell calls
 * `run()`, waits for its value if it is a promise, and feeds the outcome to
 * `resume`, whose output it handles like any other.
 */
export interface RunTask<T = unknown> {
  /** The effect's kind. */
  readonly kind: "task";
  /** Starts the work (user code: may return a promise). */
  run(): T | PromiseLike<T>;
  /** Continues with the outcome. */
  resume(result: Settled<T>): Output;
  /**
   * The most milliseconds the shell waits for the work's promise: past it,
   * it resumes the task with a `CallError` `wamp.error.timeout` and ignores
   * the outcome that comes later (a login step holding a `failedLogins`
   * place, which user code could hold forever). No limit when absent.
   */
  readonly limit?: number;
}

/**
 * End a session the core has already removed from its realm
 * (`wamp.session.kill`): the shell sends GOODBYE with `reason` and closes
 * the connection when the client answers (or when it does not, in time).
 * The shell must not make the session leave the realm again.
 */
export interface CloseSession {
  /** The effect's kind. */
  readonly kind: "close";
  /** The session to close. */
  readonly session: number;
  /** The GOODBYE reason URI. */
  readonly reason: string;
  /** The GOODBYE's human-readable message, if any. */
  readonly message?: string;
}

/**
 * Router calls (a procedure authorizer's or authenticator's) were
 * answered: the sessions whose GOODBYE or ABORT waits behind a decision
 * may go on (the shell asks each again).
 */
export interface ResumeHeld {
  /** The effect's kind. */
  readonly kind: "resume";
}

/** The {@linkcode ResumeHeld} effect (shared). */
export const RESUME_HELD: ResumeHeld = Object.freeze({ kind: "resume" });

/**
 * Abort a session for a protocol violation found in work that finished
 * later (a request released after an authorization): the shell sends
 * ABORT `wamp.error.protocol_violation` with `message` and closes the
 * connection; the session leaves its realm as on any ABORT.
 */
export interface AbortSession {
  /** The effect's kind. */
  readonly kind: "abort";
  /** The session to abort. */
  readonly session: number;
  /** The ABORT's message. */
  readonly message: string;
  /** What was thrown, when it was not a protocol violation (for the log). */
  readonly error?: unknown;
}

/**
 * Send something to the cluster (only in cluster mode): an RPC envelope to
 * another node (`node` is its ID), or, with `node` empty, a change to the
 * shared registration table. The envelope is plain data; the shell encodes
 * it once and publishes it on NATS.
 */
export interface ClusterSend {
  /** The effect's kind. */
  readonly kind: "cluster";
  /** The node it goes to; empty for the shared registration table. */
  readonly node: string;
  /** What to send (see `router/core/dealer/remote.ts`). */
  readonly envelope: unknown;
}

/**
 * Share a publication with the other nodes of the cluster (cluster mode
 * only; its local EVENTs are in the same output). The shell encodes it once
 * and publishes it on NATS; for an acknowledged PUBLISH it then calls
 * `acknowledged` (PUBLISHED, or ERROR when NATS did not accept it).
 */
export interface ClusterPublish {
  /** The effect's kind. */
  readonly kind: "cluster-publish";
  /** The realm's name. */
  readonly realm: string;
  /** The publication, as plain data. */
  readonly publication: SharedPublication;
  /** For an acknowledged PUBLISH: continues once NATS accepted it, or did not. */
  readonly acknowledged?: (result: Settled<void>) => Output;
  /** Whether the origin retained it (`retain: true`): the cluster keeps it as the topic's retained event. */
  readonly retain?: boolean;
}

/** A testament as the cluster stores it (`cluster-testaments`). */
export interface SharedTestament {
  /** `detached` or `destroyed`. */
  readonly scope: "detached" | "destroyed";
  /** The topic. */
  readonly topic: string;
  /** Positional arguments. */
  readonly args: unknown[];
  /** Keyword arguments. */
  readonly kwargs: Dict;
  /** PUBLISH options. */
  readonly options: Dict;
  /** Published with the publisher disclosed: its role's permission forces it. */
  readonly disclose?: boolean;
}

/**
 * A session's testaments changed (cluster mode only): the shell stores
 * them cluster-wide, keyed by node and session, so that another node
 * publishes them should this node die. An empty list forgets them (the
 * session left, or flushed them).
 */
export interface ClusterTestaments {
  /** The effect's kind. */
  readonly kind: "cluster-testaments";
  /** The session. */
  readonly session: SessionInfo;
  /** Its testaments now, detached ones first, each scope in the order added. */
  readonly testaments: readonly SharedTestament[];
  /** For `add_testament`: continues once the cluster stored them, or could not. */
  readonly stored?: (result: Settled<void>) => Output;
}

/**
 * A realm's subscriptions start (`on`) or stop needing publications that
 * match (`topic`, `match`) from the other nodes of the cluster (cluster
 * mode only). For `on`, the shell calls `ready` once the cluster delivers
 * them to this node (the waiting subscribers' SUBSCRIBED).
 */
export interface ClusterInterest {
  /** The effect's kind. */
  readonly kind: "cluster-interest";
  /** The realm's name. */
  readonly realm: string;
  /** The subscription's topic or pattern. */
  readonly topic: string;
  /** Its match policy. */
  readonly match: MatchPolicy;
  /** Whether the interest starts or ends. */
  readonly on: boolean;
  /** For `on`: continues once the interest is in place. */
  readonly ready?: () => Output;
}

/**
 * Tell other nodes about this node's sessions (cluster mode only): to every
 * node, or to the one named by `to`. The envelope is plain data (see
 * `router/core/meta/cluster_sessions.ts`); the shell encodes it once and
 * publishes it on NATS.
 */
export interface ClusterSession {
  /** The effect's kind. */
  readonly kind: "cluster-session";
  /** The node it goes to; undefined for every node. */
  readonly to?: string;
  /** What to send. */
  readonly envelope: unknown;
}

/** An effect the shell runs for the core. */
export type Effect =
  | ArmTimer
  | CancelTimer
  // deno-lint-ignore no-explicit-any
  | RunTask<any>
  | CloseSession
  | AbortSession
  | ResumeHeld
  | ClusterSend
  | ClusterPublish
  | ClusterInterest
  | ClusterSession
  | ClusterTestaments;

/** Messages to deliver, then effects to run, in order. */
export interface Output {
  /** Messages addressed to sessions. */
  readonly messages: readonly Outbound[];
  /** Effects for the shell. */
  readonly effects: readonly Effect[];
}

/** The output with nothing in it (shared: do not modify). */
export const NOTHING: Output = { messages: [], effects: [] };

/** No effects (shared: do not modify). */
export const NO_EFFECTS: readonly Effect[] = NOTHING.effects;

/**
 * An output being built: entry points append to it and return it.
 * Its arrays are the caller's from then on.
 */
export interface OutputBuilder extends Output {
  /** Messages addressed to sessions. */
  readonly messages: Outbound[];
  /** Effects for the shell. */
  readonly effects: Effect[];
}

/** A new, empty {@linkcode OutputBuilder}. */
export function output(): OutputBuilder {
  return { messages: [], effects: [] };
}

/**
 * Appends what `from` holds to `to`.
 *
 * @param to The output being built.
 * @param from An output returned by another entry point.
 * @returns `to`.
 */
export function append(to: OutputBuilder, from: Output): OutputBuilder {
  for (const m of from.messages) to.messages.push(m);
  for (const e of from.effects) to.effects.push(e);
  return to;
}

/**
 * The output of messages alone (the broker's and dealer's replies).
 *
 * @param messages The messages, owned by the output from now on.
 * @returns The output.
 */
export function messagesOnly(messages: readonly Outbound[]): Output {
  return messages.length === 0 ? NOTHING : { messages, effects: NO_EFFECTS };
}
