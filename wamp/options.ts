/**
 * Typed Options/Details dictionaries and the type checks for the keys the
 * spec (and the conformance vectors) define. Keys keep the spec's
 * snake_case; unknown keys are ignored, known keys with a wrong type are a
 * protocol violation.
 *
 * @module
 */

import { isId } from "./ids.ts";
import { MessageType } from "./message_type.ts";
import type { MatchPolicy } from "./uri.ts";

/** A WAMP dictionary: string keys, any values. */
export type Dict = Record<string, unknown>;

/** SUBSCRIBE.Options. */
export interface SubscribeOptions {
  /** Pattern-based subscription policy. @default {"exact"} */
  match?: MatchPolicy;
  /** Ask for the retained event of the topic. */
  get_retained?: boolean;
  /** Sharded subscription node key (accepted, no routing effect). */
  nkey?: string;
  /** Other keys are passed through untouched. */
  [key: string]: unknown;
}

/** PUBLISH.Options. */
export interface PublishOptions {
  /** Ask the broker for PUBLISHED (or ERROR). @default {false} */
  acknowledge?: boolean;
  /** Exclude the publisher from receiving its own event. @default {true} */
  exclude_me?: boolean;
  /** Session IDs that must not receive the event. */
  exclude?: number[];
  /** authids that must not receive the event. */
  exclude_authid?: string[];
  /** authroles that must not receive the event. */
  exclude_authrole?: string[];
  /** Only these session IDs may receive the event. */
  eligible?: number[];
  /** Only these authids may receive the event. */
  eligible_authid?: string[];
  /** Only these authroles may receive the event. */
  eligible_authrole?: string[];
  /** Ask the broker to disclose the publisher's identity. */
  disclose_me?: boolean;
  /** Ask the broker to retain this event for the topic. */
  retain?: boolean;
  /** Sharded subscription resource key (accepted, no routing effect). */
  rkey?: string;
  /** Payload passthru scheme (`mqtt`, `wamp`, `x_…`); non-empty switches PPT on. */
  ppt_scheme?: string;
  /** Payload passthru serializer. */
  ppt_serializer?: string;
  /** Payload passthru cipher. */
  ppt_cipher?: string;
  /** Payload passthru key ID. */
  ppt_keyid?: string;
  /**
   * Other keys are passed through untouched; Cloverleaf's broker reads
   * `exclude_<key>` / `eligible_<key>` lists of strings as filters on the
   * subscriber's HELLO.Details (nexus's extension).
   */
  [key: string]: unknown;
}

/** Shared registration: which callee of a registration gets a call. */
export type InvocationPolicy = "single" | "roundrobin" | "random" | "first" | "last";

/** CANCEL/INTERRUPT mode. */
export type CancelMode = "skip" | "kill" | "killnowait";

/** REGISTER.Options. */
export interface RegisterOptions {
  /** Pattern-based registration policy. @default {"exact"} */
  match?: MatchPolicy;
  /** Shared registration policy. @default {"single"} */
  invoke?: InvocationPolicy;
  /** Disclose every caller of this registration to it. */
  disclose_caller?: boolean;
  /** Pass the CALL's `timeout` on in INVOCATION details. */
  forward_timeout?: boolean;
  /** Other keys are passed through untouched. */
  [key: string]: unknown;
}

/** CALL.Options. */
export interface CallOptions {
  /** Dealer-enforced timeout in milliseconds (0 = none). */
  timeout?: number;
  /** Ask for progressive results. */
  receive_progress?: boolean;
  /** Ask the dealer to disclose the caller's identity. */
  disclose_me?: boolean;
  /** More input follows under the same request ID (progressive call invocations). */
  progress?: boolean;
  /** Sharded registration: `partition` routes by `rkey`. */
  runmode?: string;
  /** Sharded registration: the resource key. */
  rkey?: string;
  /** Other keys are passed through untouched. */
  [key: string]: unknown;
}

type Check = (value: unknown) => boolean;

const isBool: Check = (v) => typeof v === "boolean";
const isString: Check = (v) => typeof v === "string";
const isInt: Check = (v) => typeof v === "number" && Number.isInteger(v) && v >= 0;
const isDict: Check = (v) => typeof v === "object" && v !== null && !Array.isArray(v);
const idList: Check = (v) => Array.isArray(v) && v.every(isId);
const stringList: Check = (v) => Array.isArray(v) && v.every(isString);
const dictList: Check = (v) => Array.isArray(v) && v.every(isDict);
function oneOf(...values: string[]): Check {
  return (v) => typeof v === "string" && values.includes(v);
}

