/**
 * The SSE subscriber: `GET {path}?topic=…&match=prefix|wildcard` streams
 * the topic's events as Server-Sent Events (`id:` the publication ID,
 * `data:` `{ topic, args, kwargs }`), with heartbeat comments. A
 * `Last-Event-ID` (header, or `lastEventId` query parameter) resumes from
 * the realm's event history when the subscription keeps one. A reader
 * that falls more than `maxBacklog` bytes behind is dropped.
 *
 * @module
 */

import { ApplicationError } from "../client/errors.ts";
import type { Session } from "../client/session.ts";
import type { Event, Subscription } from "../client/subscription.ts";
import { binaryToJson, ErrorUri, isValidUri } from "../wamp/mod.ts";
import { streamed } from "../transports/stream/http_server.ts";
import type { BridgeOptions } from "./config.ts";
import { BridgeError, refusal } from "./errors.ts";
import { failure } from "./inbound.ts";

const MATCHES = ["exact", "prefix", "wildcard"] as const;
const encoder = new TextEncoder();
/** The largest record, in `maxBacklog`s, a stream may hold past its limit (see `push`). */
const MAX_ALLOWANCE = 4;
/**
 * How long a stream may stay more than `maxBacklog` behind before it is
 * dropped, in ms: a burst published in one turn puts a reader at full
 * speed there too (its records past the backlog are dropped, and it is told
 * how many).
 */
const SLOW_READER_MS = 2000;
/**
 * Live events held while a resumed stream reads its history, besides
 * `maxBacklog` bytes of them: more are dropped (and counted) as a slow
 * reader's are.
 */
const MAX_HELD = 1024;

/** A live event's record while history is read, with its place among the live events. */
interface Live {
  seq: number;
  publication: number;
  bytes: Uint8Array;
}

/** One event as an SSE record (binary as `"\0"` + Base64, as in WAMP's JSON). */
function record(id: number, topic: string, args: unknown, kwargs: unknown): Uint8Array {
  return encoder.encode(
    `id: ${id}\ndata: ${JSON.stringify(binaryToJson({ topic, args, kwargs }))}\n\n`,
  );
}

/** The record last made of a live event, and what it was made from. */
let last: { event: Event; bytes: Uint8Array } | undefined;

/**
 * A live event's record, made once for every stream of the fan-out: each
 * gets an `Event` of its own, with the same args and kwargs.
 */
function liveRecord(event: Event): Uint8Array {
  const made = last?.event;
  if (
    made?.publication === event.publication && made.topic === event.topic &&
    same(made.args, event.args) && same(made.kwargs, event.kwargs)
  ) {
    return last!.bytes;
  }
  const bytes = record(event.publication, event.topic, event.args, event.kwargs);
  if (last === undefined) queueMicrotask(() => last = undefined); // kept for this turn only
  last = { event, bytes };
  return bytes;
}

/** The same list or dict, or both empty (each `Event` gets an empty one of its own). */
function same(a: object, b: object): boolean {
  if (a === b) return true;
  for (const _ in a) return false;
  for (const _ in b) return false;
  return Array.isArray(a) === Array.isArray(b);
}

/**
 * Answers a subscriber request with an event stream.
 *
 * @param session The bridge's session.
 * @param url The request URL (topic, match, lastEventId).
 * @param request The request (Last-Event-ID).
 * @param bridge The path's settings.
 * @param done Called once when the stream ends (the path's count of open streams).
 * @returns The streamed response, or a refusal.
 */
