/**
 * Byte-array helpers shared by the framings and the socket code.
 *
 * @module
 */

/**
 * Joins byte chunks into one new array.
 *
 * @param chunks The chunks, in order.
 * @returns Their bytes, copied into one array.
 */
export function concat(chunks: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let length = 0;
  for (const c of chunks) length += c.byteLength;
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
