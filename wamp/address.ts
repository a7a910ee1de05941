/**
 * Peer addresses as the transports name them (`tcp4:1.2.3.4:5678`,
 * `tcp6:[::1]:5678`, `unix`), for what is counted per source: the log's
 * limits, long-poll transports.
 *
 * @module
 */

/**
 * A peer as given by a program's own server: `""` names no address, as
 * none does (neither is counted per source).
 *
 * @param peer The peer, `""`, or undefined.
 * @returns The peer, or undefined for none.
 *
 * @example
 * ```ts
 * import { knownPeer } from "./address.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(knownPeer(""), undefined);
 * equal(knownPeer("tcp4:10.0.0.7:51234"), "tcp4:10.0.0.7:51234");
 * ```
 */
export function knownPeer(peer: string | undefined): string | undefined {
  return peer === "" ? undefined : peer;
}

/**
 * Where a connection comes from, for per-source limits: its peer address
 * without the port, an IPv6 address as its /64 (one host commonly holds a
 * whole /64), except an IPv4 client on an IPv6 socket (`::ffff:1.2.3.4`),
 * which is its IPv4 address, the same source as on an IPv4 socket (a
 * client of two listeners, one dual-stack, counts once).
 *
 * @param peer A peer as a wire names it: `tcp4:1.2.3.4:5678`, `tcp6:[::1]:5678`, `unix`.
 * @returns The source, e.g. `tcp4:1.2.3.4` or `tcp6:[2001:db8:0:1::/64]`.
 *
 * @example
 * ```ts
 * import { sourceOf } from "@cloverleaf/wamp/wamp";
 * import { equal } from "node:assert/strict";
 *
 * equal(sourceOf("tcp4:10.0.0.7:51234"), "tcp4:10.0.0.7");
 * equal(sourceOf("tcp6:[2001:db8:0:1:aa::5]:443"), "tcp6:[2001:db8:0:1::/64]");
 * equal(sourceOf("tcp6:[2001:0DB8:0000:0001::6]:443"), "tcp6:[2001:db8:0:1::/64]");
 * equal(sourceOf("tcp6:[::1]:443"), "tcp6:[0:0:0:0::/64]");
 * equal(sourceOf("tcp6:[::ffff:10.0.0.7]:443"), "tcp4:10.0.0.7");
 * equal(sourceOf("unix"), "unix");
 * ```
 */
export function sourceOf(peer: string): string {
  const host = peer.replace(/:\d+$/, "");
  const v6 = /^(tcp6:)?\[([0-9a-f:.]+)\]$/i.exec(host);
  if (v6 === null) return host;
  const [, prefix = "", address] = v6;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address!)?.[1];
  if (mapped !== undefined) return prefix === "" ? mapped : `tcp4:${mapped}`;
  const [head = "", tail] = address!.split("::");
  const groups = head === "" ? [] : head.split(":");
  if (tail !== undefined) {
    const rest = tail === "" ? [] : tail.split(":");
    while (groups.length + rest.length < 8) groups.push("0");
    groups.push(...rest);
  }
  const first4 = groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, "").toLowerCase());
  return `${prefix}[${first4.join(":")}::/64]`;
}
