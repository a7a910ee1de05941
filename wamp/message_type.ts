/**
 * WAMP message type codes, as listed in the spec's message catalogue.
 *
 * @example Look up a code
 * ```ts
 * import { MessageType } from "@cloverleaf/wamp/wamp";
 * import { equal } from "node:assert/strict";
 *
 * equal(MessageType.PUBLISH, 16);
 * ```
 */
export const MessageType = {
  HELLO: 1,
  WELCOME: 2,
  ABORT: 3,
  CHALLENGE: 4,
  AUTHENTICATE: 5,
  GOODBYE: 6,
  ERROR: 8,
  PUBLISH: 16,
  PUBLISHED: 17,
  SUBSCRIBE: 32,
  SUBSCRIBED: 33,
  UNSUBSCRIBE: 34,
  UNSUBSCRIBED: 35,
  EVENT: 36,
  CALL: 48,
  CANCEL: 49,
  RESULT: 50,
  REGISTER: 64,
  REGISTERED: 65,
  UNREGISTER: 66,
  UNREGISTERED: 67,
  INVOCATION: 68,
  INTERRUPT: 69,
  YIELD: 70,
  /** Autobahn/Crossbar acknowledged delivery (not in the spec yet, wamp-proto#280). */
  EVENT_RECEIVED: 337,
} as const;

/** One of the numeric codes in {@linkcode MessageType}. */
export type MessageTypeCode = typeof MessageType[keyof typeof MessageType];

const NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(MessageType).map(([name, code]) => [code, name]),
);

/**
 * Returns the spec name of a message type code (`"CALL"` for 48), or
 * `"UNKNOWN(<code>)"`.
 *
 * @param code A message type code.
 * @returns The message name.
 *
 * @example
 * ```ts
 * import { messageTypeName } from "@cloverleaf/wamp/wamp";
 * import { equal } from "node:assert/strict";
 *
 * equal(messageTypeName(48), "CALL");
 * ```
 */
export function messageTypeName(code: number): string {
  return NAMES.get(code) ?? `UNKNOWN(${code})`;
}
