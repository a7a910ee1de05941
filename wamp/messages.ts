/**
 * Typed WAMP messages: a discriminated union on `type`, with
 * {@linkcode parseMessage} (decoded array → message, strictly validated,
 * liberal about null where peers send it) and {@linkcode toWire} (message →
 * array, spec-exact, empty payload elements dropped).
 *
 * Each message carries its Options/Details as the typed dictionary of
 * `options.ts` (`PublishMessage.options` is a `PublishOptions`, …). The
 * parser checks every key those types declare against a guard typed by the
 * same interface (`KeyChecks`), so a parsed message holds what its type
 * says and the router and client read known keys without casts.
 *
 * @module
 */

import { ProtocolViolationError } from "./errors.ts";
import { isId } from "./ids.ts";
import { MessageType, messageTypeName } from "./message_type.ts";
import {
  type CallOptions,
  type CancelOptions,
  type Dict,
  type ErrorDetails,
  type EventDetails,
  type HelloDetails,
  type InterruptOptions,
  type InvocationDetails,
  type InvocationPolicy,
  isCancelMode,
  isMatchPolicy,
  type PassthruOptions,
  type PublishOptions,
  type RegisterOptions,
  type ResultDetails,
  type RoutedOptions,
  type SubscribeOptions,
  type WelcomeDetails,
  type YieldOptions,
} from "./options.ts";
import { unsafeValue } from "./payload.ts";
import { preview } from "./preview.ts";

/** The application payload a message may carry. */
export interface Payload {
  /** Positional arguments. */
  args?: unknown[];
  /** Keyword arguments. */
  kwargs?: Dict;
  /**
   * An opaque payload standing where `args` goes, as Autobahn's transparent
   * payload mode (`enc_algo`) sends it. Forwarded untouched.
   */
  payload?: unknown;
}

