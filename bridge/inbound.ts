/**
 * The bridge paths that take a POST and act once: publisher (PUBLISH),
 * caller (CALL) and webhook (any body, published to a configured topic).
 *
 * @module
 */

import { unsafeValue } from "../wamp/payload.ts";
import { toBase64 } from "../wamp/bytes.ts";
import { jsonToBinary } from "../wamp/serializers/json.ts";
import { ApplicationError } from "../client/errors.ts";
import type { Session } from "../client/session.ts";
import { type Dict, ErrorUri, isValidUri, MessageType, parseMessage } from "../wamp/mod.ts";
import type { BridgeOptions } from "./config.ts";
import { BridgeError, json, refusal } from "./errors.ts";
import { JSON_SCAN_THRESHOLD, jsonFault } from "../wamp/serializers/json_scan.ts";

/** What one request to a bridge path brings. */
export interface BridgeRequest {
  /** The request (headers). */
  readonly request: Request;
  /** Its URL (query). */
  readonly url: URL;
  /** Its body. */
  readonly body: Uint8Array;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/** A JSON request body: `{ <name>, args, kwargs, options }`. */
interface Action {
  readonly uri: string;
  readonly args: unknown[];
  readonly kwargs: Dict;
  readonly options: Dict;
}

/**
 * `JSON.parse`, after the scan a long JSON frame gets (nesting, dict keys,
 * 1,000,000 values): a body over 64 KiB costs what a frame costs, not up
 * to a second of the router's time for 16 MiB of `[`. Strings that start
 * with U+0000 are bytes, as WAMP's JSON reads them (`"\u0000"` and
 * Base64, as the bridge writes binary values).
 *
 * @param text JSON text.
 * @returns The value.
 * @throws {RangeError} For text the scan refuses, or `"\u0000"` strings
 * that are not Base64; {@linkcode SyntaxError} for text that is not JSON.
 */
export function parseJson(text: string): unknown {
  const fault = text.length > JSON_SCAN_THRESHOLD ? jsonFault(text) : undefined;
  if (fault !== undefined) throw new RangeError(fault);
  const value = JSON.parse(text);
  if (!text.includes("\\u0000")) return value;
  const unsafe = unsafeValue(value, true, false); // nesting checked before the conversion walks
  if (unsafe !== undefined) throw new RangeError(`it holds ${unsafe}`);
  try {
    return jsonToBinary(value);
  } catch {
    throw new RangeError('a string that starts with "\\u0000" is not "\\u0000" and Base64');
  }
}

/** Reads a body as `{ [name]: uri, args?, kwargs?, options? }`, or the 400 to answer. */
function parseAction(body: Uint8Array, name: "topic" | "procedure"): Action | Response {
  let value: unknown;
  try {
    value = parseJson(decoder.decode(body));
  } catch (error) {
    const why = error instanceof RangeError ? `: ${error.message}` : "";
    return refusal(BridgeError.BAD_REQUEST, [`the body must be a JSON object (UTF-8)${why}`]);
  }
  if (!isDict(value)) return refusal(BridgeError.BAD_REQUEST, ["the body must be a JSON object"]);
  const uri = value[name];
  if (typeof uri !== "string" || !isValidUri(uri)) {
    return refusal(ErrorUri.INVALID_URI, [`"${name}" must be a valid URI`]);
  }
  const { args = [], kwargs = {}, options = {} } = value;
  if (!Array.isArray(args)) return refusal(BridgeError.BAD_REQUEST, ['"args" must be an array']);
  if (!isDict(kwargs)) return refusal(BridgeError.BAD_REQUEST, ['"kwargs" must be an object']);
  if (!isDict(options)) return refusal(BridgeError.BAD_REQUEST, ['"options" must be an object']);
  // What the router would refuse in a message aborts the session every request on this path
  // shares: refuse it here, to this sender only. Read as the router reads it from a socket:
  // plain data nested no deeper than allowed, each option of its type.
  const type = name === "topic" ? MessageType.PUBLISH : MessageType.CALL;
  try {
    parseMessage([type, 1, options, uri, args, kwargs]);
  } catch (error) {
    const fault = error instanceof Error ? error.message : String(error);
    return refusal(BridgeError.BAD_REQUEST, [`the body holds what WAMP refuses: ${fault}`]);
  }
  return { uri, args, kwargs, options };
}

function isDict(value: unknown): value is Dict {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The refusal for what a WAMP request failed with: the router's or
 * callee's ERROR as it came, anything else as 503 (the router is closing).
 *
 * @param error What was thrown.
 * @returns The response.
 */
export function failure(error: unknown): Response {
  if (error instanceof ApplicationError) return refusal(error.uri, error.args, error.kwargs);
  if (error instanceof DOMException && error.name === "TimeoutError") {
    return refusal(ErrorUri.TIMEOUT, ["the call timed out"]);
  }
  const why = error instanceof Error ? error.message : String(error);
  return refusal(BridgeError.UNAVAILABLE, [`the router is not available: ${why}`]);
}

/**
 * `POST` `{ topic, args, kwargs, options }` → PUBLISH (always acknowledged,
 * so a refusal is reported): 202 `{ id }`.
 *
 * @param session The bridge's session.
 * @param req The request.
 * @returns The response.
 */
export async function publish(session: Session, req: BridgeRequest): Promise<Response> {
  const action = parseAction(req.body, "topic");
  if (action instanceof Response) return action;
  try {
    const id = await session.publish(action.uri, { args: action.args, kwargs: action.kwargs }, {
      ...action.options,
      acknowledge: true,
    });
    return json(202, { id });
  } catch (error) {
    return failure(error);
  }
}

/**
 * `POST` `{ procedure, args, kwargs, options }` → CALL: 200 `{ args, kwargs }`.
 * The call's timeout is `options.timeout` or the bridge's, whichever is
 * shorter.
 *
 * @param session The bridge's session.
 * @param req The request.
 * @param bridge The path's settings.
 * @returns The response.
 */
export async function call(
  session: Session,
  req: BridgeRequest,
  bridge: BridgeOptions,
): Promise<Response> {
  const action = parseAction(req.body, "procedure");
  if (action instanceof Response) return action;
  // What only the client reads (`signal`, `cancelMode`, `onProgress`) is the bridge's to set: a
  // request's `cancelMode` went out in a CANCEL that aborts the session the whole path shares.
  const {
    timeout: asked,
    receive_progress: _p,
    progress: _q,
    signal: _s,
    cancelMode: _c,
    onProgress: _o,
    ...options
  } = action.options;
  const timeout = typeof asked === "number" && asked > 0
    ? Math.min(asked, bridge.timeout)
    : bridge.timeout;
  try {
    const result = await session.call(action.uri, { args: action.args, kwargs: action.kwargs }, {
      ...options,
      timeout,
      // The dealer answers `timeout` first; this is the bridge's own bound. A client that hangs
      // up gives its call up (cancelled, its maxInFlight slot free).
      signal: AbortSignal.any([req.request.signal, AbortSignal.timeout(timeout + 1000)]),
    });
    return json(200, { args: result.args, kwargs: result.kwargs });
  } catch (error) {
    return failure(error);
  }
}

/**
 * `POST` with any body → an event on the configured topic: kwargs
 * `{ body, headers }` (the body as text, or Base64 when it is not UTF-8
 * with `encoding: "base64"`; the configured headers), plus `json` when the
 * body is JSON. 202 `{ id }`.
 *
 * @param session The bridge's session.
 * @param req The request.
 * @param bridge The path's settings.
 * @returns The response.
 */
export async function webhook(
  session: Session,
  req: BridgeRequest,
  bridge: BridgeOptions,
): Promise<Response> {
  const headers: Record<string, string> = {};
  for (const name of bridge.headers) {
    const value = req.request.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  const kwargs: Dict = { headers };
  try {
    kwargs.body = decoder.decode(req.body);
    // Text that starts with U+0000 would be read as binary by JSON peers: it goes as Base64.
    if ((kwargs.body as string).charCodeAt(0) === 0) throw new TypeError("binary");
    try {
      if ((req.request.headers.get("content-type") ?? "").includes("json")) {
        kwargs.json = parseJson(kwargs.body as string);
      }
    } catch {
      // not JSON after all: the text is there
    }
  } catch {
    kwargs.body = toBase64(req.body);
    kwargs.encoding = "base64";
  }
  let unsafe = unsafeValue([0, kwargs]);
  if (unsafe !== undefined && "json" in kwargs) {
    // A sender's JSON that no serializer could carry as it came (a __proto__ key): the text only.
    delete kwargs.json;
    unsafe = unsafeValue([0, kwargs]);
  }
  if (unsafe !== undefined) return refusal(BridgeError.BAD_REQUEST, [`the body holds ${unsafe}`]);
  try {
    const id = await session.publish(bridge.topic!, { kwargs }, { acknowledge: true });
    return json(202, { id });
  } catch (error) {
    return failure(error);
  }
}
