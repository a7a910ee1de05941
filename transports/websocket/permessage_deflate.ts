/**
 * The permessage-deflate WebSocket extension
 * ([RFC 7692](https://www.rfc-editor.org/rfc/rfc7692)) without context
 * takeover in either direction: every message is compressed and
 * inflated on its own with `node:zlib`, so a connection keeps no zlib
 * state between messages. Negotiation for both sides, and the two
 * per-message transforms.
 *
 * @module
 */

import { builtin } from "../../wamp/builtin.ts";

/** Compression settings of one side. */
export interface DeflateOptions {
  /**
   * Outgoing messages smaller than this many bytes are sent uncompressed.
   * @default {256}
   */
  threshold?: number;
  /**
   * The zlib compression level, 0–9.
   * @default {6}
   */
  level?: number;
}

/** permessage-deflate as negotiated for one connection. */
export interface PerMessageDeflate {
  /** Outgoing messages of at least this many bytes are compressed (`Infinity`: none). */
  readonly threshold: number;
  /** The zlib level for outgoing messages. */
  readonly level: number;
  /** The LZ77 window for outgoing messages, in bits (9–15). */
  readonly windowBits: number;
}

/** One entry of a `Sec-WebSocket-Extensions` header. */
export interface ExtensionOffer {
  /** The extension's name, e.g. `permessage-deflate`. */
  readonly name: string;
  /** Its parameters in order: `true` for a parameter without a value. */
  readonly params: ReadonlyArray<readonly [string, string | true]>;
}

/**
 * What the client offers: no context takeover both ways. The answer must
 * keep `server_no_context_takeover`.
 */
export const DEFLATE_OFFER =
  "permessage-deflate; client_no_context_takeover; server_no_context_takeover";

const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;
const QUOTED = /"((?:[^"\\]|\\.)*)"/y;
const SPACE = /[ \t]*/y;

/**
 * Parses a `Sec-WebSocket-Extensions` header ([RFC 6455 §9.1](https://www.rfc-editor.org/rfc/rfc6455#section-9.1)).
 *
 * @param header The header value (repeated headers joined with commas).
 * @returns The extensions in order, or `undefined` when the syntax is wrong.
 *
 * @example
 * ```ts
 * import { parseExtensions } from "./permessage_deflate.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(parseExtensions('permessage-deflate; client_max_window_bits="10", x-foo'), [
 *   { name: "permessage-deflate", params: [["client_max_window_bits", "10"]] },
 *   { name: "x-foo", params: [] },
 * ]);
 * ```
 */
export function parseExtensions(header: string): ExtensionOffer[] | undefined {
  const out: ExtensionOffer[] = [];
  let at = 0;
  const skip = () => {
    SPACE.lastIndex = at;
    SPACE.exec(header);
    at = SPACE.lastIndex;
  };
  const token = (): string | undefined => {
    skip();
    TOKEN.lastIndex = at;
    const m = TOKEN.exec(header);
    if (m === null) return undefined;
    at = TOKEN.lastIndex;
    skip();
    return m[0];
  };
  while (true) {
    const name = token();
    if (name === undefined) return undefined;
    const params: [string, string | true][] = [];
    while (header[at] === ";") {
      at++;
      const param = token();
      if (param === undefined) return undefined;
      let value: string | true = true;
      if (header[at] === "=") {
        at++;
        skip();
        QUOTED.lastIndex = at;
        const quoted = header[at] === '"' ? QUOTED.exec(header) : null;
        if (quoted !== null) {
          value = quoted[1]!.replace(/\\(.)/g, "$1");
          at = QUOTED.lastIndex;
          skip();
        } else {
          const plain = token();
          if (plain === undefined) return undefined;
          value = plain;
        }
      }
      params.push([param, value]);
    }
    out.push({ name, params });
    if (at === header.length) return out;
    if (header[at] !== ",") return undefined;
    at++;
  }
}

const WINDOW_BITS = /^(?:[89]|1[0-5])$/;

/**
 * Server side: accepts the first acceptable permessage-deflate offer.
 * Offers with unknown, repeated or invalid parameters are declined
 * (RFC 7692 §5.1). A `server_max_window_bits=N` offer is accepted by
 * compressing with that window (`8`: by never compressing, which is
 * always allowed); `client_max_window_bits` needs nothing, since each
 * message is inflated with a fresh full-size window.
 *
 * @param header The request's `Sec-WebSocket-Extensions` header.
 * @param options Threshold and level for outgoing messages.
 * @returns The response header value and the settings, or `undefined`
 * when nothing is accepted.
 *
 * @example
 * ```ts
 * import { negotiateDeflate } from "./permessage_deflate.ts";
 * import { equal } from "node:assert/strict";
 *
 * const accepted = negotiateDeflate("permessage-deflate; client_max_window_bits");
 * equal(
 *   accepted?.response,
 *   "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
 * );
 * equal(negotiateDeflate("permessage-deflate; server_max_window_bits=16"), undefined);
 * ```
 */
