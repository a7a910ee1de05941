/**
 * What the router does instead of sending a message over what its peer
 * accepts (a RawSocket peer's announced limit; a WebSocket listener's own
 * `maxMessageSize`). JSON escaping can make an EVENT several times the
 * size of the MessagePack PUBLISH it came from, so any publisher or caller
 * could otherwise reach a limit no recipient chose to exceed. The
 * recipient is never closed for it:
 *
 * - an EVENT is dropped for that subscriber (counted with the slow
 *   consumer's drops);
 * - a final RESULT, or an ERROR for a CALL, becomes ERROR
 *   `wamp.error.payload_size_exceeded` (the call is over already);
 * - an INVOCATION is answered as if its callee had refused it with that
 *   ERROR: the caller gets it, the callee never hears of the call (for a
 *   chunk of a progressive call: none of the chunks after it, and an
 *   INTERRUPT from the dealer once the call had more than one chunk);
 * - a progressive RESULT ends its call as if its caller had sent CANCEL
 *   `killnowait`: ERROR `wamp.error.canceled` to the caller, INTERRUPT to
 *   the callee (as for a caller that stops reading);
 * - anything else (a router's own reply, over a tiny RawSocket limit)
 *   closes the connection, as before ({@linkcode cutReply}).
 *
 * @module
 */

import {
  ErrorUri,
  type MessageTooLargeError,
  MessageType,
  messageTypeName,
  type WampMessage,
} from "../wamp/mod.ts";

/** What to do instead of sending a message the peer cannot take, and why, for the log. */
export type Oversize =
  & { readonly why: string }
  & (
    | { readonly kind: "drop" | "close" }
    | { readonly kind: "send" | "handle"; readonly msg: WampMessage }
  );

/**
 * What to do instead of sending `msg`, which is over its peer's limit.
 *
 * @param msg The message.
 * @param error What the link threw.
 * @returns Drop it, send a small ERROR instead, handle a message as if the
 * peer had sent it, or close the connection.
 *
 * @example
 * ```ts
 * import { oversize } from "./oversize.ts";
 * import { MessageTooLargeError, MessageType } from "../wamp/mod.ts";
 * import { equal } from "node:assert/strict";
 *
 * const event = { type: MessageType.EVENT, subscription: 1, publication: 2, details: {} } as const;
 * equal(oversize(event, new MessageTooLargeError(2048, 1024)).kind, "drop");
 * ```
 */
export function oversize(msg: WampMessage, error: MessageTooLargeError): Oversize {
  const why = `${
    messageTypeName(msg.type)
  } of ${error.size} bytes is over the peer's limit of ${error.limit}`;
  const uri = ErrorUri.PAYLOAD_SIZE_EXCEEDED;
  switch (msg.type) {
    case MessageType.EVENT:
      return { kind: "drop", why };
    case MessageType.INVOCATION:
      return {
        kind: "handle",
        why,
        msg: {
          type: MessageType.ERROR,
          requestType: MessageType.INVOCATION,
          request: msg.request,
          details: {},
          error: uri,
          args: [why],
        },
      };
    case MessageType.RESULT:
      if (msg.details.progress === true) {
        return {
          kind: "handle",
          why,
          msg: { type: MessageType.CANCEL, request: msg.request, options: { mode: "killnowait" } },
        };
      }
      break;
    case MessageType.ERROR:
      if (msg.requestType === MessageType.CALL) break;
      return { kind: "close", why };
    default:
      return { kind: "close", why };
  }
  const request = msg.request;
  return {
    kind: "send",
    why,
    msg: {
      type: MessageType.ERROR,
      requestType: MessageType.CALL,
      request,
      details: {},
      error: uri,
    },
  };
}

/**
 * A router's own reply (CHALLENGE, WELCOME, ABORT, GOODBYE) over what the
 * peer accepts: an ABORT or GOODBYE is tried again without its details
 * (one naming a long realm was over a RawSocket client's 512 bytes);
 * anything else ends the connection, and a session whose CHALLENGE or
 * WELCOME it was never joins.
 *
 * @param msg The reply that did not fit.
 * @param error Why.
 * @param joined The ID of the session joined over the connection, if one is.
 * @param peer The connection's peer, for the log.
 * @returns The log line, and the reply to try instead, if any.
 */
export function cutReply(
  msg: WampMessage,
  error: MessageTooLargeError,
  joined: number | undefined,
  peer: string,
): { line: string; retry?: WampMessage } {
  const name = messageTypeName(msg.type);
  const closing = msg.type === MessageType.ABORT || msg.type === MessageType.GOODBYE;
  const who = closing && joined !== undefined ? `Session ${joined}` : `Connection from ${peer}`;
  if (closing && Object.keys(msg.details).length > 0) {
    return { line: `${who}: ${error.message}: reply cut short`, retry: { ...msg, details: {} } };
  }
  const joining = msg.type === MessageType.WELCOME ? `session ${msg.session}` : "the session";
  const never = closing ? "" : `, ${joining} never joined`;
  return { line: `${who}: ${error.message}: ${name} not sent${never}` };
}
