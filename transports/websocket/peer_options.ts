/**
 * The options of a `WebSocketPeer` (`link.ts`).
 *
 * @module
 */

import type { Serializer, TransportInfo, TransportLog } from "../../wamp/mod.ts";
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
   * a larger one closes the connection with 1009. @default {16777216}
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
