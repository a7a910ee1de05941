/**
 * What the session state machine returns: the core's {@linkcode Output}
 * plus what only a connection acts on (its own replies, joining and
 * leaving the realm, closing the transport), with effects whose
 * continuations come back to the session.
 *
 * @module
 */

import type { WampMessage } from "../../wamp/mod.ts";
import type {
  AbortSession,
  ArmTimer,
  CancelTimer,
  CloseSession,
  ClusterInterest,
  ClusterPublish,
  ClusterSend,
  ClusterSession,
  ClusterTestaments,
  Effect,
  Output,
  ResumeHeld,
  RunTask,
  Settled,
} from "./output.ts";
import type { SessionInfo } from "./types.ts";

/** A timer whose firing continues the session. */
export interface SessionTimer extends ArmTimer {
  /** What happens when it fires. */
  fire(): SessionOutput;
}

/** A task whose outcome continues the session. */
export interface SessionTask extends RunTask<unknown> {
  /** Continues with the outcome. */
  resume(result: Settled<unknown>): SessionOutput;
}

/**
 * An effect of a session: its continuations return {@linkcode SessionOutput};
 * closing or aborting another session goes to the router as it is.
 */
export type SessionEffect =
  | SessionTimer
  | CancelTimer
  | SessionTask
  | CloseSession
  | AbortSession
  | ResumeHeld
  | ClusterSend
  | ClusterPublish
  | ClusterInterest
  | ClusterSession
  | ClusterTestaments;

/**
 * What the shell does after a session's step, in this order: send
 * `reply` on the session's own transport, join the realm, deliver
 * `messages`, leave the realm, run `effects`, close the transport.
 */
export interface SessionOutput extends Output {
  /** Messages for this connection only (CHALLENGE, WELCOME, ABORT, GOODBYE). */
  readonly reply?: readonly WampMessage[];
  /** Effects whose continuations come back to this session. */
  readonly effects: readonly SessionEffect[];
  /** The session was welcomed into its realm: add it there. */
  readonly joined?: SessionInfo;
  /** The session left its realm: remove it there. */
  readonly left?: SessionInfo;
  /** Close the transport. */
  readonly close?: boolean;
}

/** The output with nothing in it (shared: do not modify). */
export const QUIET: SessionOutput = Object.freeze({ messages: [], effects: [] });

/**
 * Whether an output has no effects (then it is a session output as it is).
 *
 * @param out The output.
 * @returns Whether `out.effects` is empty.
 */
export function effectless(out: Output): out is Output & { readonly effects: readonly never[] } {
  return out.effects.length === 0;
}

/**
 * What a realm returned, as a session's output (its effects' continuations
 * too): the same object when there are no effects, so a request costs no
 * copy.
 *
 * @param out The realm's output.
 * @returns The session's output.
 */
export function fromRealm(out: Output): SessionOutput {
  if (effectless(out)) return out;
  return { messages: out.messages, effects: out.effects.map((e) => continued(e, fromRealm)) };
}

/**
 * An effect whose continuation goes through `then`.
 *
 * @param effect The effect.
 * @param then Turns the continuation's output into the session's.
 * @returns The session's effect.
 */
export function continued(effect: Effect, then: (out: Output) => SessionOutput): SessionEffect {
  switch (effect.kind) {
    case "cancel":
    case "close":
    case "abort":
    case "resume":
    case "cluster":
    case "cluster-publish":
    case "cluster-interest":
    case "cluster-session":
    case "cluster-testaments":
      return effect;
    case "arm":
      return { ...effect, fire: () => then(effect.fire()) };
    case "task":
      return {
        kind: "task",
        run: () => effect.run(),
        resume: (settled: Settled<unknown>) => then(effect.resume(settled)),
        ...(effect.limit === undefined ? {} : { limit: effect.limit }),
      };
  }
}
