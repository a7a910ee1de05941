/**
 * The values of the shared registration table (`registrations.ts`) and
 * their one reading: whatever a node finds in the bucket was written by
 * another process (another version, a hand, a damaged store), so each
 * value is decoded here and checked for the shape every reader relies on;
 * one that is not msgpack or not of that shape reads as undefined, and the
 * readers treat it as absent instead of reading `.node` off `null`.
 *
 * @module
 */

import { decode } from "@msgpack/msgpack";
import type { Dict, InvocationPolicy } from "../wamp/mod.ts";
import { isId } from "../wamp/mod.ts";
import type { CalleeEntry } from "../router/core/dealer/remote.ts";
import { isDict } from "../router/core/meta/args.ts";

/** A registration's head in the table. */
export interface Head {
  /** The invocation policy. */
  invoke: InvocationPolicy;
  /** The registration's epoch: only callees of it count. */
  epoch: string;
  /** A takeover (or removal, `invoke` absent) in flight, by which node (its age is judged by the watcher). */
  next?: { invoke?: InvocationPolicy; node: string };
  /** The realm and procedure, when the key hashes either (`keyToken`). */
  names?: [realm: string, procedure: string] | undefined;
}

/** A callee's key: its epoch and entry. */
export type Stored = [epoch: string, entry: CalleeEntry];

/**
 * A description's key (`<head>.d`): the epoch it describes, what
 * `wamp.reflect.define` set, and the node and session that defined it
 * (absent in what earlier versions wrote).
 */
export type Described =
  | [epoch: string, description: Dict]
  | [epoch: string, description: Dict, node: string, session: number];

const POLICIES = new Set<unknown>(["single", "roundrobin", "random", "first", "last"]);

/** The value decoded, or undefined when it is not msgpack. */
function decoded(value: Uint8Array): unknown {
  try {
    return decode(value);
  } catch {
    return undefined;
  }
}

/**
 * A head's value, when it is one: an invocation policy and a string epoch,
 * a takeover mark naming its node, names as two strings (other keys are
 * kept as they are).
 *
 * @param value The bytes stored.
 * @returns The head, or undefined when malformed.
 */
export function readHead(value: Uint8Array): Head | undefined {
  const head = decoded(value);
  if (!isDict(head) || !POLICIES.has(head.invoke) || typeof head.epoch !== "string") {
    return undefined;
  }
  const { next, names } = head;
  if (
    next !== undefined &&
    (!isDict(next) || typeof next.node !== "string" ||
      (next.invoke !== undefined && !POLICIES.has(next.invoke)))
  ) return undefined;
  if (
    names !== undefined &&
    !(Array.isArray(names) && names.length === 2 && names.every((n) => typeof n === "string"))
  ) return undefined;
  return head as unknown as Head;
}

/**
 * A callee key's value, when it is one: a string epoch and an entry with a
 * string node, a WAMP ID for its session, a number for `at`, and dicts for
 * its options and features.
 *
 * @param value The bytes stored.
 * @returns The epoch and entry, or undefined when malformed.
 */
export function readStored(value: Uint8Array): Stored | undefined {
  const stored = decoded(value);
  if (!Array.isArray(stored) || stored.length !== 2 || typeof stored[0] !== "string") {
    return undefined;
  }
  const entry: unknown = stored[1];
  if (
    !isDict(entry) || typeof entry.node !== "string" || !isId(entry.session) ||
    typeof entry.at !== "number" || !isDict(entry.options) || !isDict(entry.features)
  ) return undefined;
  return stored as Stored;
}

/**
 * A description key's value, when it is one: a string epoch and a dict,
 * then the node (a string) and session ID that defined it, if written.
 *
 * @param value The bytes stored.
 * @returns The epoch and description (and definer), or undefined when malformed.
 */
export function readDescribed(value: Uint8Array): Described | undefined {
  const described = decoded(value);
  if (
    !Array.isArray(described) || (described.length !== 2 && described.length !== 4) ||
    typeof described[0] !== "string" || !isDict(described[1]) ||
    (described.length === 4 && (typeof described[2] !== "string" || !isId(described[3])))
  ) return undefined;
  return described as Described;
}