/** HELLO: a client asks to join a realm. */
export interface HelloMessage {
  /** Message type code. */
  type: typeof MessageType.HELLO;
  /** The realm to join. */
  realm: string;
  /** roles, authmethods, authid, agent, … */
  details: HelloDetails;
}
/** WELCOME: the router opened the session. */
export interface WelcomeMessage {
  /** Message type code. */
  type: typeof MessageType.WELCOME;
  /** The new session's ID. */
  session: number;
  /** roles, authid, authrole, … */
  details: WelcomeDetails;
}
/** ABORT: session opening refused, or a protocol violation. */
export interface AbortMessage extends Payload {
  /** Message type code. */
  type: typeof MessageType.ABORT;
  /** `message` and other details. */
  details: Dict;
  /** The reason URI. */
  reason: string;
}
/** CHALLENGE: the router asks the client to authenticate. */
export interface ChallengeMessage {
  /** Message type code. */
  type: typeof MessageType.CHALLENGE;
  /** The authentication method. */
  authmethod: string;
  /** Method-specific data. */
  extra: Dict;
}
/** AUTHENTICATE: the client's answer to a CHALLENGE. */
export interface AuthenticateMessage {
  /** Message type code. */
  type: typeof MessageType.AUTHENTICATE;
  /** The signature or ticket. */
  signature: string;
  /** Method-specific data. */
  extra: Dict;
}
/** GOODBYE: close the session (answered with GOODBYE). */
export interface GoodbyeMessage {
  /** Message type code. */
  type: typeof MessageType.GOODBYE;
  /** `message` and other details. */
  details: Dict;
  /** The reason URI. */
  reason: string;
}
/** ERROR: a request failed. */
export interface ErrorMessage extends Payload {
  /** Message type code. */
  type: typeof MessageType.ERROR;
  /** The type code of the failed request. */
  requestType: number;
  /** The failed request's ID. */
  request: number;
  /** Details. */
  details: ErrorDetails;
  /** The error URI. */
  error: string;
}
/** PUBLISH: a publisher sends an event to a topic. */
export interface PublishMessage extends Payload {
  /** Message type code. */
  type: typeof MessageType.PUBLISH;
  /** Request ID. */
  request: number;
  /** Publish options. */
  options: PublishOptions;
  /** The topic. */
  topic: string;
}
/** PUBLISHED: acknowledges a PUBLISH. */
export interface PublishedMessage {
  /** Message type code. */
  type: typeof MessageType.PUBLISHED;
  /** The PUBLISH request ID. */
  request: number;
  /** The publication ID. */
  publication: number;
}
/** SUBSCRIBE: a subscriber asks for events. */
export interface SubscribeMessage {
  /** Message type code. */
  type: typeof MessageType.SUBSCRIBE;
  /** Request ID. */
  request: number;
  /** Subscribe options. */
  options: SubscribeOptions;
  /** The topic or pattern. */
  topic: string;
}
/** SUBSCRIBED: acknowledges a SUBSCRIBE. */
export interface SubscribedMessage {
  /** Message type code. */
  type: typeof MessageType.SUBSCRIBED;
  /** The SUBSCRIBE request ID. */
  request: number;
  /** The subscription ID. */
  subscription: number;
}
/** UNSUBSCRIBE: a subscriber drops a subscription. */
export interface UnsubscribeMessage {
  /** Message type code. */
  type: typeof MessageType.UNSUBSCRIBE;
  /** Request ID. */
  request: number;
  /** The subscription ID. */
  subscription: number;
}
/** UNSUBSCRIBED: acknowledges UNSUBSCRIBE (request 0 + details: revocation). */
export interface UnsubscribedMessage {
  /** Message type code. */
  type: typeof MessageType.UNSUBSCRIBED;
  /** The UNSUBSCRIBE request ID, or 0 for a revocation. */
  request: number;
  /** Revocation details. */
  details?: Dict;
}
/** EVENT: the broker delivers a publication. */
export interface EventMessage extends Payload {
  /** Message type code. */
  type: typeof MessageType.EVENT;
  /** The subscription ID. */
  subscription: number;
  /** The publication ID. */
  publication: number;
  /** Details. */
  details: EventDetails;
}
/** CALL: a caller invokes a procedure. */
export interface CallMessage extends Payload {
  /** Message type code. */
  type: typeof MessageType.CALL;
  /** Request ID. */
  request: number;
  /** Call options. */
  options: CallOptions;
  /** The procedure URI. */
  procedure: string;
}
/** CANCEL: a caller cancels a call. */
export interface CancelMessage {
  /** Message type code. */
  type: typeof MessageType.CANCEL;
  /** The CALL request ID. */
  request: number;
  /** Options (`mode`). */
  options: CancelOptions;
}
/** RESULT: the dealer returns a call's result. */
export interface ResultMessage extends Payload {
  /** Message type code. */
  type: typeof MessageType.RESULT;
  /** The CALL request ID. */
  request: number;
  /** Details. */
  details: ResultDetails;
}
/** REGISTER: a callee offers a procedure. */
export interface RegisterMessage {
  /** Message type code. */
  type: typeof MessageType.REGISTER;
  /** Request ID. */
  request: number;
  /** Register options. */
  options: RegisterOptions;
  /** The procedure URI or pattern. */
  procedure: string;
}
/** REGISTERED: acknowledges REGISTER. */
export interface RegisteredMessage {
  /** Message type code. */
  type: typeof MessageType.REGISTERED;
  /** The REGISTER request ID. */
  request: number;
  /** The registration ID. */
  registration: number;
}
/** UNREGISTER: a callee withdraws a registration. */
export interface UnregisterMessage {
  /** Message type code. */
  type: typeof MessageType.UNREGISTER;
  /** Request ID. */
  request: number;
  /** The registration ID. */
  registration: number;
}
/** UNREGISTERED: acknowledges UNREGISTER (request 0 + details: revocation). */
export interface UnregisteredMessage {
  /** Message type code. */
  type: typeof MessageType.UNREGISTERED;
  /** The UNREGISTER request ID, or 0 for a revocation. */
  request: number;
  /** Revocation details. */
  details?: Dict;
}
/** INVOCATION: the dealer asks a callee to run a procedure. */
export interface InvocationMessage extends Payload {
  /** Message type code. */
  type: typeof MessageType.INVOCATION;
  /** Request ID (dealer-chosen). */
  request: number;
  /** The registration ID. */
  registration: number;
  /** Details. */
  details: InvocationDetails;
}
/** INTERRUPT: the dealer asks a callee to stop an invocation. */
export interface InterruptMessage {
  /** Message type code. */
  type: typeof MessageType.INTERRUPT;
  /** The INVOCATION request ID. */
  request: number;
  /** Options (`mode`, `reason`). */
  options: InterruptOptions;
}
/** YIELD: a callee returns an invocation's result. */
export interface YieldMessage extends Payload {
  /** Message type code. */
  type: typeof MessageType.YIELD;
  /** The INVOCATION request ID. */
  request: number;
  /** Options (`progress`). */
  options: YieldOptions;
}
/** EVENT_RECEIVED: Autobahn's acknowledged-delivery receipt (code 337). */
export interface EventReceivedMessage {
  /** Message type code. */
  type: typeof MessageType.EVENT_RECEIVED;
  /** The publication ID. */
  publication: number;
}

