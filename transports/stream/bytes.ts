/**
 * Byte-array helpers shared by the framings and the socket code (one
 * `concat`, in `wamp/bytes.ts`, for the client and the router alike), and
 * the one bounded read of an HTTP body.
 *
 * @module
 */

import { concat } from "../../wamp/bytes.ts";

export { concat };

/**
 * Reads a fetch response's body, at most `limit` bytes: past it the read
 * is canceled, so a peer cannot make us hold more than we take.
 *
 * @param res The response.
 * @param limit The most bytes taken.
 * @returns The body, or `undefined` when it is longer (declared or sent).
 */
export async function readBounded(res: Response, limit: number): Promise<Uint8Array | undefined> {
  if (Number(res.headers.get("content-length") ?? 0) > limit) {
    await res.body?.cancel().catch(() => {});
    return undefined;
  }
  const reader = res.body?.getReader();
  if (reader === undefined) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return concat(chunks);
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
}