export async function subscribe(
  session: Session,
  url: URL,
  request: Request,
  bridge: BridgeOptions,
  done: () => void,
): Promise<Response> {
  const topic = url.searchParams.get("topic") ?? "";
  const match = url.searchParams.get("match") ?? "exact";
  if (!(MATCHES as readonly string[]).includes(match)) {
    done();
    return refusal(BridgeError.BAD_REQUEST, ['"match" must be "exact", "prefix" or "wildcard"']);
  }
  if (!isValidUri(topic, { match: match as typeof MATCHES[number] })) {
    done();
    return refusal(ErrorUri.INVALID_URI, ['"topic" must be a valid URI or pattern']);
  }
  const last = request.headers.get("last-event-id") ?? url.searchParams.get("lastEventId");
  const resumeAfter = last !== null && /^\d{1,16}$/.test(last) ? Number(last) : undefined;

  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let ended = false;
  let subscription: Subscription | undefined;
  const timer: {
    heartbeat?: ReturnType<typeof setInterval>;
    /** Ends a reader still behind `SLOW_READER_MS` after it fell behind. */
    slow?: ReturnType<typeof setTimeout> | undefined;
  } = {};
  /** Records dropped while the reader was behind: it is told how many once it catches up. */
  let dropped = 0;
  /** Publication IDs sent from history, not to be sent again live. */
  let replayed: Set<number> | undefined;
  /**
   * Live events' records held while history is read (up to `maxBacklog`
   * bytes, `heldBytes`), each with its place among the live events (`seq`).
   */
  let held: Live[] | undefined = resumeAfter === undefined ? undefined : [];
  let heldBytes = 0;
  let seq = 0;
  /**
   * Live events dropped while history is read: counted as missed once
   * history shows it did not carry them (up to `MAX_HELD`; past them,
   * `missedMore`).
   */
  const missed: Omit<Live, "bytes">[] = [];
  let missedMore = 0;
  /** Resolved once the stream is within `maxBacklog` again (true), or ended (false). */
  let roomWaiters: ((room: boolean) => void)[] = [];
  const release = (room: boolean) => {
    const waiters = roomWaiters;
    roomWaiters = [];
    for (const resolve of waiters) resolve(room);
  };
  const end = () => {
    if (ended) return;
    ended = true;
    clearInterval(timer.heartbeat);
    clearTimeout(timer.slow);
    held = undefined;
    release(false); // a resume waiting for room stops
    void subscription?.unsubscribe().catch(() => {});
    done();
  };
  /** Ends the stream `SLOW_READER_MS` from now unless the reader catches up first (`pull`). */
  const slow = () => {
    timer.slow ??= setTimeout(() => {
      end();
      controller.error(new Error("slow reader"));
    }, SLOW_READER_MS);
  };
  const limit = bridge.maxBacklog;
  /**
   * What one record larger than `maxBacklog` (up to `MAX_ALLOWANCE` times
   * it), queued while the stream was within it, adds to it until the stream
   * is within it again: a reader at full speed takes a while to read it (as
   * `Target` in `router/delivery.ts` allows a WAMP connection). Unlike a
   * WAMP connection's frame, the HTTP server copies it for each stream.
   */
  let allowance = 0;
  const push = (bytes: Uint8Array) => {
    if (ended) return;
    if ((controller.desiredSize ?? 0) >= 0) {
      allowance = bytes.length > limit && bytes.length <= MAX_ALLOWANCE * limit ? bytes.length : 0;
    }
    if ((controller.desiredSize ?? 0) < -allowance) {
      // Behind by more than maxBacklog: the record is dropped; still behind after a while, the stream.
      dropped++;
      slow();
      return;
    }
    tellDropped();
    controller.enqueue(bytes);
  };
  /** Tells a reader that caught up how many records it missed (an SSE comment). */
  const tellDropped = () => {
    const count = dropped;
    dropped = 0; // first: the enqueue may call `pull`, which tells again
    if (count > 0) controller.enqueue(encoder.encode(`: ${count} records dropped\n\n`));
  };
  const send = (event: Event) => {
    if (ended) return;
    if (held === undefined) {
      if (!replayed?.has(event.publication)) push(liveRecord(event));
    } else if (heldBytes >= limit || held.length >= MAX_HELD) {
      // As a plain stream's past maxBacklog (`room` runs the slow-reader timer), unless history has it.
      if (missed.length < MAX_HELD) missed.push({ seq: seq++, publication: event.publication });
      else missedMore++;
    } else {
      const bytes = liveRecord(event);
      held.push({ seq: seq++, publication: event.publication, bytes });
      heldBytes += bytes.length;
    }
  };
  /** Whether the stream is within `maxBacklog`, once it is; a reader that stays behind is dropped. */
  const room = (): Promise<boolean> => {
    if (ended) return Promise.resolve(false);
    if ((controller.desiredSize ?? 0) > 0) return Promise.resolve(true);
    slow();
    return new Promise((resolve) => roomWaiters.push(resolve));
  };
  /**
   * Once a page of history is in (its IDs), before it is sent: the held
   * events that fell out of history before it was read, which are older
   * than all of it: those that came before the first live event it carries
   * (a page is a run of what was published; none carried: it is older than
   * them all). The held ones it carries go with it; those after, in `flush`.
   */
  const older = async (ids: ReadonlySet<number>) => {
    const carried = (live: { publication: number }) => ids.has(live.publication);
    const first = Math.min(held?.find(carried)?.seq ?? seq, missed.find(carried)?.seq ?? seq);
    while (first < seq && held !== undefined && held.length > 0 && held[0]!.seq < first) {
      if (!await room()) return;
      const { bytes } = held.shift()!;
      heldBytes -= bytes.length;
      push(bytes);
    }
    if (held === undefined) return;
    const kept: typeof held = [];
    for (const live of held) {
      if (!carried(live)) kept.push(live);
      else heldBytes -= live.bytes.length; // sent from history
    }
    held = kept;
  };
  /** After history: the live events held meanwhile, each once the reader has room for it. */
  const flush = async (sent: Set<number>) => {
    replayed = sent;
    dropped += missedMore + missed.filter((live) => !sent.has(live.publication)).length;
    while (held !== undefined && held.length > 0) {
      const batch = held;
      held = []; // what comes meanwhile is held, within maxBacklog, for the next round
      for (const { publication, bytes } of batch) {
        if (!await room()) return;
        heldBytes -= bytes.length;
        if (!sent.has(publication)) push(bytes);
      }
    }
    held = undefined;
  };
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    pull() {
      clearTimeout(timer.slow); // within maxBacklog again
      timer.slow = undefined;
      if (!ended) tellDropped();
      release(true);
    },
    cancel() {
      end();
    },
  }, new ByteLengthQueuingStrategy({ highWaterMark: bridge.maxBacklog }));
  try {
    subscription = await session.subscribe(
      topic,
      send,
      match === "exact" ? {} : { match: match as "prefix" | "wildcard" },
    );
  } catch (error) {
    end();
    return failure(error);
  }
  push(encoder.encode(`retry: 2000\n: subscribed ${subscription.id}\n\n`));
  timer.heartbeat = setInterval(() => {
    if (!subscription?.done) {
      // A reader behind needs no heartbeat (nor to count one among the records it missed); one
      // behind by more than it may be, with no event coming to find it, is dropped as slow.
      const desired = controller.desiredSize ?? 0;
      if (desired >= 0) push(encoder.encode(": heartbeat\n\n"));
      else if (desired < -allowance) slow();
      return;
    }
    // The bridge's session closed (router shutdown, killed) or the subscription was revoked.
    end();
    controller.close();
  }, bridge.heartbeat);
  if (resumeAfter !== undefined) {
    void resume(session, subscription.id, topic, resumeAfter, { push, room, older }).then(flush);
  }
  return streamed(
    new Response(body, {
      headers: {
        "content-type": "text/event-stream",
        "cache-control": "no-store",
        "x-accel-buffering": "no",
      },
    }),
  );
}