/** Any WAMP message. */
export type WampMessage =
  | HelloMessage
  | WelcomeMessage
  | AbortMessage
  | ChallengeMessage
  | AuthenticateMessage
  | GoodbyeMessage
  | ErrorMessage
  | PublishMessage
  | PublishedMessage
  | SubscribeMessage
  | SubscribedMessage
  | UnsubscribeMessage
  | UnsubscribedMessage
  | EventMessage
  | CallMessage
  | CancelMessage
  | ResultMessage
  | RegisterMessage
  | RegisteredMessage
  | UnregisterMessage
  | UnregisteredMessage
  | InvocationMessage
  | InterruptMessage
  | YieldMessage
  | EventReceivedMessage;

type FieldKind = "id" | "id0" | "type" | "string" | "uri" | "dict";
type Field = readonly [name: string, kind: FieldKind];
interface Layout {
  readonly fields: readonly Field[];
  /** Trailing fields that may be absent. */
  readonly optional?: readonly Field[];
  /** Whether Arguments/ArgumentsKw may follow. */
  readonly payload?: boolean;
  /** The dict whose known keys are type-checked. */
  readonly checked?: string;
}

const LAYOUTS: ReadonlyMap<number, Layout> = new Map<number, Layout>([
  [MessageType.HELLO, {
    fields: [["realm", "uri"], ["details", "dict"]],
    checked: "details",
  }],
  [MessageType.WELCOME, {
    fields: [["session", "id"], ["details", "dict"]],
    checked: "details",
  }],
  [MessageType.ABORT, {
    fields: [["details", "dict"], ["reason", "uri"]],
    payload: true,
  }],
  [MessageType.CHALLENGE, {
    fields: [["authmethod", "string"], ["extra", "dict"]],
  }],
  [MessageType.AUTHENTICATE, {
    fields: [["signature", "string"], ["extra", "dict"]],
  }],
  [MessageType.GOODBYE, { fields: [["details", "dict"], ["reason", "uri"]] }],
  [MessageType.ERROR, {
    fields: [
      ["requestType", "type"],
      ["request", "id"],
      ["details", "dict"],
      ["error", "uri"],
    ],
    payload: true,
    checked: "details",
  }],
  [MessageType.PUBLISH, {
    fields: [["request", "id"], ["options", "dict"], ["topic", "uri"]],
    payload: true,
    checked: "options",
  }],
  [MessageType.PUBLISHED, {
    fields: [["request", "id"], ["publication", "id"]],
  }],
  [MessageType.SUBSCRIBE, {
    fields: [["request", "id"], ["options", "dict"], ["topic", "uri"]],
    checked: "options",
  }],
  [MessageType.SUBSCRIBED, {
    fields: [["request", "id"], ["subscription", "id"]],
  }],
  [MessageType.UNSUBSCRIBE, {
    fields: [["request", "id"], ["subscription", "id"]],
  }],
  [MessageType.UNSUBSCRIBED, {
    fields: [["request", "id0"]],
    optional: [["details", "dict"]],
  }],
  [MessageType.EVENT, {
    fields: [["subscription", "id"], ["publication", "id"], ["details", "dict"]],
    payload: true,
    checked: "details",
  }],
  [MessageType.CALL, {
    fields: [["request", "id"], ["options", "dict"], ["procedure", "uri"]],
    payload: true,
    checked: "options",
  }],
  [MessageType.CANCEL, {
    fields: [["request", "id"], ["options", "dict"]],
    checked: "options",
  }],
  [MessageType.RESULT, {
    fields: [["request", "id"], ["details", "dict"]],
    payload: true,
    checked: "details",
  }],
  [MessageType.REGISTER, {
    fields: [["request", "id"], ["options", "dict"], ["procedure", "uri"]],
    checked: "options",
  }],
  [MessageType.REGISTERED, {
    fields: [["request", "id"], ["registration", "id"]],
  }],
  [MessageType.UNREGISTER, {
    fields: [["request", "id"], ["registration", "id"]],
  }],
  [MessageType.UNREGISTERED, {
    fields: [["request", "id0"]],
    optional: [["details", "dict"]],
  }],
  [MessageType.INVOCATION, {
    fields: [["request", "id"], ["registration", "id"], ["details", "dict"]],
    payload: true,
    checked: "details",
  }],
  [MessageType.INTERRUPT, {
    fields: [["request", "id"], ["options", "dict"]],
    checked: "options",
  }],
  [MessageType.YIELD, {
    fields: [["request", "id"], ["options", "dict"]],
    payload: true,
    checked: "options",
  }],
  [MessageType.EVENT_RECEIVED, { fields: [["publication", "id"]] }],
]);

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
/** A dict for the key checks: any non-null object but a list (bytes pass, as they always have). */
function isObject(v: unknown): v is Dict {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
function idList(v: unknown): v is number[] {
  return Array.isArray(v) && v.every(isId);
}
function stringList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every(isString);
}
function dictList(v: unknown): v is Dict[] {
  return Array.isArray(v) && v.every(isObject);
}
function oneOf<T extends string>(...values: T[]): Guard<T> {
  const allowed: readonly string[] = values;
  return (v): v is T => typeof v === "string" && allowed.includes(v);
}

