/**
 * What the dashboard shows, as one JSON value sent every second: totals
 * (the page turns them into rates), the realms with most sessions (at
 * most {@linkcode MAX_REALM_ROWS}, with the total), the sessions table (at
 * most {@linkcode MAX_SESSION_ROWS} rows, with the total), the top topics and
 * procedures by rate, recent errors and authentication failures, the
 * listeners, the process and the cluster.
 *
 * @module
 */

import denoConfig from "../deno.json" with { type: "json" };
import { MessageType } from "../wamp/mod.ts";
import { clusterNodeOf, realmOf, type Router } from "../router/router.ts";
import {
  type MeteredSession,
  metricsOf,
  type Recent,
  type RecentEntry,
} from "../router/metrics.ts";
import { listenerName, type MetricSources } from "./collect.ts";

/** The most session rows one snapshot carries. */
export const MAX_SESSION_ROWS = 200;
/** The most realm rows one snapshot carries (those with most sessions). */
export const MAX_REALM_ROWS = 100;

/** One row of the realms table. */
export interface RealmRow {
  /** The realm's name. */
  name: string;
  /** Sessions joined. */
  sessions: number;
  /** Subscriptions. */
  subscriptions: number;
  /** Registrations. */
  registrations: number;
}

/** One row of the sessions table. */
export interface SessionRow {
  /** Session ID. */
  id: number;
  /** Realm. */
  realm: string;
  /** Authenticated identity. */
  authid: string;
  /** Role. */
  authrole: string;
  /** Authentication method. */
  authmethod: string;
  /** Transport kind. */
  transport: string;
  /** Serializer. */
  serializer: string;
  /** The client's address. */
  peer: string;
  /** Seconds since it joined. */
  age: number;
  /** Bytes queued to it. */
  backlog: number;
  /** EVENTs dropped for it. */
  dropped: number;
}

/** The dashboard's data at one moment. */
export interface Snapshot {
  /** When (epoch milliseconds). */
  time: number;
  /** Seconds the admin listener has run. */
  uptime: number;
  /** The router's version. */
  version: string;
  /** Counters since start. */
  totals: {
    messagesIn: number;
    messagesOut: number;
    bytesIn: number;
    bytesOut: number;
    publications: number;
    events: number;
    eventsDropped: number;
    calls: { result: number; error: number; timeout: number; canceled: number };
    authFailures: number;
    authorizationDenials: number;
  };
  /** The realms with most sessions, with their subscriptions and registrations, and how many there are. */
  realms: { total: number; rows: RealmRow[] };
  /** The sessions table. */
  sessions: { total: number; rows: SessionRow[] };
  /** Topics by PUBLISHes per second (only while watched). */
  topics: [string, number][];
  /** Procedures by CALLs per second. */
  procedures: [string, number][];
  /** Recent errors, aborts, authentication failures, newest first. */
  recent: RecentEntry[];
  /** The listeners. */
  listeners: { name: string; connections: number; accepted: number; refused: number }[];
  /** The process. */
  process: { rss: number; heapUsed: number; lag: number };
  /** The cluster, when clustered. */
  cluster: { node: string; connected: boolean; nodes: string[] } | null;
}

/**
 * Takes a snapshot.
 *
 * @param sources The router, listeners and lag probe.
 * @param rates Topics and procedures by rate, from the last window.
 * @param startedAt When the admin listener started (epoch milliseconds).
 * @returns The snapshot.
 */
export function snapshot(
  sources: MetricSources,
  rates: { topics: [string, number][]; procedures: [string, number][] },
  startedAt: number,
): Snapshot {
  const { router, listeners } = sources;
  const m = metricsOf(router);
  const now = Date.now();
  const rows = sessionRows(m.sessions, now);
  let bytesIn = 0;
  let bytesOut = 0;
  const listenerRows = listeners.map((listener) => {
    const stats = listener.stats();
    bytesIn += stats.bytesIn;
    bytesOut += stats.bytesOut;
    return {
      name: listenerName(listener),
      connections: listener.connections(),
      accepted: stats.accepted,
      refused: stats.refused,
    };
  });
  let authFailures = 0;
  for (const [, n] of m.authFailures.entries()) authFailures += n;
  const memory = Deno.memoryUsage();
  const node = clusterNodeOf(router);
  return {
    time: now,
    uptime: Math.round((now - startedAt) / 1000),
    version: denoConfig.version,
    totals: {
      messagesIn: sum(m.messagesIn),
      messagesOut: sum(m.messagesOut),
      bytesIn,
      bytesOut,
      publications: m.messagesIn[MessageType.PUBLISH]!,
      events: m.messagesOut[MessageType.EVENT]!,
      eventsDropped: m.eventsDropped,
      calls: { ...m.calls },
      authFailures,
      authorizationDenials: m.authorizationDenials,
    },
    realms: realmTable(router),
    sessions: { total: m.sessions.size, rows },
    topics: rates.topics,
    procedures: rates.procedures,
    recent: recent(m.recent),
    listeners: listenerRows,
    process: { rss: memory.rss, heapUsed: memory.heapUsed, lag: sources.lag() },
    cluster: node === undefined
      ? null
      : { node: node.id, connected: node.connected, nodes: node.nodes() },
  };
}

