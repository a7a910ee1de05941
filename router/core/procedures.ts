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
 * (`wamp.reflection.topic.list`, `wamp.reflection.procedure.list`), 16 Mi,
 * what a WebSocket or RawSocket client takes by default. No one session
 * can fill it with retained topics alone: they count against the realm's
 * `retainedBytes` (16 MiB), 512 bytes each beside their characters. What a
 * list costs is mostly its encoding, bounded by what its caller can
 * receive ({@linkcode mergedUris}).
 */
export const MAX_LIST_CHARS = 16 * 1024 * 1024;

/** A list of distinct URIs kept in code-unit order (`SortedUris`, `SortedTopics`). */
export interface UriList {
  /** The characters of its URIs together. */
  readonly chars: number;
  /** How many URIs it holds. */
  readonly size: number;
  /**
   * Its URIs in order: an array never changed afterwards.
   *
   * @param max The most characters to list.
   * @returns The URIs, or undefined when they take more than `max`.
   */
  sorted(max: number): readonly string[] | undefined;
}

/**
 * The URIs of sorted lists together, sorted, each once, for a reflection
 * list; or an ERROR when the answer cannot be sent:
 * `cloverleaf.error.limit_exceeded` past {@linkcode MAX_LIST_CHARS},
 * `wamp.error.payload_size_exceeded` past what the caller's transport takes
 * (`SessionInfo.sendLimit`). Every serializer writes a URI in at least its
 * characters and one byte more, so a list refused for its caller is
 * refused from the lists' sizes, before anything is merged or encoded (a
 * RawSocket client announcing 512 bytes costs nothing), and one that may
 * fit is built; a caller whose transport takes more gets the whole list.
 *
 * @param lists Lists in code-unit order, each without repeats.
 * @param what What they are, for the error.
 * @param room The largest message the caller can receive, in bytes, if it
 * has a limit.
 * @returns A new array.
 * @throws {CallError} When the answer would pass a limit.
 *
 * @example
 * ```ts
 * import { mergedUris } from "./procedures.ts";
 * import { SortedUris } from "./sorted_uris.ts";
 * import { deepEqual, throws } from "node:assert/strict";
 *
 * const [a, b] = [new SortedUris(), new SortedUris()];
 * for (const uri of ["a", "c"]) a.add(uri);
 * for (const uri of ["b", "c"]) b.add(uri);
 * deepEqual(mergedUris([a, b], "topics"), ["a", "b", "c"]);
 * throws(() => mergedUris([a, b], "topics", 5), /at least 6 bytes/);
 * ```
 */
export function mergedUris(
  lists: readonly UriList[],
  what: string,
  room: number = Infinity,
): string[] {
  // The largest list alone is a lower bound of the answer: refuse from it before merging.
  for (const list of lists) check(list.chars, list.size, what, room);
  let out: string[] = [];
  for (const list of lists) {
    const sorted = list.sorted(MAX_LIST_CHARS);
    if (sorted === undefined) throw tooLong(what);
    out = merged(out, sorted);
  }
  let chars = 0;
  for (const uri of out) chars += uri.length;
  check(chars, out.length, what, room);
  return out;
}

function check(chars: number, size: number, what: string, room: number): void {
  if (chars > MAX_LIST_CHARS) throw tooLong(what);
  const least = chars + size;
  if (least > room) {
    throw new CallError(
      ErrorUri.PAYLOAD_SIZE_EXCEEDED,
      `the ${what} take at least ${least} bytes, over the ${room} this session's transport takes`,
    );
  }
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
