/**
 * Failed logins per source address (`RouterOptions.failedLogins`): at most `perSource` failed
 * authentications from one source in any `window` milliseconds. A step of a handshake (HELLO,
 * AUTHENTICATE, a dynamic authenticator asked) holds one of its source's `perSource` places while
 * it runs (until its work really ends, also when the handshake ended first), and its failure takes
 * the place of a failed login. While a source's failures in the window and its steps running fill
 * its places, every step from it gets ABORT `wamp.error.authentication_failed` at once, saying why:
 * no CHALLENGE, no authenticator called, no secret compared.
 *
 * A source is `wamp/address.ts` `sourceOf(TransportInfo.peer)` (an IPv4 address, an IPv6 /64,
 * `unix` for every Unix-socket client); a session without a peer (in-process) is never counted nor
 * refused. The methods that compare no secret a client could guess (`anonymous`; `cookie`, chosen
 * only for a cookie the router knows; `tls`, chosen only for a client certificate the listener
 * verified; `internal`, an identity the transport vouches for) are neither, except that a `tls`
 * step holds a place (it may ask a dynamic authenticator) and is refused while its source's places
 * are all held by steps running. A successful login leaves the count as it is: otherwise one valid
 * account would buy its holder unlimited guesses at the others, `perSource - 1` at a time.
 *
 * Exact: each source keeps the times of its last `perSource` failures; with `n` steps running, it
 * is at the limit while the (`perSource` - `n`)-th newest is younger than `window`. Bounded: at
 * most {@linkcode MAX_SOURCES} sources and {@linkcode MAX_FAILURE_TIMES} times in all; past
 * either, the source whose last failure is the oldest is forgotten, as is any source once its last
 * failure is `window` old. O(1) per step (amortized: a step may forget the sources whose window
 * passed since the last one). The clock is injected; the tracker never reads one itself.
 *
 * @module
 */

import { ConfigObject, type ConfigObjectOptions } from "../../../config/mod.ts";
import { sourceOf } from "../../../wamp/address.ts";
import {
  type AbortMessage,
  ErrorUri,
  type HelloMessage,
  MessageType,
  type TransportInfo,
} from "../../../wamp/mod.ts";
import type { Logger } from "../types.ts";

/** Options for the limit on failed logins per source address (`RouterOptions.failedLogins`). */
export interface FailedLoginOptions {
  /**
   * Failed logins one source address (an IPv4 address, an IPv6 /64) may
   * have in any `window`; then its logins are refused until the oldest of
   * them is `window` old. An integer from 0 to 1000; 0: no limit (behind a
   * reverse proxy every client has the proxy's address).
   * @default {0}
   */
  perSource?: number;
  /**
   * The window, in milliseconds (from 1 to 86400000, a day).
   * @default {60000}
   */
  window?: number;
}

/** {@linkcode FailedLoginOptions} with the defaults filled in. */
export type ResolvedFailedLogins = Required<FailedLoginOptions>;

/** The most failed logins per source a limit may allow. */
export const MAX_PER_SOURCE = 1000;

/** The longest window, in milliseconds: a day. */
export const MAX_WINDOW = 86_400_000;

/** The most sources the tracker holds; past it, the one whose last failure is the oldest goes. */
export const MAX_SOURCES = 65_536;

/** The most failure times the tracker holds in all; past it, the same (full: about 22 MiB in all). */
export const MAX_FAILURE_TIMES = 1 << 20;

/** The methods whose failures neither count nor refuse: they compare nothing a client could guess. */
const UNCOUNTED: ReadonlySet<string> = new Set(["anonymous", "cookie", "tls", "internal"]);

/** Of those, the ones whose steps hold no place either (a `tls` step may ask an authenticator). */
const PLACELESS: ReadonlySet<string> = new Set(["anonymous", "cookie", "internal"]);

/** What the client is told when refused: its address failed `perSource` times in the window. */
export const REFUSED_MESSAGE = "Too many failed logins from this address: try again later";

