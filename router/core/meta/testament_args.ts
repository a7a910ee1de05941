/**
 * The arguments of `wamp.session.add_testament`, checked, as the testament
 * they make, with what it is estimated to cost.
 *
 * @module
 */

import {
  type Dict,
  ErrorUri,
  invalidOptionKey,
  isReservedUri,
  isValidUri,
  MessageType,
} from "../../../wamp/mod.ts";
import { CallError } from "../errors.ts";
import { keptPayloadSize } from "../limits.ts";
import { usesPassthru } from "../passthru.ts";
import { PublishFilter } from "../broker/publish_filter.ts";
import { isDict, optionalString, stringArg } from "./args.ts";

/** When a testament is published. */
export type TestamentScope = "detached" | "destroyed";

/** A testament as the router keeps it. */
export interface Testament {
  readonly topic: string;
  readonly args: unknown[];
  readonly kwargs: Dict;
  readonly options: Dict;
  /** The estimated size in bytes. */
  readonly size: number;
  /** Published with the publisher disclosed: its role's permission forces it. */
  readonly disclose?: boolean;
}

/**
 * What a testament costs besides its topic and payload, in bytes, counted
 * with them against `testamentBytesPerSession` and `testamentBytes`: its
 * record and its three dicts (measured: ~240 bytes of heap for an empty
 * one). Without it, an empty testament counted ~25 bytes and a realm held
 * ten times its `testamentBytes`.
 */
export const TESTAMENT_OVERHEAD = 128;

/**
 * The testament that `add_testament`'s arguments make.
 *
 * @param args `[topic, args?, kwargs?]`.
 * @param kwargs `publish_options` and `scope`.
 * @param strictUris Whether the topic must follow the strict URI rule.
 * @param budget Where the payload estimate may stop (the session's limit).
 * @returns The testament.
 * @throws {CallError} `invalid_uri` or `invalid_argument`, naming what is wrong.
 */
export function parseTestament(
  args: unknown[],
  kwargs: Dict,
  strictUris: boolean,
  budget: number,
): Testament {
  const topic = stringArg(args, 0, "topic");
  if (!isValidUri(topic, { strict: strictUris }) || isReservedUri(topic)) {
    throw new CallError(
      ErrorUri.INVALID_URI,
      `"${topic}" is not a topic a session may publish to`,
    );
  }
  const payload = args[1] ?? [];
  const keywords = args[2] ?? {};
  const options = kwargs.publish_options ?? {};
  if (!Array.isArray(payload)) throw invalid("args[1] (args) must be a list");
  if (!isDict(keywords)) throw invalid("args[2] (kwargs) must be a dict");
  if (!isDict(options)) throw invalid("kwargs.publish_options must be a dict");
  const bad = invalidOptionKey(MessageType.PUBLISH, options);
  if (bad !== undefined) throw invalid(`publish_options.${bad} has the wrong type`);
  const filter = PublishFilter.from(options);
  if (typeof filter === "string") throw invalid(`publish_options: ${filter}`);
  if (usesPassthru(options)) throw invalid("payload passthru is not available for testaments");
  const size = TESTAMENT_OVERHEAD + topic.length +
    keptPayloadSize([payload, keywords, options], budget);
  return { topic, args: payload, kwargs: keywords, options, size };
}

/**
 * The scope `add_testament` or `flush_testaments` names.
 *
 * @param kwargs Their keyword arguments.
 * @returns `destroyed` unless `detached` is named.
 */
export function scopeOf(kwargs: Dict): TestamentScope {
  const scope = optionalString(kwargs, "scope") ?? "destroyed";
  if (scope !== "detached" && scope !== "destroyed") {
    throw invalid(`kwargs.scope must be "detached" or "destroyed", not "${scope}"`);
  }
  return scope;
}

function invalid(message: string): CallError {
  return new CallError(ErrorUri.INVALID_ARGUMENT, message);
}