/**
 * Sends the events after `after` from the subscription's history, if it
 * keeps one (a comment says when it does not), a page at a time, each
 * event once the reader has room for it: a resuming reader is not dropped
 * as a slow one for what it missed, unless it stays at `maxBacklog` for
 * `SLOW_READER_MS` (see `room`). A page that fails ends it, with a comment.
 *
 * @returns The publication IDs sent.
 */
async function resume(
  session: Session,
  subscription: number,
  topic: string,
  after: number,
  stream: {
    push: (bytes: Uint8Array) => void;
    room: () => Promise<boolean>;
    older: (ids: ReadonlySet<number>) => Promise<void>;
  },
): Promise<Set<number>> {
  const { push, room } = stream;
  const sent = new Set<number>();
  try {
    for await (const page of history(session, subscription, after)) {
      await stream.older(new Set(page.map((item) => item.publication)));
      for (const e of page) {
        if (!await room()) return sent; // the stream ended
        sent.add(e.publication);
        push(record(e.publication, e.details?.topic ?? topic, e.args ?? [], e.kwargs ?? {}));
      }
    }
  } catch (error) {
    const why = (error instanceof Error ? error.message : String(error)).replace(/\n/g, " ");
    const what = sent.size === 0 ? "no history to resume from" : "no more history to resume from";
    push(encoder.encode(`: ${what}: ${why}\n\n`));
  }
  return sent;
}

/** An event of a `get_events` answer, as `resume` reads it. */
interface HistoryItem {
  publication: number;
  details?: { topic?: string };
  args?: unknown[];
  kwargs?: unknown;
}

/**
 * The events after `after` in the subscription's history, oldest first, a page at a time, up
 * to the newest event the history held when paging began (`until_publication`: else, while
 * publications push each page's last event out, it would go on as long as they do). A refused
 * answer is asked again for what its `limit_exceeded` says fits; pages double after `streak`
 * full ones in a row, which doubles each time a doubled page is refused: about one refusal per
 * doubling, all events large or a few. Newer events came live (held, or counted as dropped).
 * A call that fails throws, after the pages read before it.
 */
async function* history(
  session: Session,
  subscription: number,
  after: number,
): AsyncGenerator<HistoryItem[]> {
  const ask = async (kwargs: Record<string, number | boolean>) =>
    (await session.call("wamp.subscription.get_events", { args: [subscription], kwargs }))
      .args as HistoryItem[];
  let limit: number | undefined;
  let until: number | undefined;
  let [streak, full, grown] = [1, 0, false];
  for (;;) {
    let page: HistoryItem[];
    try {
      page = await ask({
        after_publication: after,
        ...(limit === undefined ? {} : { limit }),
        ...(until === undefined ? {} : { until_publication: until }),
      });
    } catch (error) {
      const fit = error instanceof ApplicationError && error.uri === ErrorUri.LIMIT_EXCEEDED
        ? error.kwargs.limit
        : undefined;
      if (typeof fit !== "number" || fit < 1 || fit === limit) throw error;
      if (grown) streak *= 2;
      [limit, full, grown] = [fit, 0, false]; // asked again for as many as fit
      if (until === undefined) {
        const newest = (await ask({ reverse: true, limit: 1 }))[0];
        if (newest === undefined) return;
        until = newest.publication;
      }
      continue;
    }
    if (page.length > 0) yield page;
    const last = page.at(-1)?.publication;
    if (limit === undefined || page.length < limit || last === until) return;
    after = last!;
    grown = ++full >= streak;
    if (grown) [limit, full] = [limit * 2, 0];
  }
}