const INVOKE = oneOf<InvocationPolicy>("single", "roundrobin", "random", "first", "last");
const MATCH = isMatchPolicy;
const CANCEL_MODE = isCancelMode;

// The spec's payload passthru keys; Autobahn's transparent-payload keys as
// the conformance vectors use them.
const PPT: KeyChecks<PassthruOptions> = {
  ppt_scheme: isString,
  ppt_serializer: isString,
  ppt_cipher: isString,
  ppt_keyid: isString,
  enc_algo: oneOf("null", "cryptobox", "mqtt", "xbr"),
  enc_serializer: oneOf("null", "json", "msgpack", "cbor", "ubjson", "opaque", "flatbuffers"),
  enc_key: isString,
};
const ROUTED: KeyChecks<RoutedOptions> = {
  forward_for: dictList,
  transaction_hash: isString,
};

const HELLO: KeyChecks<HelloDetails> = {
  roles: isObject,
  agent: isString,
  authmethods: stringList,
  authid: isString,
  authrole: isString,
  authextra: isObject,
};
const WELCOME: KeyChecks<WelcomeDetails> = {
  roles: isObject,
  agent: isString,
  authid: isString,
  authrole: isString,
  authmethod: isString,
  authprovider: isString,
  authextra: isObject,
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

/**
 * Type checks of the known keys, per message type and dict position, in
 * null-prototype tables: a key such as `hasOwnProperty` or `constructor`
 * is a peer's unknown key, not a check inherited from `Object.prototype`.
 */
const CHECKS: ReadonlyMap<number, Readonly<Record<string, Guard<unknown>>>> = new Map<
  number,
  Readonly<Record<string, Guard<unknown>>>
>([
  [MessageType.HELLO, own(HELLO)],
  [MessageType.WELCOME, own(WELCOME)],
  [MessageType.PUBLISH, own(PUBLISH)],
  [MessageType.EVENT, own(EVENT)],
  [MessageType.SUBSCRIBE, own(SUBSCRIBE)],
  [MessageType.REGISTER, own(REGISTER)],
  [MessageType.CALL, own(CALL)],
  [MessageType.RESULT, own(RESULT)],
  [MessageType.INVOCATION, own(INVOCATION)],
  [MessageType.YIELD, own(YIELD)],
  [MessageType.CANCEL, own(CANCEL)],
  [MessageType.INTERRUPT, own(INTERRUPT)],
  [MessageType.ERROR, own(ERROR)],
]);

function own(
  checks: Readonly<Record<string, Guard<unknown>>>,
): Readonly<Record<string, Guard<unknown>>> {
  return Object.assign(Object.create(null), checks);
}

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

/** Request types an ERROR may refer to (spec: ERROR message). */
const ERROR_REQUEST_TYPES: ReadonlySet<number> = new Set([
  MessageType.SUBSCRIBE,
  MessageType.UNSUBSCRIBE,
  MessageType.PUBLISH,
  MessageType.REGISTER,
  MessageType.UNREGISTER,
  MessageType.CALL,
  MessageType.INVOCATION,
]);

function isDict(value: unknown): value is Dict {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Uint8Array);
}

