/**
 * The procedures a realm serves itself (meta API, reflection, event
 * history): what they look like to the realm, and how one answers after
 * an authorization it has to wait for.
 *
 * @module
 */

import { type Dict, ErrorUri, type Payload } from "../../wamp/mod.ts";
import { CallError } from "./errors.ts";
import type { Decision } from "./permissions.ts";
import type { Output } from "./output.ts";
import type { SessionInfo } from "./types.ts";

/**
 * An answer that comes later: the realm calls `start(reply)` at once and
 * returns what it returns; the procedure calls `reply(compute)` when it
 * can answer (at once, or from a continuation), and `compute` returns the
 * result's payload or throws {@linkcode CallError} for an ERROR.
 */
export interface DeferredPayload {
  /** Marks a deferred answer. */
  readonly kind: "deferred";
  /** Starts the work that leads to the answer. */
  start(reply: (compute: () => Payload) => Output): Output;
}

/**
 * A procedure the router serves itself. Return the result's payload, or a
 * {@linkcode DeferredPayload}; throw {@linkcode CallError} to answer with
 * ERROR.
 */
export type RouterProcedure = (
  caller: SessionInfo,
  args: unknown[],
  kwargs: Dict,
) => Payload | DeferredPayload;

/**
 * A deferred answer.
 *
 * @param start Starts the work; calls `reply` with the answer.
 * @returns The answer to return from a {@linkcode RouterProcedure}.
 */
export function deferred(
  start: (reply: (compute: () => Payload) => Output) => Output,
): DeferredPayload {
  return { kind: "deferred", start };
}

/** Whether a procedure's answer is deferred. */
export function isDeferred(out: Payload | DeferredPayload): out is DeferredPayload {
  return (out as DeferredPayload).kind === "deferred";
}

/**
 * Asks the realm's authorizer whether a session may act on a URI, and
 * continues with the decision (at once for static rules).
 */
export type PermissionCheck = (
  session: SessionInfo,
  action: "call" | "register" | "publish" | "subscribe",
  uri: string,
  options: Dict,
  then: (decision: Decision) => Output,
) => Output;

/** A set of router procedures, keyed by URI. */
export type RouterProcedures = Record<string, RouterProcedure>;

/**
 * The most characters a router procedure's list of URIs may hold
 * (`wamp.reflection.topic.list`, `wamp.reflection.procedure.list`): a
 * realm may hold 100,000 URIs of up to 4,096 characters each, and one
 * small CALL should not build a reply of hundreds of MiB.
 */
export const MAX_LIST_CHARS = 16 * 1024 * 1024;

/**
 * The distinct URIs, sorted, or an ERROR `cloverleaf.error.limit_exceeded`
 * once they pass {@linkcode MAX_LIST_CHARS} (before anything is sorted).
 *
 * @param uris The URIs, possibly repeated.
 * @param what What they are, for the error.
 * @returns The sorted list.
 * @throws {CallError} When they pass the limit.
 *
 * @example
 * ```ts
 * import { sortedUris } from "./procedures.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(sortedUris(["b", "a", "b"], "topics"), ["a", "b"]);
 * ```
 */
export function sortedUris(uris: Iterable<string>, what: string): string[] {
  const distinct = new Set<string>();
  let chars = 0;
  for (const uri of uris) {
    if (distinct.has(uri)) continue;
    distinct.add(uri);
    chars += uri.length;
    if (chars > MAX_LIST_CHARS) {
      throw new CallError(
        ErrorUri.LIMIT_EXCEEDED,
        `the ${what} take more than ${MAX_LIST_CHARS} characters`,
      );
    }
  }
  return [...distinct].sort();
}
