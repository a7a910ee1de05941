/**
 * TLS channel binding, client side (spec "TLS Channel Binding"): the
 * `tls-unique` value of the connection a cryptosign or wamp-scram login is
 * bound to.
 *
 * @module
 */

import { ChannelBinding } from "../../wamp/auth/auth_method.ts";
import type { TransportInfo } from "../../wamp/mod.ts";

/** A channel binding the client asked for, with the transport's channel ID. */
export interface BoundChannel {
  /** The binding type (`tls-unique`). */
  readonly type: ChannelBinding;
  /** The connection's channel ID (32 bytes). */
  readonly channelId: Uint8Array;
}

/**
 * Reads the transport's channel ID for a binding, if one is asked for.
 *
 * @param type The binding asked for, or nothing.
 * @param transport The transport the join runs over.
 * @returns The binding, or `undefined` when none is asked for.
 * @throws {TypeError} When the binding is unsupported or the transport has no TLS channel ID.
 */
export function bindChannel(
  type: ChannelBinding | null | undefined,
  transport: TransportInfo | undefined,
): BoundChannel | undefined {
  if (type === undefined || type === null) return undefined;
  if (type !== ChannelBinding.TLS_UNIQUE) {
    throw new TypeError(`Cannot bind to the channel: "${type}" is not supported`);
  }
  const channelId = transport?.tls?.channelId;
  if (channelId === undefined || channelId.length !== 32) {
    throw new TypeError(
      `Cannot bind to the channel with "${type}": the ${
        transport?.type ?? "unknown"
      } transport has no TLS channel ID`,
    );
  }
  return { type, channelId };
}