/** A session in trouble, with what ranks it. */
interface Ranked {
  readonly session: MeteredSession;
  readonly dropped: number;
  readonly backlog: number;
}

/** Whether `a` ranks before `b`: more dropped EVENTs, then a larger backlog. */
function before(a: Ranked, b: Ranked): boolean {
  return a.dropped > b.dropped || (a.dropped === b.dropped && a.backlog > b.backlog);
}

/**
 * The sessions table: sessions in trouble (dropped EVENTs, a backlog)
 * first, most dropped then largest backlog first, then the others in join
 * order; at most `max` rows. Each session is looked at once and only the
 * best `max` in trouble are kept in order, so the cost does not grow with
 * how many sessions ever dropped an EVENT beyond one pass over them.
 *
 * @param sessions The router's sessions, in join order.
 * @param now The time (epoch milliseconds), for each row's age.
 * @param max The most rows.
 * @returns The rows.
 */
export function sessionRows(
  sessions: Iterable<MeteredSession>,
  now: number,
  max: number = MAX_SESSION_ROWS,
): SessionRow[] {
  const troubled: Ranked[] = [];
  const others: MeteredSession[] = [];
  for (const session of sessions) {
    const ranked = { session, dropped: session.droppedEvents, backlog: session.peer.backlog() };
    if (ranked.dropped === 0 && ranked.backlog === 0) {
      if (others.length < max) others.push(session);
      continue;
    }
    rank(troubled, ranked, max, before);
  }
  const rows = troubled.map(({ session, backlog }) => row(session, backlog, now));
  for (const session of others) {
    if (rows.length >= max) break;
    rows.push(row(session, 0, now));
  }
  return rows;
}

/**
 * The realms table: the realms with most sessions, most first (in the
 * router's order among equals), at most `max` rows, and how many realms
 * there are. Each realm is looked at once; only the rows kept are built
 * (a router of 50,000 realms sent them all, 4.2 MiB each second).
 *
 * @param router The router.
 * @param max The most rows.
 * @returns The rows and the total.
 */
export function realmTable(
  router: Router,
  max: number = MAX_REALM_ROWS,
): { total: number; rows: RealmRow[] } {
  const names = router.realmNames;
  const best: { name: string; sessions: number }[] = [];
  for (const name of names) {
    rank(best, { name, sessions: realmOf(router, name)?.size ?? 0 }, max, more);
  }
  const rows = best.map(({ name, sessions }) => {
    const realm = realmOf(router, name);
    return {
      name,
      sessions,
      subscriptions: realm?.broker.subscriptionCount ?? 0,
      registrations: realm?.dealer.registrationCount ?? 0,
    };
  });
  return { total: names.length, rows };
}

/** Whether realm `a` ranks before `b`: more sessions. */
function more(a: { sessions: number }, b: { sessions: number }): boolean {
  return a.sessions > b.sessions;
}

/**
 * Puts `item` in its place among `best` (ordered by `before`, at most
 * `max`, after its equals), or nowhere when it ranks after all of a full one.
 */
function rank<T>(best: T[], item: T, max: number, before: (a: T, b: T) => boolean): void {
  if (best.length >= max && (max <= 0 || !before(item, best[max - 1]!))) return;
  let lo = 0;
  let hi = best.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(item, best[mid]!)) hi = mid;
    else lo = mid + 1;
  }
  best.splice(lo, 0, item);
  if (best.length > max) best.pop();
}

function row(session: MeteredSession, backlog: number, now: number): SessionRow {
  const { info, peer } = session;
  return {
    id: info.id,
    realm: info.realm,
    authid: info.authid,
    authrole: info.authrole,
    authmethod: info.authmethod,
    transport: peer.info.type,
    serializer: peer.info.serializer ?? "",
    peer: peer.info.peer ?? "",
    age: Math.max(0, Math.round((now - session.joinedAt) / 1000)),
    backlog,
    dropped: session.droppedEvents,
  };
}

/** The most recent entries of both rings, newest first. */
function recent(rings: Recent | undefined): RecentEntry[] {
  if (rings === undefined) return [];
  return [...rings.errors.list(), ...rings.sessions.list()].sort((a, b) => b.time - a.time)
    .slice(0, 60);
}

function sum(counts: Float64Array): number {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]!;
  return total;
}
