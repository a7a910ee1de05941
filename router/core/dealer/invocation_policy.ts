/**
 * Shared and sharded registrations: which of a registration's callees gets
 * the next INVOCATION (spec "Shared Registration", "Sharded Registration").
 *
 * @module
 */

import { type Dict, ErrorUri, type InvocationPolicy } from "../../../wamp/mod.ts";

/** The state a policy needs: callees in registration order and a cursor. */
export interface CalleeList {
  /** Callee session IDs, oldest first. */
  readonly callees: readonly number[];
  /** The round-robin cursor: the index the next `roundrobin` call gets. */
  next: number;
}

/**
 * Picks the callee for one call.
 *
 * - `single`, `first`: the oldest callee (`single` has only one);
 * - `last`: the newest;
 * - `roundrobin`: each in turn, in registration order, wrapping around;
 * - `random`: uniformly at random.
 *
 * @param list The registration's callees and cursor (the cursor advances).
 * @param policy The registration's invocation policy.
 * @param random A source of numbers in [0, 1).
 * @returns The chosen callee's session ID, or undefined when there is none.
 *
 * @example
 * ```ts
 * import { pickCallee } from "./invocation_policy.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const list = { callees: [1, 2, 3], next: 0 };
 * const picks = [0, 1, 2, 3].map(() => pickCallee(list, "roundrobin", Math.random));
 * deepEqual(picks, [1, 2, 3, 1]);
 * ```
 */
export function pickCallee(
  list: CalleeList,
  policy: InvocationPolicy,
  random: () => number,
): number | undefined {
  const { callees } = list;
  if (callees.length === 0) return undefined;
  switch (policy) {
    case "last":
      return callees[callees.length - 1];
    case "roundrobin": {
      const at = list.next % callees.length;
      list.next = at + 1;
      return callees[at];
    }
    case "random":
      return callees[Math.floor(random() * callees.length) % callees.length];
    default:
      return callees[0];
  }
}

/**
 * Sharded calls (`runmode: "partition"`): the callee for a resource key is
 * chosen by a stable hash of the key over the callee list, so one key
 * reaches the same callee for as long as the set of callees is unchanged.
 *
 * @param callees Callee session IDs in registration order.
 * @param rkey The call's resource key.
 * @returns The chosen callee, or undefined when there is none.
 *
 * @example
 * ```ts
 * import { shardCallee } from "./invocation_policy.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(shardCallee([7, 8, 9], "user-42"), shardCallee([7, 8, 9], "user-42"));
 * ```
 */
export function shardCallee(callees: readonly number[], rkey: string): number | undefined {
  if (callees.length === 0) return undefined;
  // FNV-1a, 32 bits: cheap, stable across runs and platforms.
  let hash = 0x811c9dc5;
  for (let i = 0; i < rkey.length; i++) {
    hash ^= rkey.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return callees[hash % callees.length];
}

/**
 * The callee a CALL goes to: by the registration's invocation policy, or
 * by `rkey` with `runmode: "partition"`.
 *
 * @param reg The registration.
 * @param options The CALL's options.
 * @param random Random numbers in [0, 1).
 * @returns The callee's session ID (undefined: none), or the refusal's
 * URI and message.
 */
export function chooseCallee(
  reg: CalleeList & { readonly invoke: InvocationPolicy },
  options: Dict,
  random: () => number,
): number | undefined | [string, string] {
  if (options.runmode === undefined) return pickCallee(reg, reg.invoke, random);
  if (options.runmode !== "partition") {
    return [ErrorUri.OPTION_NOT_ALLOWED, `runmode "${options.runmode}" is not supported`];
  }
  if (typeof options.rkey !== "string") {
    return [ErrorUri.INVALID_ARGUMENT, 'runmode "partition" needs an rkey'];
  }
  return shardCallee(reg.callees, options.rkey);
}

/**
 * The callee to send a call to instead of a busy one: the next one that is
 * not busy, in the policy's order from `chosen` (`last` backwards, the
 * others forwards), or `chosen` itself when all are busy or the
 * registration is not shared. A `chosen` no longer among the callees (it
 * left while its node sent the call back, `pass_over.ts`) is passed over
 * from where the policy starts: the newest for `last`, the cursor for
 * `roundrobin`, the oldest for the others.
 *
 * @param reg The registration.
 * @param chosen The callee the policy picked.
 * @param busy Whether a session is not reading what it is sent.
 * @returns The callee.
 */
export function freeCallee(
  reg: CalleeList & { readonly invoke: InvocationPolicy },
  chosen: number | undefined,
  busy: (session: number) => boolean,
): number | undefined {
  if (chosen === undefined || reg.invoke === "single" || !busy(chosen)) return chosen;
  const { callees } = reg;
  let at = callees.indexOf(chosen);
  const gone = at === -1 ? 1 : 0; // then every callee is looked at
  if (gone) {
    at = reg.invoke === "last" ? callees.length : reg.invoke === "roundrobin" ? reg.next - 1 : -1;
  }
  const step = reg.invoke === "last" ? callees.length - 1 : 1;
  for (let i = 1; i < callees.length + gone; i++) {
    const index = (at + i * step) % callees.length;
    if (busy(callees[index]!)) continue;
    // Round-robin goes on after the callee that took the call.
    if (reg.invoke === "roundrobin") reg.next = index + 1;
    return callees[index];
  }
  return chosen;
}
