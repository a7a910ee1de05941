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
  /** Router-to-router links: the routers the message passed through. */
  forward_for?: Dict[];
  /** Router-to-router links: the transaction hash. */
  transaction_hash?: string;
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
  /** Router-to-router links: the routers the message passed through. */
  forward_for?: Dict[];
  /** Router-to-router links: the transaction hash. */
  transaction_hash?: string;
  /** Payload passthru scheme (`mqtt`, `wamp`, `x_…`); non-empty switches PPT on. */
  ppt_scheme?: string;
  /** Payload passthru serializer. */
  ppt_serializer?: string;
  /** Payload passthru cipher. */
  ppt_cipher?: string;
  /** Payload passthru key ID. */
  ppt_keyid?: string;
  /** Autobahn's transparent payload: the algorithm of the opaque `payload`. */
  enc_algo?: "null" | "cryptobox" | "mqtt" | "xbr";
  /** Autobahn's transparent payload: the serializer inside the opaque `payload`. */
  enc_serializer?: "null" | "json" | "msgpack" | "cbor" | "ubjson" | "opaque" | "flatbuffers";
  /** Autobahn's transparent payload: the key ID. */
  enc_key?: string;
  /**
   * Other keys are passed through untouched; Cloverleaf's broker reads
   * `exclude_<key>` / `eligible_<key>` lists of strings as filters on the
   * subscriber's HELLO.Details (nexus's extension).
   */
  [key: string]: unknown;
}

/** EVENT.Details. */
export interface EventDetails {
  /** The publisher's session ID, when disclosed. */
  publisher?: number;
  /** The publisher's authid, when disclosed. */
  publisher_authid?: string;
  /** The publisher's authrole, when disclosed. */
  publisher_authrole?: string;
  /** The concrete topic, for a pattern-based subscription. */
  topic?: string;
  /** The event is the topic's retained event. */
  retained?: boolean;
  /** The trust level the router assigned to the publisher. */
  trustlevel?: number;
  /** Autobahn's acknowledged delivery: answer with EVENT_RECEIVED. */
  x_acknowledged_delivery?: boolean;
  /** Router-to-router links: the routers the message passed through. */
  forward_for?: Dict[];
  /** Router-to-router links: the transaction hash. */
  transaction_hash?: string;
  /** Payload passthru scheme. */
  ppt_scheme?: string;
  /** Payload passthru serializer. */
  ppt_serializer?: string;
  /** Payload passthru cipher. */
  ppt_cipher?: string;
  /** Payload passthru key ID. */
  ppt_keyid?: string;
  /** Autobahn's transparent payload: the algorithm of the opaque `payload`. */
  enc_algo?: "null" | "cryptobox" | "mqtt" | "xbr";
  /** Autobahn's transparent payload: the serializer inside the opaque `payload`. */
  enc_serializer?: "null" | "json" | "msgpack" | "cbor" | "ubjson" | "opaque" | "flatbuffers";
  /** Autobahn's transparent payload: the key ID. */
  enc_key?: string;
  /** Other keys are passed through untouched. */
  [key: string]: unknown;
}

/**
 * The payload passthru keys (spec "Payload Passthru Mode") that CALL, YIELD
 * and PUBLISH carry and INVOCATION, RESULT, EVENT and ERROR repeat.
 */
export interface PassthruOptions {
  /** Payload passthru scheme (`mqtt`, `wamp`, `x_…`); non-empty switches PPT on. */
  ppt_scheme?: string;
  /** Payload passthru serializer. */
  ppt_serializer?: string;
  /** Payload passthru cipher. */
  ppt_cipher?: string;
  /** Payload passthru key ID. */
  ppt_keyid?: string;
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
  /** Router-to-router links: the routers the message passed through. */
  forward_for?: Dict[];
  /** Router-to-router links: the transaction hash. */
  transaction_hash?: string;
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
  /** Router-to-router links: the routers the message passed through. */
  forward_for?: Dict[];
  /** Router-to-router links: the transaction hash. */
  transaction_hash?: string;
  /** Payload passthru scheme (`mqtt`, `wamp`, `x_…`); non-empty switches PPT on. */
  ppt_scheme?: string;
  /** Payload passthru serializer. */
  ppt_serializer?: string;
  /** Payload passthru cipher. */
  ppt_cipher?: string;
  /** Payload passthru key ID. */
  ppt_keyid?: string;
  /** Autobahn's transparent payload: the algorithm of the opaque `payload`. */
  enc_algo?: "null" | "cryptobox" | "mqtt" | "xbr";
  /** Autobahn's transparent payload: the serializer inside the opaque `payload`. */
  enc_serializer?: "null" | "json" | "msgpack" | "cbor" | "ubjson" | "opaque" | "flatbuffers";
  /** Autobahn's transparent payload: the key ID. */
  enc_key?: string;
  /** Other keys are passed through untouched. */
  [key: string]: unknown;
}

