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
 * (`wamp.reflection.topic.list`, `wamp.reflection.procedure.list`), 1 Mi:
 * one small CALL should not build a reply of many MiB, and what a list
 * costs is mostly its encoding (4,000 URIs of 4,000 characters, 16 MB of
 * JSON, took 36-46 ms a call when the limit was 16 Mi). A realm whose URIs
 * take more can be listed through the meta API (`wamp.registration.list`,
 * `wamp.subscription.list` and their `get`).
 */
export const MAX_LIST_CHARS = 1024 * 1024;

/**
 * The URIs of sorted lists together, sorted, each once, for a reflection
 * list; or an ERROR `cloverleaf.error.limit_exceeded` once they pass
 * {@linkcode MAX_LIST_CHARS}, or a list is `undefined` (over it alone:
 * `SortedUris.sorted`). The cost is that of the lists, not of sorting them.
 *
 * @param lists Lists in code-unit order, each without repeats.
 * @param what What they are, for the error.
 * @returns A new array.
 * @throws {CallError} When they pass the limit.
 *
 * @example
 * ```ts
 * import { mergedUris } from "./procedures.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(mergedUris([["a", "c"], ["b", "c"]], "topics"), ["a", "b", "c"]);
 * ```
 */
export function mergedUris(
  lists: readonly (readonly string[] | undefined)[],
  what: string,
): string[] {
  let out: string[] = [];
  for (const list of lists) {
    if (list === undefined) throw tooLong(what);
    out = merged(out, list);
  }
  let chars = 0;
  for (const uri of out) chars += uri.length;
  if (chars > MAX_LIST_CHARS) throw tooLong(what);
  return out;
}

function tooLong(what: string): CallError {
  return new CallError(
    ErrorUri.LIMIT_EXCEEDED,
    `the ${what} take more than ${MAX_LIST_CHARS} characters`,
  );
}

function merged(a: readonly string[], b: readonly string[]): string[] {
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x <= y) i++;
    if (y <= x) j++;
    out.push(x <= y ? x : y);
  }
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}