/** What the client is told when refused while logins from its address are being checked. */
export const CHECKING_MESSAGE =
  "Too many logins from this address failed or are being checked: try again later";

/**
 * Reads `failedLogins`, filling in defaults.
 *
 * @param input The value (unchecked JSON from a file, or `RouterOptions.failedLogins`).
 * @param path Where it came from, for error messages.
 * @param config Collecting mode (the CLI's `check`).
 * @returns The options, with defaults.
 * @throws {ConfigError} Naming the key, e.g. `Invalid config "failedLogins.perSource":
 * expected an integer from 0 to 1000, got -1` (unless collecting).
 *
 * @example
 * ```ts
 * import { resolveFailedLogins } from "./authentication_failures.ts";
 * import { deepEqual, throws } from "node:assert/strict";
 *
 * deepEqual(resolveFailedLogins(undefined), { perSource: 0, window: 60000 });
 * deepEqual(resolveFailedLogins({ perSource: 5 }), { perSource: 5, window: 60000 });
 * throws(() => resolveFailedLogins({ perSource: 5, window: 0 }), /"failedLogins\.window"/);
 * ```
 */
export function resolveFailedLogins(
  input: unknown,
  path = "failedLogins",
  config: ConfigObjectOptions = {},
): ResolvedFailedLogins {
  if (input === undefined) return { perSource: 0, window: 60_000 };
  const c = new ConfigObject(input, path, config);
  const perSource = c.integer("perSource", 0, 0, MAX_PER_SOURCE);
  const window = c.integer("window", 60_000, 1, MAX_WINDOW);
  c.done();
  return { perSource, window };
}

/**
 * One source's last failures: a ring of at most `perSource` times, oldest
 * at `next` once full; and its place in the list of sources by last
 * failure (a linked list: moving a source to its end, or dropping the
 * first, costs the same however many went before).
 */
interface Failures {
  readonly source: string;
  readonly times: number[];
  next: number;
  older: Failures | undefined;
  newer: Failures | undefined;
}

/** What the tracker needs from the router. */
export interface FailureHost {
  /** The clock, in milliseconds (a monotonic one: only differences count). */
  now(): number;
  /** Where refusals are logged (the router's log limits lines with an `event` per source). */
  log?: Logger;
  /** Called for each refused step (the router's metrics). */
  refused?(): void;
}

/** A handshake step, as the log line of its refusal names it. */
export interface LoginStep {
  /** The authmethod in use. */
  readonly method: string;
  /** The session ID being authenticated. */
  readonly session: number;
  /** The HELLO. */
  readonly hello: HelloMessage;
  /** The transport the HELLO came over. */
  readonly transport: TransportInfo;
}

/**
 * The router's count of failed logins per source address.
 *
 * @example Three failures in 400 ms: the source is refused until the first is 400 ms old
 * ```ts
 * import { AuthenticationFailures } from "./authentication_failures.ts";
 * import { equal } from "node:assert/strict";
 *
 * let now = 0;
 * const failures = new AuthenticationFailures({ perSource: 3, window: 400 }, { now: () => now });
 * const peer = "tcp4:192.0.2.7:50000";
 * for (const t of [0, 100, 200]) {
 *   now = t;
 *   equal(failures.refuses("ticket", peer), false);
 *   failures.failed("ticket", peer);
 * }
 * equal(failures.refuses("ticket", "tcp4:192.0.2.7:50001"), true); // the address, any port
 * equal(failures.refuses("anonymous", peer), false);
 * equal(failures.refuses("ticket", "tcp4:192.0.2.8:50000"), false);
 * now = 400;
 * equal(failures.refuses("ticket", peer), false);
 * ```
 */