/** CANCEL.Options. */
export interface CancelOptions {
  /** How the dealer stops the call. @default {"killnowait"} */
  mode?: CancelMode;
  /** Router-to-router links: the routers the message passed through. */
  forward_for?: Dict[];
  /** Router-to-router links: the transaction hash. */
  transaction_hash?: string;
  /** Other keys are passed through untouched. */
  [key: string]: unknown;
}

/** INTERRUPT.Options. */
export interface InterruptOptions {
  /** How the callee should stop. @default {"killnowait"} */
  mode?: CancelMode;
  /** The error URI a `kill` answers with. @default {"wamp.error.canceled"} */
  reason?: string;
  /** Router-to-router links: the routers the message passed through. */
  forward_for?: Dict[];
  /** Router-to-router links: the transaction hash. */
  transaction_hash?: string;
  /** Other keys are passed through untouched. */
  [key: string]: unknown;
}

/** INVOCATION.Details. */
export interface InvocationDetails {
  /** The caller's session ID, when disclosed. */
  caller?: number;
  /** The caller's authid, when disclosed. */
  caller_authid?: string;
  /** The caller's authrole, when disclosed. */
  caller_authrole?: string;
  /** The concrete procedure, for a pattern-based registration. */
  procedure?: string;
  /** The caller accepts progressive results. */
  receive_progress?: boolean;
  /** More input follows under the same request ID (progressive call invocations). */
  progress?: boolean;
  /** The CALL's timeout, when the registration forwards it. */
  timeout?: number;
  /** The trust level the router assigned to the caller. */
  trustlevel?: number;
  /** Router-to-router links: the routers the message passed through. */
  forward_for?: Dict[];
  /** Router-to-router links: the transaction hash. */
  transaction_hash?: string;
  /** Payload passthru scheme. */
  ppt_scheme?: string;
  /** Payload passthru serializer. */
  ppt_serializer?: string;
  /** Payload passthru cipher. */
  ppt_cipher?: string;
  /** Payload passthru key ID. */
  ppt_keyid?: string;
  /** Autobahn's transparent payload: the algorithm of the opaque `payload`. */
  enc_algo?: "null" | "cryptobox" | "mqtt" | "xbr";
  /** Autobahn's transparent payload: the serializer inside the opaque `payload`. */
  enc_serializer?: "null" | "json" | "msgpack" | "cbor" | "ubjson" | "opaque" | "flatbuffers";
  /** Autobahn's transparent payload: the key ID. */
  enc_key?: string;
  /** Other keys are passed through untouched. */
  [key: string]: unknown;
}

/** YIELD.Options. */
export interface YieldOptions {
  /** A progressive result; more follow. */
  progress?: boolean;
  /** Router-to-router links: the routers the message passed through. */
  forward_for?: Dict[];
  /** Router-to-router links: the transaction hash. */
  transaction_hash?: string;
  /** Payload passthru scheme. */
  ppt_scheme?: string;
  /** Payload passthru serializer. */
  ppt_serializer?: string;
  /** Payload passthru cipher. */
  ppt_cipher?: string;
  /** Payload passthru key ID. */
  ppt_keyid?: string;
  /** Autobahn's transparent payload: the algorithm of the opaque `payload`. */
  enc_algo?: "null" | "cryptobox" | "mqtt" | "xbr";
  /** Autobahn's transparent payload: the serializer inside the opaque `payload`. */
  enc_serializer?: "null" | "json" | "msgpack" | "cbor" | "ubjson" | "opaque" | "flatbuffers";
  /** Autobahn's transparent payload: the key ID. */
  enc_key?: string;
  /** Other keys are passed through untouched. */
  [key: string]: unknown;
}

