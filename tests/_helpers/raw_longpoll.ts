/**
 * Raw HTTP/1.1 over one TCP connection per request, for long-poll tests
 * that need to hold a request open, drop its connection, or send a head
 * without its body. 127.0.0.1 only.
 */

import { joinBatch, splitBatchedBody } from "../../transports/stream/batched.ts";
import { json } from "../../wamp/mod.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One answer: its status and body. */
export interface RawAnswer {
  status: number;
  body: Uint8Array;
}

/** One TCP connection to a listener, speaking HTTP/1.1 by hand. */
export class RawHttp implements Disposable {
  #conn: Deno.TcpConn;
  #input = new Uint8Array(0);

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  /** Connects to 127.0.0.1:`port`. */
  static async open(port: number): Promise<RawHttp> {
    return new RawHttp(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  /** Writes all of `bytes` (a string as UTF-8). */
  async write(bytes: string | Uint8Array): Promise<void> {
    let data = typeof bytes === "string" ? encoder.encode(bytes) : bytes;
    while (data.length > 0) data = data.subarray(await this.#conn.write(data));
  }

  /** Writes a POST head announcing `length` body bytes, then `body` (all, part or none of them). */
  async post(path: string, length: number, body: string | Uint8Array = ""): Promise<void> {
    await this.write(`POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-length: ${length}\r\n\r\n`);
    await this.write(body);
  }

  /** Reads one answer, or `undefined` when the connection ends or `ms` pass first. */
  async answer(ms: number): Promise<RawAnswer | undefined> {
    const deadline = Date.now() + ms;
    const chunk = new Uint8Array(64 * 1024);
    for (;;) {
      const end = indexOfBlankLine(this.#input);
      if (end >= 0) {
        const head = decoder.decode(this.#input.subarray(0, end));
        const length = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        if (this.#input.length >= end + 4 + length) {
          const body = this.#input.slice(end + 4, end + 4 + length);
          this.#input = this.#input.slice(end + 4 + length);
          return { status: Number(head.split(" ")[1]), body };
        }
      }
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const read = await Promise.race([
        this.#conn.read(chunk).catch(() => null),
        new Promise<"late">((resolve) => timer = setTimeout(() => resolve("late"), left)),
      ]);
      clearTimeout(timer);
      if (read === "late" || read === null) return undefined;
      const input = new Uint8Array(this.#input.length + read);
      input.set(this.#input);
      input.set(chunk.subarray(0, read), this.#input.length);
      this.#input = input;
    }
  }

  /** Closes the connection (idempotent). */
  [Symbol.dispose](): void {
    try {
      this.#conn.close();
    } catch {
      // closed already
    }
  }
}

function indexOfBlankLine(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      return i;
    }
  }
  return -1;
}

/** Posts one request on a connection of its own and reads its answer (within 10 s). */
export async function rawPost(
  port: number,
  path: string,
  body: string | Uint8Array = "",
): Promise<RawAnswer> {
  using conn = await RawHttp.open(port);
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  await conn.post(path, bytes.length, bytes);
  const answer = await conn.answer(10_000);
  if (answer === undefined) throw new Error(`no answer to POST ${path} within 10 s`);
  return answer;
}

/** A JSON message as a long-poll body: alone, or in a batch. */
export function jsonBody(msg: unknown, batched: boolean): Uint8Array {
  const bytes = encoder.encode(JSON.stringify(msg));
  return batched ? joinBatch([bytes], false) : bytes;
}

/** The JSON messages of a long-poll answer's body. */
export function jsonMessages(body: Uint8Array, batched: boolean): unknown[] {
  const frames = batched ? splitBatchedBody(json, body) : [body];
  return frames.map((frame) =>
    JSON.parse(typeof frame === "string" ? frame : decoder.decode(frame))
  );
}

/**
 * Opens a JSON long-poll transport on the listener at `port` and joins
 * realm1 with `roles`; returns the transport ID.
 */
export async function rawJoin(
  port: number,
  roles: Record<string, unknown>,
  batched = false,
): Promise<string> {
  const protocol = batched ? "wamp.2.json.batched" : "wamp.2.json";
  const opened = await rawPost(port, "/lp/open", JSON.stringify({ protocols: [protocol] }));
  const id = JSON.parse(decoder.decode(opened.body)).transport as string;
  await rawPost(port, `/lp/${id}/send`, jsonBody([1, "realm1", { roles }], batched));
  const welcome = await rawPost(port, `/lp/${id}/receive`);
  const [first] = jsonMessages(welcome.body, batched) as unknown[][];
  if (first?.[0] !== 2) throw new Error(`no WELCOME: ${decoder.decode(welcome.body)}`);
  return id;
}
