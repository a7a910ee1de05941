/**
 * Payload passthru mode (PPT): the `ppt_*` options that CALL, YIELD and
 * PUBLISH carry and INVOCATION, RESULT, EVENT and ERROR repeat. The router
 * copies them and the payload untouched; it only checks that the options
 * describe a scheme the spec defines (spec "Payload Passthru Mode").
 *
 * @module
 */

import type { Dict, PassthruOptions } from "../../wamp/mod.ts";

/** The PPT option keys, in the spec's order. */
export const PPT_KEYS = ["ppt_scheme", "ppt_serializer", "ppt_cipher", "ppt_keyid"] as const;

const MQTT_SERIALIZERS = ["native", "json", "msgpack", "cbor"];
const E2EE_SERIALIZERS = ["cbor", "flatbuffers"];
const CIPHERS = ["xsalsa20poly1305", "aes256gcm"];

/**
 * Whether a message's options switch PPT on: a non-empty `ppt_scheme`.
 *
 * @param options CALL, YIELD or PUBLISH options.
 * @returns True when PPT is in use.
 */
export function usesPassthru(options: PassthruOptions): boolean {
  return (options.ppt_scheme?.length ?? 0) > 0;
}

/**
 * Whether any `ppt_*` option is set. Named loads, cached per options
 * shape: the common case (no PPT) costs no keyed lookup.
 *
 * @param options A message's options.
 * @returns Whether one of {@linkcode PPT_KEYS} is there.
 */
export function hasPassthruKey(options: Dict): boolean {
  return options.ppt_scheme !== undefined || options.ppt_serializer !== undefined ||
    options.ppt_cipher !== undefined || options.ppt_keyid !== undefined;
}

/** Autobahn's end-to-end encryption keys, which describe a bare `payload`. */
const OPAQUE_KEYS = ["enc_algo", "enc_serializer", "enc_key"] as const;

/**
 * Copies the keys that describe a passed-through payload from `from` into
 * `to`: the `ppt_*` keys present, and with `opaque` (the message carries
 * Autobahn's bare encrypted `payload`) its `enc_*` keys too, without which
 * that payload is useless.
 *
 * @param from The sender's options.
 * @param to The details to forward.
 * @param opaque Whether the message carries a bare `payload`.
 * @returns `to`.
 */
export function copyPassthru(from: Dict, to: Dict, opaque = false): Dict {
  if (!opaque && !hasPassthruKey(from)) return to;
  for (const key of PPT_KEYS) {
    if (from[key] !== undefined) to[key] = from[key];
  }
  if (opaque) {
    for (const key of OPAQUE_KEYS) {
      if (key in from) to[key] = from[key];
    }
  }
  return to;
}

/**
 * Checks PPT options against the spec's predefined schemes: `mqtt` (serializer
 * `native`, `json`, `msgpack` or `cbor`; no cipher or key), `wamp` (end-to-end
 * encryption: serializer `cbor` or `flatbuffers` required; cipher
 * `xsalsa20poly1305` or `aes256gcm`) and custom `x_*` schemes (anything).
 *
 * @param options Options with PPT in use.
 * @returns What is wrong, or undefined when they are valid.
 *
 * @example
 * ```ts
 * import { passthruProblem } from "./passthru.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(passthruProblem({ ppt_scheme: "mqtt", ppt_serializer: "json" }), undefined);
 * equal(typeof passthruProblem({ ppt_scheme: "wamp" }), "string");
 * ```
 */
export function passthruProblem(options: PassthruOptions): string | undefined {
  const { ppt_scheme: scheme, ppt_serializer: serializer, ppt_cipher: cipher } = options;
  if (scheme === "mqtt") {
    if (serializer !== undefined && !MQTT_SERIALIZERS.includes(serializer)) {
      return `ppt_serializer "${serializer}" is not defined for the mqtt scheme`;
    }
    if (cipher !== undefined || options.ppt_keyid !== undefined) {
      return "the mqtt scheme takes no ppt_cipher or ppt_keyid";
    }
    return undefined;
  }
  if (scheme === "wamp") {
    if (serializer === undefined || !E2EE_SERIALIZERS.includes(serializer)) {
      return "the wamp scheme needs ppt_serializer cbor or flatbuffers";
    }
    if (cipher !== undefined && !CIPHERS.includes(cipher)) {
      return `ppt_cipher "${cipher}" is not defined for the wamp scheme`;
    }
    return undefined;
  }
  if (scheme?.startsWith("x_")) return undefined;
  return `ppt_scheme "${scheme}" is neither mqtt, wamp nor a custom x_ scheme`;
}
