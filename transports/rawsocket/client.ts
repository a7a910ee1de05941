/**
 * RawSocket transport, client side: `tcp://`, `tcps://` (TLS) and `unix:`
 * URLs, and the opening handshake.
 *
 * Spec: https://wamp-proto.org/wamp_latest_ietf.html#name-rawsocket-transport
 *
 * @module
 */

import {
  type Link,
  type SerializerName,
  serializers as allSerializers,
  TransportError,
  UnsupportedUrlError,
} from "../../wamp/mod.ts";
import { clientBacklog, type ClientTlsOptions, dial, type DialAddress } from "../stream/dial.ts";
import { RawSocketConnection, transportInfo } from "./link.ts";
import {
  decodeHandshakeReply,
  encodeHandshake,
  HANDSHAKE_ERROR_TEXT,
  type HandshakeReply,
  lengthExponent,
  receiveLimit,
  sendLimit,
} from "./handshake.ts";
import { concat } from "../stream/bytes.ts";
import type { Wire } from "../stream/wire.ts";

/** Options for {@linkcode connectRawSocket}. */
export interface ConnectRawSocketOptions {
  /**
   * The serializer to ask for: RawSocket negotiates exactly one, so only
   * the first entry is used.
   * @default {["json"]}
   */
  serializers?: SerializerName[];
  /**
   * The largest incoming message, in bytes (512 to 16 MiB), announced to
   * the router as the largest power of two not above it.
   * @default {16777216}
   */
  maxMessageSize?: number;
  /** TLS settings for a `tcps://` URL (ignored for the others). */
  tls?: ClientTlsOptions;
  /** Aborts the connection attempt. */
  signal?: AbortSignal;
  /**
   * Milliseconds between checks for silence: a PING goes out when nothing
   * arrived since the previous check. 0 turns PINGs off.
   * @default {0}
   */
  pingInterval?: number;
  /**
   * Milliseconds to wait for an answer to a PING before closing.
   * @default {10000}
   */
  pingTimeout?: number;
  /**
   * Milliseconds to wait for the connection and TLS handshake, and again
   * for the router's handshake reply.
   * @default {10000}
   */
  handshakeTimeout?: number;
  /**
   * Bytes that may wait to go out: past half of it the client stops
   * reading (a router that sends PINGs and never reads its PONGs is not
   * buffered for without bound), and PONGs past it close the connection.
   * @default {16 MiB, or 2 x maxMessageSize when that is more}
   */
  maxBacklog?: number;
}

/** Where a RawSocket URL points. */
export interface RawSocketAddress {
  /** Host and port, or a Unix socket path. */
  readonly address: DialAddress;
  /** Whether to use TLS (`tcps://`). */
  readonly tls: boolean;
}

/**
 * Parses a RawSocket URL: `tcp://host:port`, `tcps://host:port` (TLS),
 * `unix:///absolute/path` or `unix:/absolute/path`.
 *
 * @param url The URL.
 * @returns The address to dial and whether to use TLS.
 * @throws {UnsupportedUrlError} When the URL is not one of these.
 *
 * @example
 * ```ts
 * import { parseRawSocketUrl } from "./client.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(parseRawSocketUrl("tcp://[::1]:8080"), { address: { host: "::1", port: 8080 }, tls: false });
 * deepEqual(parseRawSocketUrl("unix:/run/wamp.sock"), { address: { path: "/run/wamp.sock" }, tls: false });
 * ```
 */
export function parseRawSocketUrl(url: string): RawSocketAddress {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new UnsupportedUrlError(url, "not a URL", { cause });
  }
  const scheme = parsed.protocol;
  if (scheme === "unix:") {
    const path = decodeURIComponent(parsed.pathname);
    if (parsed.host !== "" || !path.startsWith("/")) {
      throw new UnsupportedUrlError(url, "a unix: URL needs an absolute path");
    }
    return { address: { path }, tls: false };
  }
  if (scheme !== "tcp:" && scheme !== "tcps:") {
    throw new UnsupportedUrlError(url, `unsupported scheme "${scheme}" (use tcp:, tcps: or unix:)`);
  }
  const port = Number(parsed.port);
  if (parsed.hostname === "" || parsed.port === "" || !(port > 0)) {
    throw new UnsupportedUrlError(url, "host and port required");
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  return { address: { host, port }, tls: scheme === "tcps:" };
}