/**
 * A URI field: a non-empty, well-formed string (no lone surrogates: JSON
 * "\ud800" escapes, or a lenient decoder).
 */
function isUriField(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.isWellFormed();
}

function checkField(kind: FieldKind, value: unknown): boolean {
  switch (kind) {
    case "id":
      return isId(value);
    case "id0":
      return value === 0 || isId(value);
    case "type":
      return typeof value === "number" && ERROR_REQUEST_TYPES.has(value);
    case "string":
      return typeof value === "string";
    case "uri":
      return isUriField(value);
    case "dict":
      return isDict(value);
  }
}

/** Options for {@linkcode parseMessage}. */
export interface ParseOptions {
  /**
   * The decoder already refused nesting deeper than `MAX_NESTING_DEPTH` and
   * anything but plain data, as the msgpack and CBOR pre-scans do: skip that
   * walk. Never set it for values from anywhere else.
   * @default {false}
   */
  prechecked?: boolean;
}

/**
 * Turns a decoded array into a typed message, validating its length, the
 * types of its fields, its ID ranges, and the types of known option keys.
 *
 * Liberal where real peers are: a `null` (or `undefined`) Options/Details
 * dict reads as `{}`, a `null` value in one reads as an absent key, and a
 * `null` Arguments or ArgumentsKw reads as absent. Safe for fan-out: the
 * whole message must be plain data nested at most `MAX_NESTING_DEPTH`
 * levels (see {@linkcode unsafeValue}), and URI fields well-formed strings
 * (no lone surrogates).
 *
 * @param wire The decoded message (from a serializer).
 * @param options Whether the plain-data walk may be skipped.
 * @returns The typed message.
 * @throws {ProtocolViolationError} When the array is not a valid message.
 *
 * @example
 * ```ts
 * import { MessageType, parseMessage } from "@cloverleaf/wamp/wamp";
 * import { deepEqual } from "node:assert/strict";
 *
 * const msg = parseMessage([16, 1, { acknowledge: true }, "a.topic", [42]]);
 * deepEqual(msg, {
 *   type: MessageType.PUBLISH,
 *   request: 1,
 *   options: { acknowledge: true },
 *   topic: "a.topic",
 *   args: [42],
 * });
 *
 * // null as absent: a CALL with kwargs only, a SUBSCRIBE without `match`.
 * deepEqual(parseMessage([48, 1, {}, "a.proc", null, { a: 1 }]), {
 *   type: MessageType.CALL,
 *   request: 1,
 *   options: {},
 *   procedure: "a.proc",
 *   kwargs: { a: 1 },
 * });
 * deepEqual(parseMessage([32, 2, { match: null }, "a.topic"]), {
 *   type: MessageType.SUBSCRIBE,
 *   request: 2,
 *   options: {},
 *   topic: "a.topic",
 * });
 * ```
 */