export function negotiateDeflate(
  header: string | null,
  options: DeflateOptions = {},
): { response: string; deflate: PerMessageDeflate } | undefined {
  if (header === null) return undefined;
  const offers = parseExtensions(header);
  if (offers === undefined) return undefined;
  for (const offer of offers) {
    if (offer.name.toLowerCase() !== "permessage-deflate") continue;
    const bits = acceptOffer(offer);
    if (bits === undefined) continue;
    let response = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";
    if (bits < 15) response += `; server_max_window_bits=${bits}`;
    return {
      response,
      deflate: {
        threshold: bits === 8 ? Infinity : options.threshold ?? 256,
        level: options.level ?? 6,
        windowBits: Math.max(bits, 9),
      },
    };
  }
  return undefined;
}

/** The window the server may use under an offer (15 without a limit), or undefined to decline. */
function acceptOffer(offer: ExtensionOffer): number | undefined {
  const seen = new Set<string>();
  let bits = 15;
  for (const [name, value] of offer.params) {
    if (seen.has(name)) return undefined;
    seen.add(name);
    switch (name) {
      case "server_no_context_takeover":
      case "client_no_context_takeover":
        if (value !== true) return undefined;
        break;
      case "server_max_window_bits":
        if (value === true || !WINDOW_BITS.test(value)) return undefined;
        bits = Number(value);
        break;
      case "client_max_window_bits":
        if (value !== true && !WINDOW_BITS.test(value)) return undefined;
        break;
      default:
        return undefined;
    }
  }
  return bits;
}

/**
 * Client side: checks the server's answer to {@linkcode DEFLATE_OFFER}.
 *
 * @param header The response's `Sec-WebSocket-Extensions` header.
 * @param options Threshold and level for outgoing messages.
 * @returns The settings (`undefined` when the server declined), or an
 * `error` describing why the answer is unacceptable.
 *
 * @example
 * ```ts
 * import { acceptDeflateResponse } from "./permessage_deflate.ts";
 * import { equal, ok } from "node:assert/strict";
 *
 * ok(acceptDeflateResponse("permessage-deflate; server_no_context_takeover").deflate);
 * equal(acceptDeflateResponse(null).deflate, undefined);
 * ok(acceptDeflateResponse("permessage-deflate").error);
 * ```
 */
export function acceptDeflateResponse(
  header: string | null,
  options: DeflateOptions = {},
): { deflate?: PerMessageDeflate; error?: string } {
  if (header === null || header.trim() === "") return {};
  const answers = parseExtensions(header);
  if (answers === undefined) return { error: `malformed extensions "${header}"` };
  const [answer, more] = answers;
  if (answer === undefined || more !== undefined) {
    return { error: `unexpected extensions "${header}"` };
  }
  if (answer.name.toLowerCase() !== "permessage-deflate") {
    return { error: `unexpected extension "${answer.name}"` };
  }
  const seen = new Set<string>();
  for (const [name, value] of answer.params) {
    if (seen.has(name)) return { error: `repeated parameter ${name}` };
    seen.add(name);
    const ok = name === "server_no_context_takeover" || name === "client_no_context_takeover"
      ? value === true
      : name === "server_max_window_bits" && value !== true && WINDOW_BITS.test(value);
    if (!ok) return { error: `unacceptable parameter ${name} in "${header}"` };
  }
  if (!seen.has("server_no_context_takeover")) {
    return { error: "permessage-deflate without server_no_context_takeover" };
  }
  return {
    deflate: { threshold: options.threshold ?? 256, level: options.level ?? 6, windowBits: 15 },
  };
}

/**
 * The most a compressed message may inflate to, per compressed byte, above
 * {@linkcode INFLATE_SLACK}. DEFLATE reaches about 1000 to 1 (16 KiB
 * inflated to 16 MiB: the router parsed 640 MiB for 640 KiB read). Measured
 * on 1 MiB WAMP messages at level 6: varied sensor records 54 to 1, one
 * record repeated 170, a list of zeros 228, repeated lorem ipsum 157, one
 * character repeated 996. 256 keeps the realistic ones and cuts what a
 * peer's byte can cost the router fourfold.
 */