/** RESULT.Details. */
export interface ResultDetails {
  /** A progressive result; more follow. */
  progress?: boolean;
  /** Router-to-router links: the routers the message passed through. */
  forward_for?: Dict[];
  /** Router-to-router links: the transaction hash. */
  transaction_hash?: string;
  /** Payload passthru scheme. */
  ppt_scheme?: string;
  /** Payload passthru serializer. */
  ppt_serializer?: string;
  /** Payload passthru cipher. */
  ppt_cipher?: string;
  /** Payload passthru key ID. */
  ppt_keyid?: string;
  /** Autobahn's transparent payload: the algorithm of the opaque `payload`. */
  enc_algo?: "null" | "cryptobox" | "mqtt" | "xbr";
  /** Autobahn's transparent payload: the serializer inside the opaque `payload`. */
  enc_serializer?: "null" | "json" | "msgpack" | "cbor" | "ubjson" | "opaque" | "flatbuffers";
  /** Autobahn's transparent payload: the key ID. */
  enc_key?: string;
  /** Other keys are passed through untouched. */
  [key: string]: unknown;
}

/** ERROR.Details. */
export interface ErrorDetails {
  /** Router-to-router links: the routers the message passed through. */
  forward_for?: Dict[];
  /** Router-to-router links: the transaction hash. */
  transaction_hash?: string;
  /** Payload passthru scheme. */
  ppt_scheme?: string;
  /** Payload passthru serializer. */
  ppt_serializer?: string;
  /** Payload passthru cipher. */
  ppt_cipher?: string;
  /** Payload passthru key ID. */
  ppt_keyid?: string;
  /** Autobahn's transparent payload: the algorithm of the opaque `payload`. */
  enc_algo?: "null" | "cryptobox" | "mqtt" | "xbr";
  /** Autobahn's transparent payload: the serializer inside the opaque `payload`. */
  enc_serializer?: "null" | "json" | "msgpack" | "cbor" | "ubjson" | "opaque" | "flatbuffers";
  /** Autobahn's transparent payload: the key ID. */
  enc_key?: string;
  /** Other keys (`message`, …) are passed through untouched. */
  [key: string]: unknown;
}

/** HELLO.Details. */
export interface HelloDetails {
  /** The roles the client plays, each with its `features`. */
  roles?: Dict;
  /** The client's name and version. */
  agent?: string;
  /** The authentication methods the client offers, in its order of preference. */
  authmethods?: string[];
  /** The authentication ID the client claims. */
  authid?: string;
  /** The authentication role the client asks for. */
  authrole?: string;
  /** Method-specific authentication data. */
  authextra?: Dict;
  /** Other keys are passed through untouched. */
  [key: string]: unknown;
}

/** WELCOME.Details. */
export interface WelcomeDetails {
  /** The roles the router plays, each with its `features`. */
  roles?: Dict;
  /** The router's name and version. */
  agent?: string;
  /** The session's authentication ID. */
  authid?: string;
  /** The session's authentication role. */
  authrole?: string;
  /** The authentication method used. */
  authmethod?: string;
  /** Who authenticated the session. */
  authprovider?: string;
  /** Method-specific authentication data. */
  authextra?: Dict;
  /** Other keys are passed through untouched. */
  [key: string]: unknown;
}

/** A check that a known key's value has the type its dictionary declares. */
type Guard<T> = (value: unknown) => value is T;

/**
 * One check per declared key of a dictionary type, each proving the key's
 * declared type: a key added to a type without a check (or checked more
 * loosely than typed) does not compile.
 */
type KeyChecks<T> = {
  [K in keyof T as string extends K ? never : number extends K ? never : K]-?: Guard<
    Exclude<T[K], undefined>
  >;
};

function isBool(v: unknown): v is boolean {
  return typeof v === "boolean";
}
function isString(v: unknown): v is string {
  return typeof v === "string";
}
function isInt(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 0;
}
function isDict(v: unknown): v is Dict {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
function idList(v: unknown): v is number[] {
  return Array.isArray(v) && v.every(isId);
}
function stringList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every(isString);
}
function dictList(v: unknown): v is Dict[] {
  return Array.isArray(v) && v.every(isDict);
}
function oneOf<T extends string>(...values: T[]): Guard<T> {
  const allowed: readonly string[] = values;
  return (v): v is T => typeof v === "string" && allowed.includes(v);
}

