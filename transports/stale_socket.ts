/**
 * A Unix socket's file left by a run that crashed: removed before listening
 * on its path, unless another process still listens there.
 *
 * @module
 */

import net from "node:net";

/**
 * Removes a Unix socket file left by a crashed run; refuses when another
 * process still listens on it.
 *
 * @param path The socket's path.
 * @throws {Error} When the file is not a socket, or another process listens on it.
 */
export async function removeStaleSocket(path: string): Promise<void> {
  try {
    const stat = await Deno.lstat(path);
    if (!stat.isSocket) {
      throw new Error(`Cannot listen on ${path}: the file exists and is not a socket`);
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  // Refused: no one listens. A full listen queue (EAGAIN), or anything else, is someone.
  const state = await new Promise<"live" | "stale" | "gone">((resolve) => {
    const probe = net.connect({ path });
    probe.once("connect", () => {
      probe.destroy();
      resolve("live");
    });
    probe.once("error", (error: Error & { code?: string }) => {
      resolve(error.code === "ECONNREFUSED" ? "stale" : error.code === "ENOENT" ? "gone" : "live");
    });
  });
  if (state === "live") {
    throw new Error(`Cannot listen on ${path}: another process is listening on it`);
  }
  if (state === "stale") await Deno.remove(path);
}
