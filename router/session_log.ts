/**
 * What the router logs about sessions, bounded so that clients cannot flood
 * the log: joins and leaves at `info`, one line each while they are few,
 * above a rate (joins and leaves per second) one summary line per second
 * instead; and the lines a client causes at will (a failed login, a
 * protocol violation: any line with an `event` field), at most
 * {@linkcode EVENT_LOG_LIMIT} of a kind per source address and
 * {@linkcode EVENT_LOG_KIND_LIMIT} of a kind in all per
 * {@linkcode EVENT_LOG_INTERVAL}, then one line saying how many more there
 * were and from where most came. Per source, so that one noisy client does
 * not hide another's attempts.
 *
 * @module
 */

import type { LogFields, Logger, LogLevel } from "../wamp/log.ts";
import type { SessionInfo } from "./core/types.ts";
import { sourceOf } from "../wamp/address.ts";
import { cut } from "../wamp/preview.ts";

/** The default rate above which joins and leaves are summed up. */
export const SESSION_LOG_RATE = 20;

/** Lines of one `event` kind from one source written per {@linkcode EVENT_LOG_INTERVAL}. */
export const EVENT_LOG_LIMIT = 10;

/** Lines of one `event` kind written in all per {@linkcode EVENT_LOG_INTERVAL}; the rest are counted. */
export const EVENT_LOG_KIND_LIMIT = 50;

/** Sources a window tells apart; further ones share one count (their lines still count in all). */
const MAX_SOURCES = 256;

/** Sources named in a window's summary line, most lines first. */
const NAMED_SOURCES = 5;

/** The window of {@linkcode EVENT_LOG_LIMIT}, in milliseconds. */
export const EVENT_LOG_INTERVAL = 10_000;

/** One `event` kind's window: when it started, lines in it (in all, by source), lines not written. */
interface EventWindow {
  readonly start: number;
  readonly level: LogLevel;
  lines: number;
  suppressed: number;
  /** Lines by source (written and not). */
  readonly sources: Map<string, number>;
  /** Lines not written, by source. */
  readonly suppressedBy: Map<string, number>;
  timer?: ReturnType<typeof setTimeout>;
}

/** Logs joins and leaves, summed up above a rate, and limits lines per `event` kind. */
export class SessionLog {
  #log: Logger;
  #rate: number;
  #eventLimit: number;
  #kindLimit: number;
  #eventInterval: number;
  #events = new Map<string, EventWindow>();
  /** Start of the current one-second window (ms), and the joins and leaves in it. */
  #windowStart = 0;
  #inWindow = 0;
  /** Joins and leaves counted but not logged one by one in the current window. */
  #joined = 0;
  #left = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Creates the log.
   *
   * @param log Where lines go.
   * @param rate Joins and leaves per second logged one by one; past it, a
   * summary each second (0: always summed up).
   * @param eventLimit Lines of one `event` kind from one source per `eventInterval`.
   * @param eventInterval The window of `eventLimit`, in milliseconds.
   * @param kindLimit Lines of one `event` kind in all per `eventInterval`.
   */
  constructor(
    log: Logger,
    rate: number = SESSION_LOG_RATE,
    eventLimit = EVENT_LOG_LIMIT,
    eventInterval = EVENT_LOG_INTERVAL,
    kindLimit = Math.max(eventLimit, EVENT_LOG_KIND_LIMIT),
  ) {
    this.#log = log;
    this.#rate = rate;
    this.#eventLimit = eventLimit;
    this.#kindLimit = kindLimit;
    this.#eventInterval = eventInterval;
  }

