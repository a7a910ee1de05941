/**
 * Resource limits of a realm (realm option `limits`): how much state one
 * session, and the realm as a whole, may make the router hold. Each
 * refusal is an ERROR `cloverleaf.error.limit_exceeded` whose first
 * argument names the limit.
 *
 * Sizes are estimates, cheap by design: {@linkcode keptPayloadSize} walks a
 * payload once, stops as soon as it passes its budget, and counts string
 * lengths, byte lengths, 8 per number and a little per container.
 *
 * @module
 */

import type { Dict } from "../../wamp/mod.ts";
import { unpinnedBytes } from "../../wamp/bytes.ts";

/**
 * Per-session and per-realm resource limits; every key is a positive
 * integer. Sessions of the router itself (meta API, dynamic
 * authenticators) are not limited per session.
 */
export interface LimitOptions {
  /**
   * Calls one session may have in flight (CALL sent, final answer not yet
   * back). A CALL beyond it is refused at once; the callee never sees it.
   * Further chunks of a progressive call are not new calls.
   * @default {1000}
   */
  callsPerSession?: number;
  /**
   * Subscriptions one session may hold.
   * @default {1000}
   */
  subscriptionsPerSession?: number;
  /**
   * Subscriptions the realm holds in all (each distinct topic or pattern
   * and match policy counts once, however many sessions share it).
   * @default {100000}
   */
  subscriptions?: number;
  /**
   * Pattern subscriptions (`prefix` and `wildcard`) the realm holds in all,
   * within `subscriptions`. One PUBLISH reaches at most one exact
   * subscription but may match every pattern one, so this bounds the
   * fan-out work of a single PUBLISH (10,000 matches: about 20 ms of
   * broker work, encoding aside).
   * @default {10000}
   */
  patternSubscriptions?: number;
  /**
   * The components of the realm's wildcard patterns in all, those of a
   * common beginning counted once, for subscriptions and for registrations
   * each: the memory the patterns take. A new wildcard pattern past it is
   * refused. (Matching one URI visits at most about two trie nodes per
   * pattern whose beginning it matches: about 2 ms at most at the default
   * limits, `bench/match_index_bench.ts`.)
   * @default {100000}
   */
  wildcardComponents?: number;
  /**
   * Registrations one session may hold.
   * @default {1000}
   */
  registrationsPerSession?: number;
  /**
   * Registrations the realm holds in all.
   * @default {100000}
   */
  registrations?: number;
  /**
   * Pattern registrations (`prefix` and `wildcard`) the realm holds in all,
   * within `registrations`: what finding the callee of one CALL may have
   * to look through.
   * @default {10000}
   */
  patternRegistrations?: number;
  /**
   * The estimated size of one retained event, in bytes (topic, args,
   * kwargs, payload). A PUBLISH with `retain` over it is refused.
   * @default {65536}
   */
  retainedEventBytes?: number;
  /**
   * The estimated size of every retained event of the realm together, in
   * bytes. A PUBLISH with `retain` that would take the total over it is
   * refused (replacing a topic's retained event frees the old one's bytes).
   * @default {16777216}
   */
  retainedBytes?: number;
  /**
   * The estimated size of one session's testaments together, in bytes
   * (each counts 128 bytes besides its topic and payload).
   * @default {131072}
   */
  testamentBytesPerSession?: number;
  /**
   * The estimated size of every testament of the realm together, in bytes.
   * @default {16777216}
   */
  testamentBytes?: number;
  /**
   * The estimated size of the events one history-keeping subscription
   * (realm `eventHistory`) keeps, in bytes, each counting 256 bytes
   * besides its topic, payload, details and lists: past it the oldest
   * events go first, and an event over it on its own is not kept (it is
   * still delivered). Bounds what publishers can make the history hold,
   * whatever the rule's `limit` in events (at most 4,096 events by
   * default).
   * @default {1048576}
   */
  historyBytes?: number;
  /**
   * The estimated size of the procedure descriptions one session defined
   * (`wamp.reflect.define`, each at most 64 KiB) that are still kept, in
   * bytes, also those of registrations it left to other callees. A
   * definition past it is refused; replacing a description, or its
   * registration going, frees the old one's bytes.
   * @default {1048576}
   */
  descriptionBytesPerSession?: number;
  /**
   * The estimated size of every procedure description of the realm
   * together, in bytes; a description counts until its registration goes
   * or it is replaced, also once the session that defined it left.
   * @default {16777216}
   */
  descriptionBytes?: number;
}

