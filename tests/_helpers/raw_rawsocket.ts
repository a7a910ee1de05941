/**
 * A bare RawSocket JSON client over `node:net`, for tests and benchmarks
 * that need a peer which misbehaves: one that stops reading.
 */

import net from "node:net";

/** One RawSocket frame (regular message) holding `msg` as JSON. */
export function jsonFrame(msg: unknown): Uint8Array {
  const body = new TextEncoder().encode(JSON.stringify(msg));
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

/** Connects to a `tcp://` URL. */
export async function rawTcp(url: string): Promise<net.Socket> {
  const { hostname, port } = new URL(url);
  const socket = net.connect({ host: hostname, port: Number(port) });
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return socket;
}

/**
 * Joins realm1 over RawSocket (JSON, 16 MiB), subscribes to `topic`, then
 * stops reading its socket: the kernel buffers fill, then the router's
 * queue for it.
 */
export async function stalledSubscriber(url: string, topic: string): Promise<net.Socket> {
  const socket = await rawTcp(url);
  socket.write(Uint8Array.of(0x7f, 0xf1, 0, 0));
  socket.write(jsonFrame([1, "realm1", { roles: { subscriber: {} } }]));
  socket.write(jsonFrame([32, 1, {}, topic]));
  let seen = "";
  await new Promise<void>((resolve) => {
    const onData = (chunk: Uint8Array) => {
      seen += new TextDecoder().decode(chunk);
      if (!seen.includes("[33,1,")) return;
      socket.off("data", onData);
      resolve();
    };
    socket.on("data", onData);
  });
  socket.pause();
  return socket;
}
