/**
 * The time limits of an inbox's turns (`inbox.ts`).
 *
 * @module
 */

/**
 * How long one connection's arrivals may run in one turn of the event loop,
 * in milliseconds, before the rest wait for a later turn. A later turn
 * costs about 1 ms of Deno's timers, and a publisher at full speed has
 * turns of 10-20 ms: at 10 ms such a publisher lost 3-5% of its throughput.
 */
export const TURN_MS = 20;

/**
 * The clock is read at every (this + 1)th arrival (`Date.now()` costs 36
 * ns), and at every one while they cost a millisecond between two reads.
 */
export const CLOCK_EVERY = 7;

/**
 * The shortest turn, in ms: while `n` inboxes wait for a turn, each gets
 * `TURN_MS` / (n + 1), so a connection that has a turn to come
 * waits about `TURN_MS` for it however many others are busy.
 */
export const MIN_TURN_MS = 2;

/**
 * When an inbox's turns count as costly: what its turns took, in ms read
 * off `Date.now()`, each earlier turn's weighing a quarter less. A cheap
 * turn that the clock's millisecond happens to tick in reads 1; turns of a
 * millisecond or more each soon read 4 or more.
 */
export const COSTLY = 1.5;

/** While an inbox's turns cost this much (see `COSTLY`), each of its arrivals is timed. */
export const TIMED = 0.5;

/**
 * Frames of this many bytes or more cost a decode in proportion (16 MiB:
 * 50-115 ms): their decoding counts against the turn, and once the event
 * loop's turns took `TURN_MS` such a frame waits for a later turn before
 * it is decoded (24 connections each sending one 16 MiB frame at once held
 * every other session 0.8-1.9 s).
 */
export const LARGE_FRAME = 64 * 1024;
