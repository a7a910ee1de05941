/**
 * Typed Options/Details dictionaries: the keys the spec (and the
 * conformance vectors) define, in the spec's snake_case, each with its
 * type. Unknown keys pass through untouched (the index signature).
 * {@linkcode parseMessage} checks every declared key against its type, so a
 * parsed message's dictionary holds what its type says.
 *
 * @module
 */

import type { MatchPolicy } from "./uri.ts";

/** A WAMP dictionary: string keys, any values. */
export type Dict = Record<string, unknown>;

/**
 * The keys router-to-router links add to any routed message (Options or
 * Details): WAMP's `forward_for` and `transaction_hash`.
 */
export interface RoutedOptions {
  /** The routers the message passed through. */
  forward_for?: Dict[];
  /** The transaction hash. */
  transaction_hash?: string;
}

/**
 * The keys describing a payload the router passes through untouched, which
 * CALL, YIELD and PUBLISH carry and INVOCATION, RESULT, EVENT and ERROR
 * repeat: the spec's Payload Passthru Mode (`ppt_*`) and Autobahn's
 * transparent payload (`enc_*`).
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
  /** Autobahn's transparent payload: the algorithm of the opaque `payload`. */
  enc_algo?: "null" | "cryptobox" | "mqtt" | "xbr";
  /** Autobahn's transparent payload: the serializer inside the opaque `payload`. */
  enc_serializer?: "null" | "json" | "msgpack" | "cbor" | "ubjson" | "opaque" | "flatbuffers";
  /** Autobahn's transparent payload: the key ID. */
  enc_key?: string;
}

/** SUBSCRIBE.Options. */
export interface SubscribeOptions extends RoutedOptions {
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
export interface PublishOptions extends RoutedOptions, PassthruOptions {
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
  /**
   * Other keys are passed through untouched; Cloverleaf's broker reads
   * `exclude_<key>` / `eligible_<key>` lists of strings as filters on the
   * subscriber's HELLO.Details (nexus's extension).
   */
  [key: string]: unknown;
}

/** EVENT.Details. */
export interface EventDetails extends RoutedOptions, PassthruOptions {
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
  /** Other keys are passed through untouched. */
  [key: string]: unknown;
}

/** Shared registration: which callee of a registration gets a call. */
export type InvocationPolicy = "single" | "roundrobin" | "random" | "first" | "last";

/** CANCEL/INTERRUPT mode. */
export type CancelMode = "skip" | "kill" | "killnowait";

/** REGISTER.Options. */
export interface RegisterOptions extends RoutedOptions {
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
export interface CallOptions extends RoutedOptions, PassthruOptions {
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

/** CANCEL.Options. */
export interface CancelOptions extends RoutedOptions {
  /** How the dealer stops the call. @default {"killnowait"} */
  mode?: CancelMode;
  /** Other keys are passed through untouched. */
  [key: string]: unknown;
}

/** INTERRUPT.Options. */
export interface InterruptOptions extends RoutedOptions {
  /** How the callee should stop. @default {"killnowait"} */
  mode?: CancelMode;
  /** The error URI a `kill` answers with. @default {"wamp.error.canceled"} */
  reason?: string;
  /** Other keys are passed through untouched. */
  [key: string]: unknown;
}

/** INVOCATION.Details. */
export interface InvocationDetails extends RoutedOptions, PassthruOptions {
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
  /** Other keys are passed through untouched. */
  [key: string]: unknown;
}

/** YIELD.Options. */
export interface YieldOptions extends RoutedOptions, PassthruOptions {
  /** A progressive result; more follow. */
  progress?: boolean;
  /** Other keys are passed through untouched. */
  [key: string]: unknown;
}

/** RESULT.Details. */
export interface ResultDetails extends RoutedOptions, PassthruOptions {
  /** A progressive result; more follow. */
  progress?: boolean;
  /** Other keys are passed through untouched. */
  [key: string]: unknown;
}

/** ERROR.Details. */
export interface ErrorDetails extends RoutedOptions, PassthruOptions {
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

/**
 * Whether a value is a match policy: `exact`, `prefix` or `wildcard`.
 *
 * @param value Any value, e.g. a `match` key from a dict the parser did not check.
 * @returns True for one of the three policies.
 *
 * @example
 * ```ts
 * import { isMatchPolicy } from "@cloverleaf/wamp/wamp";
 * import { equal } from "node:assert/strict";
 *
 * equal(isMatchPolicy("prefix"), true);
 * equal(isMatchPolicy("glob"), false);
 * ```
 */
export function isMatchPolicy(value: unknown): value is MatchPolicy {
  return value === "exact" || value === "prefix" || value === "wildcard";
}

/**
 * Whether a value is a CANCEL/INTERRUPT mode: `skip`, `kill` or
 * `killnowait`.
 *
 * @param value Any value.
 * @returns True for one of the three modes.
 *
 * @example
 * ```ts
 * import { isCancelMode } from "@cloverleaf/wamp/wamp";
 * import { equal } from "node:assert/strict";
 *
 * equal(isCancelMode("kill"), true);
 * equal(isCancelMode("x"), false);
 * ```
 */
export function isCancelMode(value: unknown): value is CancelMode {
  return value === "skip" || value === "kill" || value === "killnowait";
}
