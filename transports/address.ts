/**
 * Listener addresses: `host:port` as the `--listen`/`--ws`/`--rawsocket`
 * flags give it, and which hosts a listener accepts.
 *
 * @module
 */

import { ConfigError } from "../config/mod.ts";

/** A host and port, as parsed by {@linkcode parseAddress}. */
export interface Address {
  /** An IPv4 or IPv6 literal (without brackets) or a hostname. */
  readonly host: string;
  /** The TCP port, 0 to 65535. */
  readonly port: number;
}

/**
 * Parses a `host:port` address, as given to the `--ws` flag. IPv6 literals
 * go in brackets (`[::1]:8080`); the brackets are not part of the result.
 *
 * @param text The address.
 * @param what The flag or key it came from, for error messages (`--ws`).
 * @returns The host and port.
 * @throws {ConfigError} With a one-line message naming `what`, its `path`.
 *
 * @example
 * ```ts
 * import { parseAddress } from "./address.ts";
 * import { deepEqual, throws } from "node:assert/strict";
 *
 * deepEqual(parseAddress("0.0.0.0:8888", "--ws"), { host: "0.0.0.0", port: 8888 });
 * deepEqual(parseAddress("[::1]:8080", "--ws"), { host: "::1", port: 8080 });
 * throws(() => parseAddress("localhost", "--ws"), /--ws/);
 * throws(() => parseAddress("::1:8080", "--ws"), /in brackets/);
 * ```
 */
export function parseAddress(text: string, what: string): Address {
  const fail: (why: string) => never = (why) => {
    throw new ConfigError(what, `Invalid ${what} address ${JSON.stringify(text)}: ${why}`);
  };
  let host: string;
  let portText: string;
  if (text.startsWith("[")) {
    const bracketed = /^\[([^\]]*)\]:(.*)$/.exec(text);
    if (bracketed === null) fail("expected [ipv6]:port");
    host = bracketed[1]!;
    portText = bracketed[2]!;
    if (!isIPv6(host)) fail("expected an IPv6 address in brackets");
  } else {
    const colon = text.lastIndexOf(":");
    if (colon < 0) fail("expected host:port, or [ipv6]:port");
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (host.includes(":")) {
      fail("put an IPv6 address in brackets, as in [::1]:8080");
    }
    if (!isValidHost(host)) {
      fail("expected an IPv4 address or a hostname before the port");
    }
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    fail("expected a port from 0 to 65535 after the colon");
  }
  return { host, port: Number(portText) };
}

/**
 * Whether `host` is an IPv4 literal, an IPv6 literal (without brackets) or
 * a hostname as RFC 1123 allows.
 *
 * @param host The host.
 * @returns Whether it is one.
 *
 * @example
 * ```ts
 * import { isValidHost } from "./address.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(isValidHost("example.com"), true);
 * equal(isValidHost("::1"), true);
 * equal(isValidHost("1.2.3.256"), false);
 * ```
 */
export function isValidHost(host: string): boolean {
  if (host.includes(":")) return isIPv6(host);
  if (/^[\d.]+$/.test(host)) return isIPv4(host);
  if (host.length > 253) return false;
  const labels = host.endsWith(".") ? host.slice(0, -1).split(".") : host.split(".");
  // A hostname's last label is never all digits (that would be an IPv4 typo).
  if (/^\d+$/.test(labels.at(-1) ?? "")) return false;
  return labels.every((l) => /^[a-z\d]([a-z\d-]{0,61}[a-z\d])?$/i.test(l));
}

function isIPv4(host: string): boolean {
  const parts = host.split(".");
  return parts.length === 4 &&
    parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}

function isIPv6(host: string): boolean {
  if (!/^[\da-f:.]+$/i.test(host) || !host.includes(":")) return false;
  try {
    new URL(`http://[${host}]/`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether an address is a loopback address (127.0.0.0/8, ::1, IPv4-mapped
 * 127.x).
 *
 * @param address A peer's address, as a socket reports it.
 * @returns Whether it is on loopback.
 */
export function isLoopback(address: string): boolean {
  const host = address.startsWith("::ffff:") ? address.slice(7) : address;
  return host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * The `host:port` of an address as it goes in a URL: an IPv6 host in
 * brackets.
 *
 * @param host A hostname or IP address.
 * @param port The port.
 * @returns The authority.
 *
 * @example
 * ```ts
 * import { authority } from "./address.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(authority("::1", 8080), "[::1]:8080");
 * equal(authority("127.0.0.1", 8080), "127.0.0.1:8080");
 * ```
 */
export function authority(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

export { sourceOf } from "../wamp/address.ts";
