/**
 * How much one message may hold, whatever its size in bytes: what the
 * pre-scans (`prescan.ts`) and the long-JSON scan (`json_scan.ts`) count in
 * their one pass before the decoder runs, and refuse past (the message is
 * a protocol violation). Each bounds work a decoder does out of proportion
 * to the bytes, or in proportion to a count a small frame can make large.
 *
 * @module
 */

/**
 * The most dict keys (entries of every dict, nested ones included) one
 * message may hold. Decoders build objects in time that grows faster than
 * their key count (a 16 MB MessagePack dict of 2 million keys took 8 s), so
 * the pre-scans count keys in their one pass and refuse past this.
 */
export const MAX_DICT_KEYS = 65535;

/** What the pre-scans say of a message with more than {@linkcode MAX_DICT_KEYS} dict keys. */
export const TOO_MANY_KEYS = `more than ${MAX_DICT_KEYS} dict keys`;

/**
 * The most byte strings one message may hold. The decoders return each as
 * a view, and what keeps a payload copies each small one (1 million
 * one-byte byte strings in a 3 MB frame took 0.15 s to decode, and 1 s to
 * copy), so the pre-scans count them with the dict keys and refuse past this.
 */
export const MAX_BYTE_STRINGS = 65535;

/** What the pre-scans say of a message with more than {@linkcode MAX_BYTE_STRINGS} byte strings. */
export const TOO_MANY_BYTE_STRINGS = `more than ${MAX_BYTE_STRINGS} byte strings`;

/**
 * What one message may hold, counted in values of any kind, where a list
 * or a dict counts {@linkcode CONTAINER_WEIGHT} besides what it holds (the
 * decoders build each as an object: a million empty lists took 73-125 ms,
 * a million small numbers 18 ms). A 16 MiB frame of a million-odd tiny
 * values held the router 0.2-0.4 s before anything looked at it; past this
 * the pre-scans refuse the frame. It does not bound every decode: a
 * million short strings, floats or 64-bit integers still take 0.1-0.3 s
 * (what bounds those is the frame's size, `maxMessageSize`).
 */
export const MAX_VALUES = 1_000_000;

/** What a list or a dict counts against {@linkcode MAX_VALUES}, besides what it holds. */
export const CONTAINER_WEIGHT = 4;

/** What the pre-scans say of a message over {@linkcode MAX_VALUES}. */
export const TOO_MANY_VALUES =
  `more than ${MAX_VALUES} values (a list or dict counts ${CONTAINER_WEIGHT})`;