export class AuthenticationFailures {
  #perSource: number;
  #window: number;
  #host: FailureHost;
  #maxSources: number;
  #maxTimes: number;
  /** By source. */
  #sources = new Map<string, Failures>();
  /** The sources by last failure: the oldest, the newest. */
  #oldest: Failures | undefined;
  #newest: Failures | undefined;
  /** Times held in all. */
  #kept = 0;
  /** Logins being checked, by source (see {@linkcode AuthenticationFailures.begin}). */
  #checking = new Map<string, number>();
  /** Logins being checked in all. */
  #checks = 0;

  /**
   * Creates the tracker.
   *
   * @param options The limit (see {@linkcode resolveFailedLogins}; not checked again here).
   * @param host The clock, where to log refusals, what to call for each.
   * @param bounds The most sources and failure times held (tests make them small).
   */
  constructor(
    options: FailedLoginOptions,
    host: FailureHost,
    bounds: { sources?: number; times?: number } = {},
  ) {
    this.#perSource = options.perSource ?? 0;
    this.#window = options.window ?? 60_000;
    this.#host = host;
    this.#maxSources = bounds.sources ?? MAX_SOURCES;
    this.#maxTimes = bounds.times ?? MAX_FAILURE_TIMES;
  }

  /** How many sources are held. */
  get size(): number {
    return this.#sources.size;
  }

  /** How many steps hold a place ({@linkcode AuthenticationFailures.begin}). */
  get checks(): number {
    return this.#checks;
  }

  /**
   * Records a failed login.
   *
   * @param method The authmethod that failed (an exempt one is not counted).
   * @param peer The transport's peer address (none: not counted).
   */
  failed(method: string, peer: string | undefined): void {
    const source = this.#sourceOf(method, peer);
    if (source === undefined) return;
    const now = this.#host.now();
    this.#forget(now);
    let failures = this.#sources.get(source);
    if (failures === undefined) {
      failures = { source, times: [], next: 0, older: undefined, newer: undefined };
      this.#sources.set(source, failures);
    } else {
      this.#unlink(failures);
    }
    const { times } = failures;
    if (times.length < this.#perSource) {
      times.push(now);
      this.#kept++;
    } else {
      times[failures.next] = now;
      failures.next = (failures.next + 1) % this.#perSource;
    }
    this.#link(failures); // the newest last failure
    while (this.#sources.size > this.#maxSources || this.#kept > this.#maxTimes) {
      this.#drop(this.#oldest!);
    }
  }

  /**
   * Whether a handshake step of `method` from `peer` is refused now: its
   * source's failed logins in the last `window` and its logins being
   * checked ({@linkcode AuthenticationFailures.begin}) make `perSource`
   * (for `tls`, its logins being checked alone).
   *
   * @param method The authmethod in use.
   * @param peer The transport's peer address.
   * @returns Whether to refuse.
   */
  refuses(method: string, peer: string | undefined): boolean {
    const source = this.#sourceOf(method, peer, PLACELESS);
    if (source === undefined) return false;
    return this.#atLimit(source, this.#checking.get(source) ?? 0, !UNCOUNTED.has(method));
  }

