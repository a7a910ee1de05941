/**
 * Answering a CALL to a procedure the router serves itself: RESULT with
 * the procedure's payload, or ERROR with the {@linkcode CallError} it
 * threw; a deferred answer comes when the procedure replies.
 *
 * @module
 */

import {
  type CallMessage,
  type ErrorMessage,
  ErrorUri,
  MessageType,
  type Payload,
  type ResultMessage,
} from "../../wamp/mod.ts";
import { CallError, errorReply } from "./errors.ts";
import { messagesOnly, type Output } from "./output.ts";
import { isDeferred, type RouterProcedure } from "./procedures.ts";
import type { SessionInfo } from "./types.ts";

/**
 * Runs a router procedure for a CALL.
 *
 * @param handler The procedure.
 * @param session The caller.
 * @param msg The CALL.
 * @param denied Called when the procedure refuses with
 * `wamp.error.not_authorized` (the router's count of its refusals).
 * @returns RESULT or ERROR, or what the deferred answer starts.
 * @throws What the procedure throws at once other than a `CallError`.
 */
export function answer(
  handler: RouterProcedure,
  session: SessionInfo,
  msg: CallMessage,
  denied?: () => void,
): Output {
  const result = (out: Payload): Output => {
    const reply: ResultMessage = { type: MessageType.RESULT, request: msg.request, details: {} };
    if (out.args !== undefined) reply.args = out.args;
    if (out.kwargs !== undefined) reply.kwargs = out.kwargs;
    return messagesOnly([{ to: session.id, msg: reply }]);
  };
  const refuse = (error: CallError): Output => {
    if (error.uri === ErrorUri.NOT_AUTHORIZED) denied?.();
    const reply = errorReply(session.id, msg.type, msg.request, error.uri, error.message);
    if (error.kwargs !== undefined) (reply.msg as ErrorMessage).kwargs = error.kwargs;
    return messagesOnly([reply]);
  };
  let out: ReturnType<RouterProcedure>;
  try {
    out = handler(session, msg.args ?? [], msg.kwargs ?? {});
  } catch (error) {
    if (error instanceof CallError) return refuse(error);
    throw error;
  }
  if (!isDeferred(out)) return result(out);
  let sync = true;
  const reply = (compute: () => Payload): Output => {
    let answered: Output;
    try {
      answered = result(compute());
    } catch (error) {
      if (error instanceof CallError) answered = refuse(error);
      else if (sync) throw error;
      else answered = refuse(new CallError(ErrorUri.RUNTIME_ERROR, `${error}`));
    }
    return answered;
  };
  try {
    return out.start(reply);
  } finally {
    sync = false;
  }
}