export function parseMessage(wire: unknown, options: ParseOptions = {}): WampMessage {
  if (Array.isArray(wire) && (options.prechecked === true || unsafeValue(wire) === undefined)) {
    return readHot(wire[0], wire) ?? parseMessageByLayout(wire, PRECHECKED);
  }
  return parseMessageByLayout(wire, options);
}

const PRECHECKED: ParseOptions = { prechecked: true };

/**
 * What {@linkcode parseMessage} does for every message it has no faster
 * reader for: reads and checks a decoded array field by field from the
 * table of message layouts. Same results as `parseMessage`, slower for
 * the hottest messages; it is the reference their readers are tested
 * against. Use `parseMessage`.
 *
 * @param wire The decoded message.
 * @param options Whether the plain-data walk may be skipped.
 * @returns The typed message.
 * @throws {ProtocolViolationError} When the array is not a valid message.
 *
 * @example
 * ```ts
 * import { parseMessage, parseMessageByLayout } from "@cloverleaf/wamp/wamp";
 * import { deepEqual } from "node:assert/strict";
 *
 * const wire = [48, 1, {}, "a.proc", [1]];
 * deepEqual(parseMessageByLayout(wire), parseMessage(wire));
 * ```
 */
export function parseMessageByLayout(wire: unknown, options: ParseOptions = {}): WampMessage {
  if (!Array.isArray(wire) || wire.length === 0) {
    throw new ProtocolViolationError("A message must be a non-empty list");
  }
  const code = wire[0];
  const layout = typeof code === "number" ? LAYOUTS.get(code) : undefined;
  if (layout === undefined) {
    throw new ProtocolViolationError(
      `Cannot parse message: unknown message type ${preview(code)}`,
    );
  }
  const name = messageTypeName(code as number);
  const min = 1 + layout.fields.length;
  const max = min + (layout.optional?.length ?? 0) + (layout.payload ? 2 : 0);
  if (wire.length < min || wire.length > max) {
    throw new ProtocolViolationError(
      `Cannot parse ${name}: ${wire.length} elements, expected ${min}${
        max > min ? `..${max}` : ""
      }`,
    );
  }
  const unsafe = options.prechecked === true ? undefined : unsafeValue(wire);
  if (unsafe !== undefined) {
    throw new ProtocolViolationError(`Cannot parse ${name}: ${unsafe}`);
  }
  const msg: Record<string, unknown> = { type: code };
  let at = readFields(name, wire, 1, layout.fields, msg);
  if (layout.optional !== undefined) at = readFields(name, wire, at, layout.optional, msg);
  if (msg.request === 0 && msg.details === undefined) {
    throw new ProtocolViolationError(`Cannot parse ${name}: request 0 without details`);
  }
  if (layout.checked !== undefined) {
    const bad = invalidOptionKey(code as number, msg[layout.checked] as Dict);
    if (bad !== undefined) {
      throw new ProtocolViolationError(
        `Cannot parse ${name}: invalid type for ${layout.checked} key "${bad}"`,
      );
    }
  }
  if (at < wire.length) readPayload(name, wire, at, msg, layout);
  return msg as unknown as WampMessage;
}

