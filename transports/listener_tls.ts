/**
 * A listener's TLS: its settings, the `node:tls` server options made from
 * them, and the timers that close connections whose handshake stalls.
 *
 * @module
 */

import type net from "node:net";
import type tls from "node:tls";
import { remoteAddress } from "./stream/wire.ts";

/** TLS settings of a listener. */
export interface ListenerTlsOptions {
  /** The PEM certificate chain. */
  cert: string;
  /** The PEM private key. */
  key: string;
  /** PEM CA certificates that client certificates must chain to. */
  ca?: string[];
  /**
   * Whether to ask clients for a certificate: `none`, `request` (verified
   * when sent; sessions may then authenticate with `tls`), or `require`
   * (connections without a valid one are refused).
   * @default {"none"}
   */
  clientCertificates?: "none" | "request" | "require";
}

/**
 * Closes TCP connections whose TLS handshake has not completed within the
 * timeout. The TLS socket a secure connection hands over is matched to its
 * TCP socket by `_parent` (Node's `TLSSocket` field, also in Deno's).
 */
export class HandshakeTimers {
  #pending = new Map<net.Socket, ReturnType<typeof setTimeout>>();

  /** Starts timing every connection `server` accepts; `closed` hears of those it closes. */
  constructor(server: net.Server, timeout: number, closed: (peer: string) => void) {
    server.on("connection", (raw: net.Socket) => {
      const timer = setTimeout(() => {
        this.#pending.delete(raw);
        closed(remoteAddress(raw));
        raw.destroy();
      }, timeout);
      this.#pending.set(raw, timer);
      raw.once("close", () => this.#clear(raw));
    });
  }

  /** The handshake of the connection under `secure` completed. */
  settled(secure: net.Socket): void {
    const raw = (secure as unknown as { _parent?: net.Socket })._parent;
    if (raw !== undefined) this.#clear(raw);
  }

  #clear(raw: net.Socket): void {
    clearTimeout(this.#pending.get(raw));
    this.#pending.delete(raw);
  }
}

/**
 * The `node:tls` server options of a listener's TLS settings.
 *
 * @param options The listener's TLS settings.
 * @returns The server options.
 * @throws {TypeError} When client certificates are asked for without `ca`:
 * they would be checked against the public roots, which sign anyone.
 */
export function tlsServerOptions(options: ListenerTlsOptions): tls.TlsOptions {
  const mode = options.clientCertificates ?? "none";
  if (mode !== "none" && !(options.ca?.length)) {
    throw new TypeError(
      `Cannot ask for client certificates ("${mode}") without "ca", the CA they chain to`,
    );
  }
  return {
    cert: options.cert,
    key: options.key,
    ...(options.ca === undefined ? {} : { ca: options.ca }),
    requestCert: mode !== "none",
    rejectUnauthorized: mode === "require",
  };
}
