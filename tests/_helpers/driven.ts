/**
 * Drives a core object whose methods return an `Output` (the dealer) the
 * way older tests used it: each such method returns the output's messages,
 * and its effects go to `run` (fake timers).
 */

import type { Payload } from "../../wamp/mod.ts";
import { NOTHING, type Output } from "../../router/core/output.ts";
import { type DeferredPayload, isDeferred } from "../../router/core/procedures.ts";
import type { Outbound } from "../../router/core/types.ts";

/** `T` with every method returning an `Output` returning its messages instead. */
export type Driven<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => Output ? (...args: A) => Outbound[] : T[K];
};

function isOutput(value: unknown): value is Output {
  return typeof value === "object" && value !== null && "messages" in value &&
    "effects" in value;
}

/** Takes an output's messages; effects are ignored. */
export function messagesOf(out: Output): Outbound[] {
  return [...out.messages];
}

/**
 * Wraps a core object.
 *
 * @param target The object.
 * @param run Handles an output (runs its effects), returning its messages.
 * @returns The wrapped object.
 */
export function driven<T extends object>(
  target: T,
  run: (out: Output) => Outbound[] = messagesOf,
): Driven<T> {
  return new Proxy(target, {
    get(t, key) {
      const value = Reflect.get(t, key, t);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const result = value.apply(t, args);
        return isOutput(result) ? run(result) : result;
      };
    },
  }) as unknown as Driven<T>;
}

/** Fake timers fed by the ArmTimer/CancelTimer effects of outputs: `tick()` fires what is due. */
export class FakeTimers {
  /** The fake clock, in milliseconds. */
  now = 0;
  /** What fired timers returned, messages only. */
  readonly fired: Outbound[] = [];
  /** The delays armed, in order. */
  readonly armed: number[] = [];
  #timers = new Map<unknown, { at: number; fire: () => Output }>();

  /** Runs an output's effects; returns its messages. */
  run = (out: Output): Outbound[] => {
    for (const effect of out.effects) {
      if (effect.kind === "arm") {
        this.armed.push(effect.ms);
        this.#timers.set(effect.key, { at: this.now + effect.ms, fire: () => effect.fire() });
      } else if (effect.kind === "cancel") {
        this.#timers.delete(effect.key);
      }
    }
    return [...out.messages];
  };

  /** How many timers are armed. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Advances the clock and fires what is due. */
  tick(ms: number): void {
    this.now += ms;
    for (const [key, timer] of [...this.#timers]) {
      if (timer.at <= this.now) {
        this.#timers.delete(key);
        this.fired.push(...this.run(timer.fire()));
      }
    }
  }
}

/**
 * A router procedure's answer, settled at once (static rules): a deferred
 * one is started and its reply computed (a `CallError` it throws is thrown).
 */
export function settled(out: Payload | DeferredPayload): Payload {
  if (!isDeferred(out)) return out;
  let payload: Payload | undefined;
  out.start((compute) => {
    payload = compute();
    return NOTHING;
  });
  if (payload === undefined) throw new Error("the answer did not come at once");
  return payload;
}