export const MAX_INFLATE_RATIO = 256;

/**
 * Outgoing messages larger than this go uncompressed. Deflate runs on the
 * event loop at about 50 MB/s (level 6, on base64 and JSON records: 17-21
 * ms a MiB), so one 16 MiB message held every session for 260-340 ms; at
 * this size a message costs at most about 20 ms of it.
 */
export const MAX_DEFLATE_BYTES = 1024 * 1024;

/**
 * Whether an outgoing message of `size` bytes goes compressed: from the
 * connection's `threshold` up to {@linkcode MAX_DEFLATE_BYTES}.
 *
 * @param size The message payload's length.
 * @param deflate The connection's settings.
 * @returns True when it is to be compressed.
 *
 * @example
 * ```ts
 * import { compresses } from "./permessage_deflate.ts";
 * import { equal } from "node:assert/strict";
 *
 * const deflate = { threshold: 256, level: 6, windowBits: 15 };
 * equal(compresses(100, deflate), false);
 * equal(compresses(100_000, deflate), true);
 * equal(compresses(16 * 1024 * 1024, deflate), false);
 * ```
 */
export function compresses(size: number, deflate: PerMessageDeflate): boolean {
  return size >= deflate.threshold && size <= MAX_DEFLATE_BYTES;
}

/** What any compressed message may inflate to on top of the ratio. */
export const INFLATE_SLACK = 64 * 1024;

/**
 * The most a compressed message of `compressed` bytes may inflate to:
 * `MAX_INFLATE_RATIO` times its size plus `INFLATE_SLACK`, and never over
 * `maxSize`.
 *
 * @param compressed The compressed payload's length.
 * @param maxSize The connection's largest message.
 * @returns The limit for {@linkcode inflateMessage}.
 *
 * @example
 * ```ts
 * import { inflatedLimit } from "./permessage_deflate.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(inflatedLimit(16 * 1024, 16 * 1024 * 1024), 256 * 16 * 1024 + 64 * 1024);
 * equal(inflatedLimit(1024 * 1024, 16 * 1024 * 1024), 16 * 1024 * 1024);
 * ```
 */
export function inflatedLimit(compressed: number, maxSize: number): number {
  return Math.min(maxSize, compressed * MAX_INFLATE_RATIO + INFLATE_SLACK);
}

/**
 * Compresses one message (RFC 7692 §7.2.1): raw DEFLATE with a sync
 * flush, without the final `00 00 FF FF`.
 *
 * @param data The message payload.
 * @param deflate The connection's settings.
 * @returns The compressed payload, to send with RSV1 set.
 *
 * @example
 * ```ts
 * import { deflateMessage, inflateMessage } from "./permessage_deflate.ts";
 * import { deepEqual, ok } from "node:assert/strict";
 *
 * const data = new TextEncoder().encode("hello ".repeat(100));
 * const packed = deflateMessage(data, { threshold: 0, level: 6, windowBits: 15 });
 * ok(packed.length < 50);
 * deepEqual(inflateMessage(packed, 1000), data);
 * ```
 */
export function deflateMessage(data: Uint8Array, deflate: PerMessageDeflate): Uint8Array {
  const zlib = builtin("node:zlib");
  const out = zlib.deflateRawSync(data, {
    level: deflate.level,
    windowBits: deflate.windowBits,
    finishFlush: zlib.constants.Z_SYNC_FLUSH,
  });
  return out.subarray(0, out.length - 4);
}

/**
 * Inflates one message (RFC 7692 §7.2.2), refusing to produce more than
 * `maxSize` bytes, whatever the compressed size.
 *
 * @param data The compressed payload (the `00 00 FF FF` tail is not
 * needed: a sync-flushed stream inflates completely without it).
 * @param maxSize The largest result accepted.
 * @returns The message payload.
 * @throws {RangeError} When the result would exceed `maxSize` (close 1009).
 * @throws {Error} When the data is not valid DEFLATE (close 1007).
 */
export function inflateMessage(data: Uint8Array, maxSize: number): Uint8Array {
  const zlib = builtin("node:zlib");
  try {
    return zlib.inflateRawSync(data, {
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
      maxOutputLength: Math.max(1, maxSize),
    });
  } catch (error) {
    if ((error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") {
      throw new RangeError(`Cannot inflate message: over ${maxSize} bytes`, { cause: error });
    }
    throw new Error(`Cannot inflate message: ${(error as Error).message}`, { cause: error });
  }
}
