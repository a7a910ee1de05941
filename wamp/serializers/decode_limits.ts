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
 * The most values (of any kind, lists and dicts included) one message may
 * hold. Decoding takes time in proportion, up to 45 ms per million (one
 * character strings from MessagePack; numbers 18 ms): a 16 MiB frame of
 * tiny values held the router 0.2-0.4 s, before any check of what it is.
 */
export const MAX_VALUES = 1_000_000;

/** What the pre-scans say of a message with more than {@linkcode MAX_VALUES} values. */
export const TOO_MANY_VALUES = `more than ${MAX_VALUES} values`;

/**
 * The most lists and dicts (empty ones included) one message may hold: the
 * decoders build each as an object, 73-125 ms per million empty lists.
 */
export const MAX_CONTAINERS = 65535;

/** What the pre-scans say of a message with more than {@linkcode MAX_CONTAINERS} lists and dicts. */
export const TOO_MANY_CONTAINERS = `more than ${MAX_CONTAINERS} lists and dicts`;