/**
 * Whether a value is a match policy: `exact`, `prefix` or `wildcard`.
 *
 * @param value Any value, e.g. a `match` key from a dict the parser did not check.
 * @returns True for one of the three policies.
 *
 * @example
 * ```ts
 * import { isMatchPolicy } from "@cloverleaf/wamp";
 * import { equal } from "node:assert/strict";
 *
 * equal(isMatchPolicy("prefix"), true);
 * equal(isMatchPolicy("glob"), false);
 * ```
 */
export function isMatchPolicy(value: unknown): value is MatchPolicy {
  return value === "exact" || value === "prefix" || value === "wildcard";
}

const MATCH = isMatchPolicy;
const INVOKE = oneOf<InvocationPolicy>("single", "roundrobin", "random", "first", "last");
const CANCEL_MODE = oneOf<CancelMode>("skip", "kill", "killnowait");

// Autobahn's transparent-payload keys, as the conformance vectors use them.
const PPT = {
  ppt_scheme: isString,
  ppt_serializer: isString,
  ppt_cipher: isString,
  ppt_keyid: isString,
  enc_algo: oneOf("null", "cryptobox", "mqtt", "xbr"),
  enc_serializer: oneOf("null", "json", "msgpack", "cbor", "ubjson", "opaque", "flatbuffers"),
  enc_key: isString,
};
const ROUTED = {
  forward_for: dictList,
  transaction_hash: isString,
};

const HELLO: KeyChecks<HelloDetails> = {
  roles: isDict,
  agent: isString,
  authmethods: stringList,
  authid: isString,
  authrole: isString,
  authextra: isDict,
};
const WELCOME: KeyChecks<WelcomeDetails> = {
  roles: isDict,
  agent: isString,
  authid: isString,
  authrole: isString,
  authmethod: isString,
  authprovider: isString,
  authextra: isDict,
};
const PUBLISH: KeyChecks<PublishOptions> = {
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
};
const EVENT: KeyChecks<EventDetails> = {
  publisher: isId,
  publisher_authid: isString,
  publisher_authrole: isString,
  topic: isString,
  retained: isBool,
  trustlevel: isInt,
  x_acknowledged_delivery: isBool,
  ...ROUTED,
  ...PPT,
};
const SUBSCRIBE: KeyChecks<SubscribeOptions> = {
  match: MATCH,
  get_retained: isBool,
  nkey: isString,
  ...ROUTED,
};
const REGISTER: KeyChecks<RegisterOptions> = {
  match: MATCH,
  invoke: INVOKE,
  disclose_caller: isBool,
  forward_timeout: isBool,
  ...ROUTED,
};
const CALL: KeyChecks<CallOptions> = {
  timeout: isInt,
  receive_progress: isBool,
  disclose_me: isBool,
  progress: isBool,
  rkey: isString,
  runmode: isString,
  ...ROUTED,
  ...PPT,
};
const RESULT: KeyChecks<ResultDetails> = { progress: isBool, ...ROUTED, ...PPT };
const INVOCATION: KeyChecks<InvocationDetails> = {
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
};
const YIELD: KeyChecks<YieldOptions> = { progress: isBool, ...ROUTED, ...PPT };
const CANCEL: KeyChecks<CancelOptions> = { mode: CANCEL_MODE, ...ROUTED };
const INTERRUPT: KeyChecks<InterruptOptions> = { mode: CANCEL_MODE, reason: isString, ...ROUTED };
const ERROR: KeyChecks<ErrorDetails> = { ...ROUTED, ...PPT };

/** Type checks of the known keys, per message type and dict position. */
const CHECKS: ReadonlyMap<number, Readonly<Record<string, Guard<unknown>>>> = new Map<
  number,
  Readonly<Record<string, Guard<unknown>>>
>([
  [MessageType.HELLO, HELLO],
  [MessageType.WELCOME, WELCOME],
  [MessageType.PUBLISH, PUBLISH],
  [MessageType.EVENT, EVENT],
  [MessageType.SUBSCRIBE, SUBSCRIBE],
  [MessageType.REGISTER, REGISTER],
  [MessageType.CALL, CALL],
  [MessageType.RESULT, RESULT],
  [MessageType.INVOCATION, INVOCATION],
  [MessageType.YIELD, YIELD],
  [MessageType.CANCEL, CANCEL],
  [MessageType.INTERRUPT, INTERRUPT],
  [MessageType.ERROR, ERROR],
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
 * import { invalidOptionKey } from "@cloverleaf/wamp";
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