/** Every limit with its value: {@linkcode LimitOptions} with the defaults filled in. */
export interface ResolvedLimits {
  /** Calls one session may have in flight. */
  readonly callsPerSession: number;
  /** Subscriptions one session may hold. */
  readonly subscriptionsPerSession: number;
  /** Subscriptions the realm holds in all. */
  readonly subscriptions: number;
  /** Pattern subscriptions the realm holds in all. */
  readonly patternSubscriptions: number;
  /** The components of the realm's wildcard patterns in all (subscriptions, registrations each). */
  readonly wildcardComponents: number;
  /** Registrations one session may hold. */
  readonly registrationsPerSession: number;
  /** Registrations the realm holds in all. */
  readonly registrations: number;
  /** Pattern registrations the realm holds in all. */
  readonly patternRegistrations: number;
  /** The estimated size of one retained event, in bytes. */
  readonly retainedEventBytes: number;
  /** The estimated size of every retained event of the realm together, in bytes. */
  readonly retainedBytes: number;
  /** The estimated size of one session's testaments together, in bytes. */
  readonly testamentBytesPerSession: number;
  /** The estimated size of every testament of the realm together, in bytes. */
  readonly testamentBytes: number;
  /** The estimated size of the events one history-keeping subscription keeps, in bytes. */
  readonly historyBytes: number;
  /** The estimated size of the procedure descriptions one session defined, in bytes. */
  readonly descriptionBytesPerSession: number;
  /** The estimated size of every procedure description of the realm together, in bytes. */
  readonly descriptionBytes: number;
}

/**
 * The default limits: enough for any ordinary application, small enough
 * that one session cannot grow the router by more than a few MiB.
 *
 * @example
 * ```ts
 * import { DEFAULT_LIMITS } from "./limits.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(DEFAULT_LIMITS.callsPerSession, 1000);
 * ```
 */
export const DEFAULT_LIMITS: ResolvedLimits = Object.freeze({
  callsPerSession: 1000,
  subscriptionsPerSession: 1000,
  subscriptions: 100_000,
  patternSubscriptions: 10_000,
  wildcardComponents: 100_000,
  registrationsPerSession: 1000,
  registrations: 100_000,
  patternRegistrations: 10_000,
  retainedEventBytes: 64 * 1024,
  retainedBytes: 16 * 1024 * 1024,
  testamentBytesPerSession: 128 * 1024,
  testamentBytes: 16 * 1024 * 1024,
  historyBytes: 1024 * 1024,
  descriptionBytesPerSession: 1024 * 1024,
  descriptionBytes: 16 * 1024 * 1024,
});

/**
 * Fills in the default of every limit not given.
 *
 * @param limits Some limits, or none.
 * @returns Every limit.
 *
 * @example
 * ```ts
 * import { resolveLimits } from "./limits.ts";
 * import { equal } from "node:assert/strict";
 *
 * const limits = resolveLimits({ callsPerSession: 10 });
 * equal(limits.callsPerSession, 10);
 * equal(limits.subscriptionsPerSession, 1000);
 * ```
 */
export function resolveLimits(limits: LimitOptions = {}): ResolvedLimits {
  return { ...DEFAULT_LIMITS, ...limits };
}

/**
 * The argument of a `cloverleaf.error.limit_exceeded` ERROR: what was
 * refused and which limit refused it.
 *
 * @param action What was refused (`subscribe to "a.b"`).
 * @param key The limit's key in the realm's `limits`.
 * @param limit Its value.
 * @returns `Cannot <action>: limit "<key>" (<limit>) exceeded`.
 *
 * @example
 * ```ts
 * import { limitMessage } from "./limits.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(
 *   limitMessage("call", "callsPerSession", 1000),
 *   'Cannot call: limit "callsPerSession" (1000) exceeded',
 * );
 * ```
 */
