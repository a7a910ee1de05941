/**
 * Argument checks for the procedures the router serves: each throws
 * {@linkcode CallError} `wamp.error.invalid_argument` naming what was wrong.
 *
 * @module
 */

import { type Dict, ErrorUri, isId, type MatchPolicy } from "../../../wamp/mod.ts";
import { CallError } from "../errors.ts";
import { preview } from "../../../wamp/preview.ts";

function invalid(what: string, expected: string, value: unknown): CallError {
  const shown = preview(value);
  return new CallError(ErrorUri.INVALID_ARGUMENT, `${what} must be ${expected}, not ${shown}`);
}

/** Whether a value is a plain dict. */
export function isDict(value: unknown): value is Dict {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `args[i]` as a WAMP ID. */
export function idArg(args: unknown[], i: number, name: string): number {
  const value = args[i];
  if (!isId(value)) throw invalid(`args[${i}] (${name})`, "an ID", value);
  return value;
}

/** `args[i]` as a string. */
export function stringArg(args: unknown[], i: number, name: string): string {
  const value = args[i];
  if (typeof value !== "string") throw invalid(`args[${i}] (${name})`, "a string", value);
  return value;
}

/** `args[i]` as a dict, `{}` when absent or null. */
export function dictArg(args: unknown[], i: number, name: string): Dict {
  const value = args[i] ?? {};
  if (!isDict(value)) throw invalid(`args[${i}] (${name})`, "a dict", value);
  return value;
}

/** `args[i]` as a list of strings; `undefined` when absent, null or empty. */
export function stringListArg(args: unknown[], i: number, name: string): string[] | undefined {
  const value = args[i];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    throw invalid(`args[${i}] (${name})`, "a list of strings", value);
  }
  return value.length === 0 ? undefined : value;
}

/** `kwargs[key]` as a string, or `undefined` when absent. */
export function optionalString(kwargs: Dict, key: string): string | undefined {
  const value = kwargs[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw invalid(`kwargs.${key}`, "a string", value);
  return value;
}

/** A match policy from an options dict, `exact` when absent. */
export function matchOption(options: Dict): MatchPolicy {
  const match = options.match ?? "exact";
  if (match !== "exact" && match !== "prefix" && match !== "wildcard") {
    throw invalid("options.match", `"exact", "prefix" or "wildcard"`, match);
  }
  return match;
}
