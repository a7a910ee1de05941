/**
 * Options for the long-poll service (`LongPollService` in `server.ts`).
 *
 * @module
 */

import type { AttachOptions, SerializerName, TransportLog } from "../../wamp/mod.ts";
import type { LongPollRelay } from "./relay.ts";
import type { HttpAdmission } from "../stream/http_routes.ts";

/** Options for {@linkcode LongPollService}. */
export interface LongPollOptions {
  /** The base path: `open` and the transports live under it. @default {"/lp"} */
  path?: string;
  /**
   * Serializers offered; the client's order of preference decides.
   * @default {["json", "msgpack", "cbor"]}
   */
  serializers?: SerializerName[];
  /** Whether the `wamp.2.<serializer>.batched` variants are offered too. @default {true} */
  batched?: boolean;
  /** The largest request body accepted, in bytes; a larger one gets HTTP 413. @default {16777216} */
  maxMessageSize?: number;
  /**
   * Milliseconds a `receive` is held open while nothing is queued; it is
   * then answered with 204 and an empty body, and the client polls again.
   * 0 holds it until something is queued. Autobahn|JS gives up on a
   * request after 12 s, so keep this below that.
   * @default {10000}
   */
  pollTimeout?: number;
  /**
   * Milliseconds without any request (a held `receive` counts as one) after
   * which a transport is closed and its session leaves; 0 for never.
   * @default {60000}
   */
  sessionTimeout?: number;
  /**
   * Milliseconds the body of a request handed to `handle()` may take to
   * arrive whole (408 past it): for a program's own server, which times
   * no body (a listener reads each body within its `bodyTimeout` first).
   * 0 for no limit.
   * @default {60000}
   */
  bodyTimeout?: number;
  /** The most transports open at once (`open` then gets 503); 0 for no limit. @default {0} */
  maxTransports?: number;
  /**
   * The most open at once from one address (an IPv6 /64; `open` then gets 429); 0 for no
   * limit (behind a reverse proxy every client has its address). @default {16}
   */
  maxTransportsPerSource?: number;
  /**
   * Origins allowed to use long-poll, as globs where `*` stands for any
   * characters but `/` (as for WebSocket). A request with another `Origin`
   * gets 403 without CORS headers; one without `Origin` (not from a
   * browser) is allowed; only allowed origins are echoed with
   * `Access-Control-Allow-Credentials`. Empty or absent: any origin (a
   * listener passes its WebSocket `allowedOrigins` when this is absent).
   */
  allowedOrigins?: string[];
  /** How the router treats each transport (outbound limits, HELLO timeout). */
  attach?: AttachOptions;
  /** Where refusals and messages that cannot be encoded are logged. */
  log?: TransportLog;
  /**
   * Under `cloverleaf --workers`: the relay between the workers and this
   * service's name on it (the same in every worker). Transport IDs then
   * carry this worker's number, and a request for another worker's
   * transport is passed on to that worker (see `relay.ts`).
   */
  relay?: { readonly via: LongPollRelay; readonly name: string };
}

/** What the listener knows of a request besides the request itself ({@linkcode LongPollService.handle}). */
export interface LongPollRequestOptions {
  /** What {@linkcode LongPollService.admit} returned for it: a `send`'s turn, released once answered. */
  admission?: HttpAdmission | undefined;
  /**
   * Aborts when the request's connection closes: a held `receive` then
   * ends without taking a message. Not `request.signal` under
   * `Deno.serve`, which prints a warning when touched.
   */
  closed?: AbortSignal | undefined;
}