/**
 * The hottest messages in their everyday form, read without the layout
 * table (its field-by-field stores took about 80 ns a message): a PUBLISH,
 * CALL, YIELD, EVENT, RESULT or INVOCATION whose IDs, URI and dict are
 * well-typed, whose dict holds no null and no mistyped known key, and
 * whose payload is a list, or a list and a dict. Anything else is
 * undefined, for the table to read or refuse (with its words); what this
 * returns is what the table returns. The caller has checked the message is
 * plain data.
 */
function readHot(code: unknown, wire: unknown[]): WampMessage | undefined {
  let msg: Record<string, unknown>;
  let dict: unknown;
  let at: number; // where Arguments go
  switch (code) {
    case MessageType.PUBLISH:
    case MessageType.CALL: {
      const uri = wire[3];
      if (!isUriField(uri)) return undefined;
      dict = wire[2];
      msg = code === MessageType.PUBLISH
        ? { type: code, request: wire[1], options: dict, topic: uri }
        : { type: code, request: wire[1], options: dict, procedure: uri };
      at = 4;
      break;
    }
    case MessageType.YIELD:
      dict = wire[2];
      msg = { type: code, request: wire[1], options: dict };
      at = 3;
      break;
    case MessageType.RESULT:
      dict = wire[2];
      msg = { type: code, request: wire[1], details: dict };
      at = 3;
      break;
    case MessageType.EVENT:
      if (!isId(wire[2])) return undefined;
      dict = wire[3];
      msg = { type: code, subscription: wire[1], publication: wire[2], details: dict };
      at = 4;
      break;
    case MessageType.INVOCATION:
      if (!isId(wire[2])) return undefined;
      dict = wire[3];
      msg = { type: code, request: wire[1], registration: wire[2], details: dict };
      at = 4;
      break;
    default:
      return undefined;
  }
  const n = wire.length;
  if (n < at || n > at + 2 || !isId(wire[1]) || !isDict(dict) || hasNull(dict)) return undefined;
  if (invalidOptionKey(code as number, dict) !== undefined) return undefined;
  if (n > at + 1) {
    if (!isDict(wire[at + 1])) return undefined;
    msg.kwargs = wire[at + 1];
  }
  if (n > at) {
    if (!Array.isArray(wire[at])) return undefined;
    msg.args = wire[at];
  }
  return msg as unknown as WampMessage;
}

/** Reads `fields` from `wire[at…]` into `msg`; returns the index after them. */
function readFields(
  name: string,
  wire: unknown[],
  at: number,
  fields: readonly Field[],
  msg: Record<string, unknown>,
): number {
  // Index loops: no iterator or destructuring per field of every message.
  for (let i = 0; i < fields.length && at < wire.length; i++) {
    const field = fields[i]!;
    const kind = field[1];
    let value = wire[at++];
    if (kind === "dict") value = value === null || value === undefined ? {} : value;
    if (!checkField(kind, value)) {
      throw new ProtocolViolationError(
        `Cannot parse ${name}: invalid ${field[0]} ${preview(value)}`,
      );
    }
    msg[field[0]] = kind === "dict" ? withoutNulls(value as Dict) : value;
  }
  return at;
}

/** A dict without its null/undefined values, which peers send for "absent". */
function withoutNulls(dict: Dict): Dict {
  return hasNull(dict) ? copyWithoutNulls(dict) : dict;
}

/** Whether a dict holds a null (or undefined) value: one that peers send for "absent". */
function hasNull(dict: Dict): boolean {
  for (const key in dict) {
    const value = dict[key];
    if (value === null || value === undefined) return true;
  }
  return false;
}

function copyWithoutNulls(dict: Dict): Dict {
  const out: Dict = {};
  for (const key in dict) {
    const value = dict[key];
    if (value !== null && value !== undefined) out[key] = value;
  }
  return out;
}