export function limitMessage(action: string, key: keyof LimitOptions, limit: number): string {
  return `Cannot ${action}: limit "${key}" (${limit}) exceeded`;
}

/**
 * The most a client may make the router send a dynamic authenticator or
 * authorizer on its behalf (HELLO's authid and authextra and a ticket; a
 * request's options), estimated as {@linkcode keptPayloadSize} does. Such a
 * procedure serves every session: one huge INVOCATION to it would hold up
 * every other login or request behind it. Over it, the router denies
 * without asking.
 */
export const ASKED_BYTES = 64 * 1024;

/** What a container costs besides its contents. */
const CONTAINER_COST = 8;
/** What a number, boolean or null costs. */
const SCALAR_COST = 8;

/** The entries of a publication or message that hold its payload, for {@linkcode keptPayloadSize}. */
export const PAYLOAD_KEYS: readonly string[] = ["args", "kwargs", "payload"];

/**
 * Estimates the size of a payload (args, kwargs, a passthru payload) in
 * bytes: string lengths, byte lengths, 8 per number, boolean or null, 8
 * per list or dict plus 1 per item and each key's length. The walk is
 * iterative (no recursion, whatever the nesting) and stops as soon as the
 * sum passes `budget`, so it costs O(min(size, budget)).
 *
 * It is for a payload about to be kept past the turn (a retained event,
 * event history, a testament, a held request, session details, a
 * procedure description), and in the same one walk every byte
 * string it meets that is a view into a buffer over twice its size (the
 * MessagePack and CBOR decoders return byte strings as views into the
 * frame) is replaced where it is by a copy of its own, so that what is
 * kept does not keep its frame alive. Only what is kept pays for it: a
 * message handled within its turn is never walked.
 *
 * @param holder The list or dict that holds the values to measure (not
 * counted itself); a byte string directly in it is replaced there too.
 * @param budget Stop counting past this many bytes (then the payload is
 * refused, and may be left partly walked).
 * @param keys Which of `holder`'s entries to measure: all when omitted.
 * @returns The estimate, or a number over `budget` when it is over.
 *
 * @example
 * ```ts
 * import { keptPayloadSize } from "./limits.ts";
 * import { equal } from "node:assert/strict";
 *
 * const frame = new Uint8Array(1024);
 * const pub = { topic: "t", args: [frame.subarray(0, 2)], payload: frame.subarray(2, 3) };
 * equal(keptPayloadSize(pub, 1000, ["args", "payload"]), 8 + 1 + 2 + 1);
 * equal(pub.args[0]!.buffer.byteLength, 2);
 * equal(pub.payload.buffer.byteLength, 1);
 * ```
 */
export function keptPayloadSize(
  holder: object,
  budget: number,
  keys?: readonly string[],
): number {
  const stack: unknown[] = [];
  const dict = holder as Dict;
  for (const key of keys ?? Object.keys(holder)) stack.push(unpinned(dict, key));
  let size = 0;
  while (stack.length > 0 && size <= budget) {
    const value = stack.pop();
    if (value === undefined) continue;
    if (typeof value === "string") size += value.length;
    else if (ArrayBuffer.isView(value)) size += value.byteLength;
    else if (Array.isArray(value)) {
      size += CONTAINER_COST + value.length;
      if (size > budget) break;
      for (let i = 0; i < value.length; i++) {
        const item = value[i];
        stack.push(item instanceof Uint8Array ? (value[i] = unpinnedBytes(item)) : item);
      }
    } else if (typeof value === "object" && value !== null) {
      size += CONTAINER_COST;
      for (const key in value as Dict) {
        size += key.length + 1;
        if (size > budget) break;
        stack.push(unpinned(value as Dict, key));
      }
    } else size += SCALAR_COST;
  }
  return size;
}

/** `dict[key]`, first replaced by bytes of its own when it is a byte string pinning a larger buffer. */
function unpinned(dict: Dict, key: string): unknown {
  const value = dict[key];
  return value instanceof Uint8Array ? (dict[key] = unpinnedBytes(value)) : value;
}
