/**
 * The options of a `WebSocketPeer` (`link.ts`), and the frame caches a
 * server-side peer shares with the others of its kind.
 *
 * @module
 */

import type { Serializer, TransportInfo, TransportLog } from "../../wamp/mod.ts";
import { type FrameCache, frameCache } from "../stream/encode.ts";
import type { PerMessageDeflate } from "./permessage_deflate.ts";

/** Options for a `WebSocketPeer`. */
export interface WebSocketPeerOptions {
  /**
   * Which end this is: a server reads masked frames and sends unmasked
   * ones, a client the other way round.
   */
  role: "server" | "client";
  /** The negotiated serializer (JSON travels in text frames, the others in binary frames). */
  serializer: Serializer;
  /**
   * Whether the subprotocol is the serializer's batched variant: the
   * messages sent in one turn of the event loop go out as one WebSocket
   * message. @default {false}
   */
  batched?: boolean;
  /** Transport details for the WAMP end. */
  info: TransportInfo;
  /**
   * The largest incoming message, in bytes, before and after inflating;
   * a larger one closes the connection with 1009. On the server side also
   * the largest message sent: `send()` throws `MessageTooLargeError` for
   * a larger one (the router never sends what it would not accept).
   * @default {16777216}
   */
  maxMessageSize?: number;
  /** permessage-deflate, when negotiated. */
  deflate?: PerMessageDeflate | undefined;
  /**
   * Milliseconds without anything received after which a ping is sent
   * (0: never). @default {0}
   */
  pingInterval?: number;
  /**
   * Milliseconds to wait for anything (a pong or data) after a ping
   * before closing with 1001. @default {10000}
   */
  pingTimeout?: number;
  /** Where to log protocol errors and timeouts. */
  log?: TransportLog | undefined;
}

/**
 * The frames a server-side peer shares for fan-out with the others on its
 * serializer and framing: plain, and compressed with its deflate settings.
 * A batched link's frames are one-message batches (its large messages: see
 * `WebSocketPeer.send`). A client's frames are masked: none.
 *
 * @param options The peer's options.
 * @returns The caches.
 */
export function sharedFrames(
  options: WebSocketPeerOptions,
): { plain?: FrameCache; deflated?: FrameCache } {
  if (options.role === "client") return {};
  const framing = options.batched ? "websocket/batched" : "websocket";
  const d = options.deflate;
  return {
    plain: frameCache(options.serializer, framing),
    ...(d === undefined ? {} : {
      deflated: frameCache(options.serializer, `${framing}/deflate/${d.level}/${d.windowBits}`),
    }),
  };
}