const MATCH = oneOf("exact", "prefix", "wildcard");
const INVOKE = oneOf("single", "roundrobin", "random", "first", "last");
const CANCEL_MODE = oneOf("skip", "kill", "killnowait");
// Autobahn's transparent-payload keys, as the conformance vectors use them.
const ENC_ALGO = oneOf("null", "cryptobox", "mqtt", "xbr");
const ENC_SERIALIZER = oneOf(
  "null",
  "json",
  "msgpack",
  "cbor",
  "ubjson",
  "opaque",
  "flatbuffers",
);

const PPT: Record<string, Check> = {
  ppt_scheme: isString,
  ppt_serializer: isString,
  ppt_cipher: isString,
  ppt_keyid: isString,
  enc_algo: ENC_ALGO,
  enc_serializer: ENC_SERIALIZER,
  enc_key: isString,
};
const ROUTED: Record<string, Check> = {
  forward_for: dictList,
  transaction_hash: isString,
};

/** Type checks of the known keys, per message type and dict position. */
const CHECKS: ReadonlyMap<number, Record<string, Check>> = new Map([
  [MessageType.HELLO, {
    roles: isDict,
    agent: isString,
    authmethods: stringList,
    authid: isString,
    authrole: isString,
    authextra: isDict,
  }],
  [MessageType.WELCOME, {
    roles: isDict,
    agent: isString,
    authid: isString,
    authrole: isString,
    authmethod: isString,
    authprovider: isString,
    authextra: isDict,
  }],
  [MessageType.PUBLISH, {
    acknowledge: isBool,
    exclude_me: isBool,
    exclude: idList,
    exclude_authid: stringList,
    exclude_authrole: stringList,
    eligible: idList,
    eligible_authid: stringList,
    eligible_authrole: stringList,
    disclose_me: isBool,
    retain: isBool,
    rkey: isString,
    ...ROUTED,
    ...PPT,
  }],
  [MessageType.EVENT, {
    publisher: isId,
    publisher_authid: isString,
    publisher_authrole: isString,
    topic: isString,
    retained: isBool,
    trustlevel: isInt,
    x_acknowledged_delivery: isBool,
    ...ROUTED,
    ...PPT,
  }],
  [MessageType.SUBSCRIBE, {
    match: MATCH,
    get_retained: isBool,
    nkey: isString,
    ...ROUTED,
  }],
  [MessageType.REGISTER, {
    match: MATCH,
    invoke: INVOKE,
    disclose_caller: isBool,
    forward_timeout: isBool,
    ...ROUTED,
  }],
  [MessageType.CALL, {
    timeout: isInt,
    receive_progress: isBool,
    disclose_me: isBool,
    progress: isBool,
    rkey: isString,
    runmode: isString,
    ...ROUTED,
    ...PPT,
  }],
  [MessageType.RESULT, { progress: isBool, ...ROUTED, ...PPT }],
  [MessageType.INVOCATION, {
    caller: isId,
    caller_authid: isString,
    caller_authrole: isString,
    procedure: isString,
    receive_progress: isBool,
    progress: isBool,
    timeout: isInt,
    trustlevel: isInt,
    ...ROUTED,
    ...PPT,
  }],
  [MessageType.YIELD, { progress: isBool, ...ROUTED, ...PPT }],
  [MessageType.CANCEL, { mode: CANCEL_MODE, ...ROUTED }],
  [MessageType.INTERRUPT, { mode: CANCEL_MODE, reason: isString, ...ROUTED }],
  [MessageType.ERROR, { ...ROUTED, ...PPT }],
]);

/**
 * Finds the first known key of a message's Options/Details dict whose
 * value has the wrong type.
 *
 * @param type The message type code.
 * @param dict The Options or Details dictionary.
 * @returns The offending key, or `undefined` when every known key is fine.
 *
 * @example
 * ```ts
 * import { invalidOptionKey } from "@cloverleaf/wamp/wamp";
 * import { equal } from "node:assert/strict";
 *
 * equal(invalidOptionKey(16, { acknowledge: "yes" }), "acknowledge");
 * equal(invalidOptionKey(16, { acknowledge: true, x_custom: 1 }), undefined);
 * ```
 */
export function invalidOptionKey(type: number, dict: Dict): string | undefined {
  const checks = CHECKS.get(type);
  if (checks === undefined) return undefined;
  for (const key in dict) {
    const check = checks[key];
    if (check !== undefined && !check(dict[key])) return key;
  }
  return undefined;
}