  /**
   * Begins a step of a login (one that may check a credential: each is
   * one): the ABORT when its source is at the limit (the refusal logged,
   * at most a few lines per source: the router's log limits lines with an
   * `event`), else `undefined`, the step holding one of its source's
   * `perSource` places until {@linkcode AuthenticationFailures.end}.
   * Without places, one source could have any number of guesses checked
   * at once (a dynamic authenticator answers later): none had failed yet
   * when each began.
   *
   * @param step The step.
   * @returns The ABORT to send instead of going on, or `undefined`.
   */
  begin(step: LoginStep): AbortMessage | undefined {
    const { method, session, hello, transport: { peer } } = step;
    const source = this.#sourceOf(method, peer, PLACELESS);
    if (source === undefined) return undefined;
    const checking = this.#checking.get(source) ?? 0, counted = !UNCOUNTED.has(method);
    if (!this.#atLimit(source, checking, counted)) {
      this.#checking.set(source, checking + 1);
      this.#checks++;
      return undefined;
    }
    this.#host.refused?.();
    const failed = counted && (checking === 0 || this.#atLimit(source, 0));
    const limit = `${this.#perSource} in ${this.#window} ms`;
    const reason = failed
      ? `too many failed logins from ${source} (${limit})`
      : `too many logins from ${source} failed or being checked (${limit}, ${checking} being checked)`;
    this.#host.log?.("warn", `Session ${session}: ${method} login refused: ${reason}`, {
      realm: hello.realm,
      session,
      authid: typeof hello.details.authid === "string" ? hello.details.authid : undefined,
      method,
      transport: step.transport.type,
      peer,
      reason,
      event: "login_refused", // a client can cause it at will: limited by the shell's log
    });
    return {
      type: MessageType.ABORT,
      details: { message: failed ? REFUSED_MESSAGE : CHECKING_MESSAGE },
      reason: ErrorUri.AUTHENTICATION_FAILED,
    };
  }

  /**
   * Whether a step of `method` from `peer` holds a place while it runs (the limit is on, the peer
   * known, the method one that may wait on an authenticator).
   *
   * @param method The authmethod in use.
   * @param peer The transport's peer address.
   * @returns Whether it holds one.
   */
  holds(method: string, peer: string | undefined): boolean {
    return this.#sourceOf(method, peer, PLACELESS) !== undefined;
  }

  /**
   * Ends a step {@linkcode AuthenticationFailures.begin} let go on: its
   * place is free again, and it counts as a failed login when `failed`.
   *
   * @param method The authmethod in use (as it began).
   * @param peer The transport's peer address.
   * @param failed Whether the login failed.
   */
  end(method: string, peer: string | undefined, failed: boolean): void {
    const source = this.#sourceOf(method, peer, PLACELESS);
    if (source === undefined) return;
    const checking = this.#checking.get(source) ?? 0;
    if (checking > 1) this.#checking.set(source, checking - 1);
    else this.#checking.delete(source);
    if (checking > 0) this.#checks--;
    if (failed) this.failed(method, peer);
  }

  /** The source a step of `method` from `peer` counts against: none when off, in-process or exempt. */
  #sourceOf(method: string, peer: string | undefined, exempt = UNCOUNTED): string | undefined {
    if (this.#perSource > 0 && peer !== undefined && !exempt.has(method)) return sourceOf(peer);
  }

  /** Whether a source with `checking` logins being checked is at the limit now (`counted`: its failures too). */
  #atLimit(source: string, checking: number, counted = true): boolean {
    const now = this.#host.now();
    this.#forget(now);
    const wanted = this.#perSource - checking; // failures in the window that make the limit
    if (wanted <= 0 || !counted) return wanted <= 0;
    const failures = this.#sources.get(source);
    if (failures === undefined || failures.times.length < wanted) return false;
    const { times, next } = failures; // in time order from `next`: the wanted-th newest
    return now - times[(next + times.length - wanted) % times.length]! < this.#window;
  }

  /** Forgets the sources whose last failure is `window` old (they come first). */
  #forget(now: number): void {
    for (let oldest = this.#oldest; oldest !== undefined; oldest = this.#oldest) {
      const { times, next } = oldest;
      if (now - times[(next + times.length - 1) % times.length]! < this.#window) return;
      this.#drop(oldest);
    }
  }

  #drop(failures: Failures): void {
    this.#unlink(failures);
    this.#sources.delete(failures.source);
    this.#kept -= failures.times.length;
  }

  /** Puts a source last in the list. */
  #link(failures: Failures): void {
    failures.older = this.#newest;
    failures.newer = undefined;
    if (this.#newest === undefined) this.#oldest = failures;
    else this.#newest.newer = failures;
    this.#newest = failures;
  }

  /** Takes a source out of the list. */
  #unlink(failures: Failures): void {
    const { older, newer } = failures;
    if (older === undefined) this.#oldest = newer;
    else older.newer = newer;
    if (newer === undefined) this.#newest = older;
    else newer.older = older;
    failures.older = failures.newer = undefined;
  }
}