function readPayload(
  name: string,
  wire: unknown[],
  at: number,
  msg: Record<string, unknown>,
  layout: Layout,
): void {
  const args = wire[at];
  const kwargs = wire[at + 1];
  if (kwargs !== null && kwargs !== undefined) {
    if (!isDict(kwargs)) {
      throw new ProtocolViolationError(`Cannot parse ${name}: ArgumentsKw must be a dict`);
    }
    msg.kwargs = kwargs;
  }
  // A null Arguments is absent (nexus, fox-wamp), kwargs or not.
  if (args === null || args === undefined) return;
  if (Array.isArray(args)) {
    msg.args = args;
    return;
  }
  // Autobahn's transparent payload: an opaque value where Arguments goes.
  const dict = layout.checked === undefined ? undefined : msg[layout.checked] as Dict;
  if (typeof dict?.enc_algo !== "string" || msg.kwargs !== undefined) {
    throw new ProtocolViolationError(`Cannot parse ${name}: Arguments must be a list`);
  }
  msg.payload = args;
}

/** Whether a dict has a key (without listing them all). */
function hasKeys(dict: Dict): boolean {
  for (const _ in dict) return true;
  return false;
}

/**
 * Turns a typed message into the array the serializers encode. Drops
 * trailing empty payload elements (`[]` args with no kwargs, `{}` kwargs)
 * as the spec recommends.
 *
 * @param msg The message.
 * @param payload Whether to add Arguments and ArgumentsKw (false: the head
 * alone, for a serializer that splices in payload bytes it kept).
 * @returns The wire array.
 *
 * @example
 * ```ts
 * import { MessageType, toWire } from "@cloverleaf/wamp/wamp";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(
 *   toWire({ type: MessageType.RESULT, request: 7, details: {}, args: [], kwargs: { a: 1 } }),
 *   [50, 7, {}, [], { a: 1 }],
 * );
 * deepEqual(
 *   toWire({ type: MessageType.RESULT, request: 7, details: {}, args: [] }),
 *   [50, 7, {}],
 * );
 * ```
 */
export function toWire(msg: WampMessage, payload = true): unknown[] {
  const hot = hotHead(msg);
  const wire = hot ?? headByLayout(msg);
  // Every hot message may carry a payload.
  if (payload && (hot !== undefined || LAYOUTS.get(msg.type)!.payload === true)) {
    const { args, kwargs, payload: opaque } = msg as Payload;
    if (opaque !== undefined) {
      wire.push(opaque);
    } else if (kwargs !== undefined && hasKeys(kwargs)) {
      wire.push(args ?? [], kwargs);
    } else if (args !== undefined && args.length > 0) {
      wire.push(args);
    }
  }
  return wire;
}

/**
 * The head of the hottest messages, without the layout table (its
 * field-by-field loads took about 40 ns a message); undefined for others.
 */
function hotHead(msg: WampMessage): unknown[] | undefined {
  switch (msg.type) {
    case MessageType.EVENT:
      return [msg.type, msg.subscription, msg.publication, msg.details];
    case MessageType.INVOCATION:
      return [msg.type, msg.request, msg.registration, msg.details];
    case MessageType.RESULT:
      return [msg.type, msg.request, msg.details];
    case MessageType.PUBLISH:
      return [msg.type, msg.request, msg.options, msg.topic];
    case MessageType.CALL:
      return [msg.type, msg.request, msg.options, msg.procedure];
    case MessageType.YIELD:
      return [msg.type, msg.request, msg.options];
  }
  return undefined;
}

/** The head of any message: its fields in the order of its layout. */
function headByLayout(msg: WampMessage): unknown[] {
  const layout = LAYOUTS.get(msg.type)!;
  const record = msg as unknown as Record<string, unknown>;
  const wire: unknown[] = [msg.type];
  // Index loops: no iterator or destructuring per field of every message sent.
  const fields = layout.fields;
  for (let i = 0; i < fields.length; i++) wire.push(record[fields[i]![0]]);
  const optional = layout.optional;
  if (optional !== undefined) {
    for (let i = 0; i < optional.length; i++) {
      const value = record[optional[i]![0]];
      if (value === undefined) break;
      wire.push(value);
    }
  }
  return wire;
}