  /**
   * The logger to hand to sessions: lines with an `event` field (a kind a
   * client can cause at will, e.g. `authentication_failed`) are written at
   * most `eventLimit` times per `eventInterval`, kind and source address
   * (the `peer` field's host), and `kindLimit` times per kind, then counted,
   * and the count is written when the window ends; other lines pass through.
   */
  readonly log: Logger = (level, message, fields) => {
    const kind = fields?.event;
    if (kind === undefined) return this.#log(level, message, fields);
    const now = Date.now();
    const last = this.#events.get(kind);
    if (last !== undefined && now - last.start >= this.#eventInterval) this.#endWindow(kind, last);
    let window = this.#events.get(kind);
    if (window === undefined) {
      window = {
        start: now,
        level,
        lines: 0,
        suppressed: 0,
        sources: new Map(),
        suppressedBy: new Map(),
      };
      this.#events.set(kind, window);
    }
    const source = lineSource(fields!.peer, window.sources);
    const fromSource = (window.sources.get(source) ?? 0) + 1;
    window.sources.set(source, fromSource);
    if (fromSource <= this.#eventLimit && ++window.lines <= this.#kindLimit) {
      return this.#log(level, clip(message), clipFields(fields!));
    }
    window.suppressed++;
    window.suppressedBy.set(source, (window.suppressedBy.get(source) ?? 0) + 1);
    window.timer ??= setTimeout(
      () => this.#endWindow(kind, window),
      window.start + this.#eventInterval - now,
    );
  };

  /**
   * A session joined a realm.
   *
   * @param info The session.
   * @param peer Its remote address, when known.
   */
  joined(info: SessionInfo, peer?: string): void {
    if (this.#count()) {
      this.#log("info", `Session ${info.id} joined realm "${info.realm}" as ${info.authid}`, {
        realm: info.realm,
        session: info.id,
        authid: info.authid,
        authrole: info.authrole,
        method: info.authmethod,
        transport: info.transport,
        peer,
      });
    } else this.#joined++;
  }

  /**
   * A session left its realm.
   *
   * @param info The session.
   */
  left(info: SessionInfo): void {
    if (this.#count()) {
      this.#log("info", `Session ${info.id} left realm "${info.realm}"`, {
        realm: info.realm,
        session: info.id,
        authid: info.authid,
        authrole: info.authrole,
        transport: info.transport,
      });
    } else this.#left++;
  }

  /** Writes the summaries of what was not logged one by one, if any (the router closes). */
  flush(): void {
    for (const [kind, window] of this.#events) this.#endWindow(kind, window);
    this.#flushJoins();
  }

  /** Writes the join/leave summary of the last second, if any (event windows run on). */
  #flushJoins(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const joined = this.#joined, left = this.#left;
    if (joined === 0 && left === 0) return;
    this.#joined = this.#left = 0;
    this.#log(
      "info",
      `${joined} sessions joined, ${left} left in the last second (over ${this.#rate}/s: summed up)`,
      { joined, left },
    );
  }

  /** An `event` kind's window is over: how many lines were not written, if any. */
  #endWindow(kind: string, window: EventWindow): void {
    clearTimeout(window.timer);
    if (this.#events.get(kind) === window) this.#events.delete(kind);
    const { suppressed } = window;
    if (suppressed === 0) return;
    const top = [...window.suppressedBy].filter(([source]) => source !== "")
      .sort((a, b) => b[1] - a[1]).slice(0, NAMED_SOURCES)
      .map(([source, n]) => `${source} (${n})`).join(", ");
    const fields: LogFields = top === ""
      ? { event: kind, suppressed }
      : { event: kind, suppressed, sources: top };
    const seconds = this.#eventInterval / 1000;
    const limits = `over ${this.#eventLimit} per source or ${this.#kindLimit} in ${seconds} s`;
    const from = top === "" ? "" : `; most from ${top}`;
    this.#log(
      window.level,
      `${suppressed} more "${kind}" lines suppressed (${limits})${from}`,
      fields,
    );
  }

  /** Counts one join or leave; true when it is logged one by one. */
  #count(): boolean {
    const now = Date.now();
    if (now - this.#windowStart >= 1000) {
      this.#windowStart = now;
      this.#inWindow = 0;
    }
    if (++this.#inWindow <= this.#rate) return true;
    this.#timer ??= setTimeout(() => this.#flushJoins(), 1000 - (now - this.#windowStart));
    return false;
  }
}

/**
 * Where a line came from: its `peer` field's source (`wamp/address.ts`), so
 * that one client's connections count as one; "" without a peer, and
 * "other" past {@linkcode MAX_SOURCES} sources in a window.
 */
function lineSource(peer: unknown, sources: ReadonlyMap<string, number>): string {
  if (typeof peer !== "string") return "";
  const source = clip(sourceOf(peer));
  return sources.has(source) || sources.size < MAX_SOURCES ? source : "other";
}

/** The longest text a line a client can cause at will carries in one place. */
const MAX_TEXT = 200;

/** A peer's text, cut short: a limit on lines is a limit on bytes only with this. */
function clip(text: string): string {
  return cut(text, MAX_TEXT);
}

/** The fields of such a line, their strings cut short. */
function clipFields(fields: LogFields): LogFields {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    out[key] = typeof value === "string" ? clip(value) : value;
  }
  return out as LogFields;
}
