/**
 * What the service's config asks of addresses and paths that only
 * listening would otherwise find out: two listeners on one port, the admin
 * listener on a listener's port, and a bridge path that is a path a
 * listener already serves (a WebSocket path, or the long-poll path or
 * below it). Each is a config error naming the key (or flag) that comes
 * second, so `cloverleaf check` reports it and startup stops with exit 2.
 *
 * @module
 */

import type { ConfigErrors } from "../config/mod.ts";
import { authority } from "../transports/address.ts";
import type { ResolvedListenerOptions } from "../transports/config.ts";
import { servesPath } from "../transports/longpoll/http.ts";

/** A listener, an admin listener or a bridge path, with the key or flag it came from. */
export interface Keyed<T> {
  /** `listeners[1]`, `admin`, `bridges[0]`, or a flag (`--ws`, `--admin`, `--http-bridge`). */
  readonly at: string;
  readonly value: T;
}

/** The host in one spelling (`::0` and `0:0::0` are `::`), lower case. */
function canonicalHost(host: string): string {
  try {
    const name = new URL(`http://${host.includes(":") ? `[${host}]` : host}/`).hostname;
    return name.startsWith("[") ? name.slice(1, -1) : name;
  } catch {
    return host.toLowerCase();
  }
}

const IPV4 = /^\d+\.\d+\.\d+\.\d+$/;

/**
 * Whether two hosts certainly share a port's address: the same host, `::`
 * (dual-stack: every address, IPv4 included) with any, `0.0.0.0` with any
 * IPv4 address. A hostname other than the same one is not judged (it may
 * resolve to either family).
 */
function overlap(a: string, b: string): boolean {
  if (a === b || a === "::" || b === "::") return true;
  return (a === "0.0.0.0" && IPV4.test(b)) || (b === "0.0.0.0" && IPV4.test(a));
}

/** The key a conflict is reported on, and its message. */
function report(at: string, key: string, value: string, reason: string): [string, string] {
  // A flag's path is the flag itself; a config key's is below its object.
  return at.startsWith("-")
    ? [at, `Invalid ${at} ${JSON.stringify(value)}: ${reason}`]
    : [`${at}.${key}`, `Invalid config "${at}.${key}": ${reason}`];
}

/**
 * Records, for each listener and the admin listener, the one listening
 * earlier on the same port (of an overlapping host) or the same Unix
 * socket. Port 0 (any free port) never conflicts.
 *
 * @param listeners The listeners in the order they start, with their keys.
 * @param admin The admin listener, when there is one, with its key.
 * @param errors Where the conflicts are recorded.
 */
export function checkAddresses(
  listeners: readonly Keyed<ResolvedListenerOptions>[],
  admin: Keyed<{ host: string; port: number }> | undefined,
  errors: ConfigErrors,
): void {
  const taken: { at: string; host: string; port: number; unix?: string }[] = [];
  const claim = (at: string, address: { host: string; port: number; unix?: string }) => {
    const host = canonicalHost(address.host);
    const { port, unix } = address;
    const other = unix === undefined
      ? port === 0
        ? undefined
        : taken.find((t) => t.unix === undefined && t.port === port && overlap(t.host, host))
      : taken.find((t) => t.unix === unix);
    if (other !== undefined) {
      const where = other.unix ?? authority(other.host, other.port);
      const mine = unix ?? authority(address.host, port);
      const [key, message] = report(
        at,
        unix === undefined ? "port" : "unix",
        mine,
        `${mine} is already taken by ${other.at} (${where})`,
      );
      errors.add(key, message);
    }
    taken.push({ at, host, port, ...(unix === undefined ? {} : { unix }) });
  };
  for (const { at, value } of listeners) claim(at, value);
  if (admin !== undefined) claim(admin.at, admin.value);
}

/**
 * Checks that every listener can be shared by `workers` processes: a TCP
 * port given in advance (long-poll included: the workers relay its
 * requests to the worker holding the transport).
 *
 * @param listeners The listeners.
 * @param n The number of workers (more than 1).
 * @param errors Where the listeners that cannot be shared are recorded.
 */
export function checkShareable(
  listeners: readonly ResolvedListenerOptions[],
  n: number,
  errors: ConfigErrors,
): void {
  for (const listener of listeners) {
    if (listener.unix !== undefined) {
      errors.add(
        "workers",
        `Invalid config "workers": ${n} workers cannot share the Unix socket listener ` +
          `${JSON.stringify(listener.unix)}: listen on a TCP port`,
      );
    } else if (listener.port === 0) {
      errors.add(
        "workers",
        `Invalid config "workers": ${n} workers cannot share port 0 ` +
          `(each would get its own): give the listener on ${listener.host} a port`,
      );
    }
  }
}
/**
 * Records each bridge path that a listener serving the bridge would answer
 * otherwise: one of a WebSocket listener's `paths`, or the long-poll
 * path or a path below it. Such a bridge path would take the endpoint over
 * (WebSocket clients answered 405, long-poll clients refused).
 *
 * @param listeners The listeners, with their keys (rawsocket ones serve no bridge).
 * @param bridges The bridge paths, with their keys.
 * @param errors Where the conflicts are recorded.
 */
export function checkBridgePaths(
  listeners: readonly Keyed<ResolvedListenerOptions>[],
  bridges: readonly Keyed<string>[],
  errors: ConfigErrors,
): void {
  for (const { at, value: path } of bridges) {
    for (const { at: listenerAt, value: listener } of listeners) {
      const serves = (type: string) => listener.type === "universal" || listener.type === type;
      const lp = listener.longpoll.path.replace(/\/+$/, "");
      const reason = serves("websocket") && listener.paths.includes(path)
        ? `${path} is a WebSocket path of ${listenerAt}`
        : serves("longpoll") && servesPath(lp, path)
        ? `${path} is ${path === lp ? "" : "under "}the long-poll path ${
          lp || "/"
        } of ${listenerAt}`
        : undefined;
      if (reason === undefined) continue;
      const [key, message] = report(at, "path", path, `${reason}: choose another path`);
      errors.add(key, message);
      break;
    }
  }
}
