/**
 * A bare-bones WebSocket client over Deno.connect, for tests that need to
 * misbehave: send garbage frames, or stop reading altogether.
 */

const encoder = new TextEncoder();

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

/** Connects and performs the upgrade handshake, offering `protocols`. */
export async function rawWebSocket(
  url: string,
  protocols: string[],
  headers: Record<string, string> = {},
): Promise<RawWebSocket> {
  const u = new URL(url);
  const conn = await Deno.connect({
    hostname: u.hostname,
    port: Number(u.port),
  });
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