/**
 * Opens a RawSocket connection to a WAMP router and completes the
 * handshake. The router must echo the serializer asked for. Messages
 * that arrive before `bind()` wait for it.
 *
 * A message over the limit the router announced is never sent: `send()`
 * throws a {@linkcode MessageTooLargeError} with its size, and the sender
 * decides (the client `Session` answers an oversize YIELD with ERROR
 * `wamp.error.payload_size_exceeded` and ends itself with that reason
 * otherwise).
 *
 * @param url `tcp://host:port`, `tcps://host:port`, `unix:///path` or `unix:/path`.
 * @param options Serializer, limit, TLS, PING timing, abort signal.
 * @returns The open link.
 * @throws {TransportError} When the URL is unsupported, the connection or
 * handshake fails, the router refuses (saying why), or it answers with
 * another serializer.
 *
 * @example
 * ```ts
 * import net from "node:net";
 * import { Router } from "../../router/mod.ts";
 * import { rawSocketHandler } from "./server.ts";
 * import { connectRawSocket } from "./client.ts";
 * import { Session } from "../../client/session.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const router = new Router({ realms: [{ name: "realm1" }] });
 * const server = net.createServer(rawSocketHandler(router));
 * await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
 * const { port } = server.address() as net.AddressInfo;
 * const link = await connectRawSocket(`tcp://127.0.0.1:${port}`, { serializers: ["msgpack"] });
 * const session = await Session.join(link, { realm: "realm1" });
 * await session.register("com.example.echo", (args) => ({ args }));
 * deepEqual((await session.call("com.example.echo", { args: ["hi"] })).args, ["hi"]);
 * await session.close();
 * await router.close();
 * await new Promise((resolve) => server.close(resolve));
 * ```
 */
export async function connectRawSocket(
  url: string,
  options: ConnectRawSocketOptions = {},
): Promise<Link> {
  const { address, tls } = parseRawSocketUrl(url);
  const serializer = allSerializers[options.serializers?.[0] ?? "json"];
  if (serializer === undefined) {
    throw new TransportError(`Cannot connect to ${url}: unknown serializer`);
  }
  const wire = await dial(address, {
    tls: tls ? options.tls ?? {} : undefined,
    signal: options.signal,
    timeout: options.handshakeTimeout,
    maxBacklog: options.maxBacklog ?? clientBacklog(options.maxMessageSize),
  });
  const limit = receiveLimit(options.maxMessageSize);
  wire.write(
    encodeHandshake({ lengthExponent: lengthExponent(limit), serializer: serializer.rawSocketId }),
  );
  const { reply, early } = await handshakeReply(wire, url, options);
  const fail = (why: string) => {
    wire.destroy();
    return new TransportError(`Cannot connect to ${url}: ${why}`);
  };
  if ("error" in reply) {
    throw fail(`router refused: ${HANDSHAKE_ERROR_TEXT[reply.error] ?? `error ${reply.error}`}`);
  }
  if (reply.serializer !== serializer.rawSocketId) {
    throw fail(
      `router answered with serializer ${reply.serializer}, not ${serializer.rawSocketId} (${serializer.name})`,
    );
  }
  const connection = new RawSocketConnection(wire, {
    info: transportInfo(wire, serializer.name, url, "client"),
    serializer,
    receiveLimit: limit,
    sendLimit: sendLimit(reply.lengthExponent),
    pingInterval: options.pingInterval ?? 0,
    pingTimeout: options.pingTimeout ?? 10_000,
    strict: false, // a client takes what its router sends
  });
  connection.start(concat(early));
  return connection;
}

/** Waits for the router's 4-octet reply, within the handshake timeout. */
function handshakeReply(
  wire: Wire,
  url: string,
  options: ConnectRawSocketOptions,
): Promise<{ reply: HandshakeReply; early: Uint8Array[] }> {
  const timeout = options.handshakeTimeout ?? 10_000;
  return new Promise((resolve, reject) => {
    let buffered: Uint8Array = new Uint8Array(0);
    const done = (error?: string, cause?: unknown) => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      if (error === undefined) return;
      wire.destroy();
      reject(new TransportError(`Cannot connect to ${url}: ${error}`, { cause }));
    };
    const onAbort = () => done("aborted");
    const timer = setTimeout(() => done(`no handshake reply in ${timeout} ms`), timeout);
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    wire.bind({
      data(chunk) {
        buffered = concat([buffered, chunk]);
        if (buffered.length < 4) return;
        let reply: HandshakeReply;
        try {
          reply = decodeHandshakeReply(buffered);
        } catch (error) {
          return done(`bad handshake reply: ${(error as Error).message}`, error);
        }
        done();
        // Frames that come with or right after the reply wait for the connection.
        const early = [buffered.subarray(4)];
        wire.bind({ data: (more) => void early.push(new Uint8Array(more)), closed() {} });
        resolve({ reply, early });
      },
      closed: () => done("connection closed during the handshake"),
    });
  });
}
