/**
 * A bare-bones WebSocket client over Deno.connect, for tests that need to
 * misbehave: send garbage frames, or stop reading altogether. Over
 * `node:net` when it must come from a given local address (another source).
 */

import net from "node:net";

const encoder = new TextEncoder();

/** What the client needs of a connection: `Deno.Conn`'s read, write and close. */
interface Conn {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  close(): void;
}

/** A `node:net` connection from `localAddress`, as a {@linkcode Conn}. */
async function connectFrom(hostname: string, port: number, localAddress: string): Promise<Conn> {
  const socket = net.connect({ host: hostname, port, localAddress });
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  const chunks: Uint8Array[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  socket.on("data", (chunk: Uint8Array) => {
    chunks.push(chunk);
    notify();
  });
  socket.on("close", () => {
    ended = true;
    notify();
  });
  socket.on("error", () => {});
  return {
    async read(p) {
      while (chunks.length === 0 && !ended) await new Promise<void>((r) => wake = r);
      const chunk = chunks.shift();
      if (chunk === undefined) return null;
      const n = Math.min(p.length, chunk.length);
      p.set(chunk.subarray(0, n));
      if (n < chunk.length) chunks.unshift(chunk.subarray(n));
      return n;
    },
    write: (p) => new Promise((resolve) => socket.write(p, () => resolve(p.length))),
    close: () => socket.destroy(),
  };
}

/** A raw WebSocket connection. */
export interface RawWebSocket extends AsyncDisposable {
  /** The HTTP status line and headers of the handshake response. */
  readonly head: string;
  /** Sends one masked frame (opcode 1 text, 2 binary). */
  send(data: string | Uint8Array, opcode?: number): Promise<void>;
  /** Reads one whole frame's payload (no fragmentation support). */
  read(): Promise<{ opcode: number; payload: Uint8Array }>;
  /** Closes the TCP connection. */
  close(): void;
}

/**
 * Connects and performs the upgrade handshake, offering `protocols`; from
 * `localAddress` when given (e.g. `127.0.0.2`: another source address).
 */
export async function rawWebSocket(
  url: string,
  protocols: string[],
  headers: Record<string, string> = {},
  localAddress?: string,
): Promise<RawWebSocket> {
  const u = new URL(url);
  const conn: Conn = localAddress === undefined
    ? await Deno.connect({ hostname: u.hostname, port: Number(u.port) })
    : await connectFrom(u.hostname, Number(u.port), localAddress);
  const key = btoa(
    String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))),
  );
  const lines = [
    `GET ${u.pathname} HTTP/1.1`,
    `Host: ${u.host}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    `Sec-WebSocket-Key: ${key}`,
    "Sec-WebSocket-Version: 13",
  ];
  if (protocols.length > 0) {
    lines.push(`Sec-WebSocket-Protocol: ${protocols.join(", ")}`);
  }
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  await conn.write(encoder.encode(lines.join("\r\n") + "\r\n\r\n"));
  let buffer = new Uint8Array(0);
  const fill = async (): Promise<void> => {
    const chunk = new Uint8Array(65536);
    const n = await conn.read(chunk);
    if (n === null) throw new Error("connection closed");
    const next = new Uint8Array(buffer.length + n);
    next.set(buffer);
    next.set(chunk.subarray(0, n), buffer.length);
    buffer = next;
  };
  let end = -1;
  while ((end = new TextDecoder().decode(buffer).indexOf("\r\n\r\n")) < 0) {
    await fill();
  }
  const head = new TextDecoder().decode(buffer.subarray(0, end));
  buffer = buffer.subarray(end + 4);
  let closed = false;
  const close = () => {
    if (!closed) {
      closed = true;
      conn.close();
    }
  };
  return {
    head,
    async send(data, opcode = typeof data === "string" ? 1 : 2) {
      const payload = typeof data === "string" ? encoder.encode(data) : data;
      const header: number[] = [0x80 | opcode];
      if (payload.length < 126) header.push(0x80 | payload.length);
      else if (payload.length < 65536) {
        header.push(0x80 | 126, payload.length >> 8, payload.length & 0xff);
      } else throw new Error("frame too big for this helper");
      header.push(0, 0, 0, 0); // zero mask key: payload stays as is
      const frame = new Uint8Array(header.length + payload.length);
      frame.set(header);
      frame.set(payload, header.length);
      await conn.write(frame);
    },
    async read() {
      while (buffer.length < 2) await fill();
      const opcode = buffer[0]! & 0x0f;
      let length = buffer[1]! & 0x7f;
      let at = 2;
      if (length === 126) {
        while (buffer.length < 4) await fill();
        length = (buffer[2]! << 8) | buffer[3]!;
        at = 4;
      } else if (length === 127) {
        while (buffer.length < 10) await fill();
        length = Number(
          new DataView(buffer.buffer, buffer.byteOffset + 2, 8).getBigUint64(0),
        );
        at = 10;
      }
      while (buffer.length < at + length) await fill();
      const payload = buffer.slice(at, at + length);
      buffer = buffer.subarray(at + length);
      return { opcode, payload };
    },
    close,
    [Symbol.asyncDispose]() {
      close();
      return Promise.resolve();
    },
  };
}
