/**
 * Typed WAMP messages: a discriminated union on `type`, with
 * {@linkcode parseMessage} (decoded array → message, strictly validated,
 * liberal about null where peers send it) and {@linkcode toWire} (message →
 * array, spec-exact, empty payload elements dropped).
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
  invalidOptionKey,
  type InvocationDetails,
  type PublishOptions,
  type RegisterOptions,
  type ResultDetails,
  type SubscribeOptions,
  type WelcomeDetails,
  type YieldOptions,
} from "./options.ts";
import { unsafeValue } from "./payload.ts";

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
      // Well-formed: no lone surrogates (JSON "\ud800" escapes, or a lenient decoder).
      return typeof value === "string" && value.length > 0 && value.isWellFormed();
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
 * import { MessageType, parseMessage } from "@cloverleaf/wamp";
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
  if (!Array.isArray(wire) || wire.length === 0) {
    throw new ProtocolViolationError("A message must be a non-empty list");
  }
  const code = wire[0];
  const layout = typeof code === "number" ? LAYOUTS.get(code) : undefined;
  if (layout === undefined) {
    throw new ProtocolViolationError(
      `Cannot parse message: unknown message type ${JSON.stringify(code)}`,
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
  let at = 1;
  for (const fields of [layout.fields, layout.optional ?? []]) {
    for (const [field, kind] of fields) {
      if (at >= wire.length) break;
      let value = wire[at++];
      if (kind === "dict") value = value === null || value === undefined ? {} : value;
      if (!checkField(kind, value)) {
        throw new ProtocolViolationError(
          `Cannot parse ${name}: invalid ${field} ${shortJson(value)}`,
        );
      }
      msg[field] = kind === "dict" ? withoutNulls(value as Dict) : value;
    }
  }
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

/** A dict without its null/undefined values, which peers send for "absent". */
function withoutNulls(dict: Dict): Dict {
  for (const key in dict) {
    const value = dict[key];
    if (value === null || value === undefined) return copyWithoutNulls(dict);
  }
  return dict;
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

function shortJson(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/**
 * Turns a typed message into the array the serializers encode. Drops
 * trailing empty payload elements (`[]` args with no kwargs, `{}` kwargs)
 * as the spec recommends.
 *
 * @param msg The message.
 * @returns The wire array.
 *
 * @example
 * ```ts
 * import { MessageType, toWire } from "@cloverleaf/wamp";
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
export function toWire(msg: WampMessage): unknown[] {
  const layout = LAYOUTS.get(msg.type)!;
  const record = msg as unknown as Record<string, unknown>;
  const wire: unknown[] = [msg.type];
  for (const [field] of layout.fields) wire.push(record[field]);
  if (layout.optional) {
    for (const [field] of layout.optional) {
      if (record[field] === undefined) break;
      wire.push(record[field]);
    }
  }
  if (layout.payload) {
    const { args, kwargs, payload } = msg as Payload;
    if (payload !== undefined) {
      wire.push(payload);
    } else if (kwargs !== undefined && Object.keys(kwargs).length > 0) {
      wire.push(args ?? [], kwargs);
    } else if (args !== undefined && args.length > 0) {
      wire.push(args);
    }
  }
  return wire;
}
