/**
 * What a `node:tls` socket tells about its connection, as
 * {@linkcode TlsInfo}: protocol, the verified client certificate, and the
 * `tls-unique` channel binding.
 *
 * @module
 */

import { builtin } from "../../wamp/builtin.ts";
import type { TLSSocket } from "node:tls";
import type { PeerCertificate, TlsInfo } from "../../wamp/mod.ts";

/**
 * Reads the TLS details of a connected socket.
 *
 * @param socket A socket whose handshake completed.
 * @param side `server` on the listener's end, `client` on the dialer's.
 * @returns Protocol, client certificate (server side, when verified) and
 * channel binding.
 */
export function tlsInfo(socket: TLSSocket, side: "server" | "client"): TlsInfo {
  const protocol = socket.getProtocol?.() ?? undefined;
  // tls-unique is the client's Finished message: the server reads it as
  // the peer's, the client as its own.
  const finished = side === "server" ? socket.getPeerFinished?.() : socket.getFinished?.();
  const channelId = finished === undefined || finished.length === 0
    ? undefined
    : new Uint8Array(builtin("node:crypto").createHash("sha256").update(finished).digest());
  const peerCertificate = side === "server" && socket.authorized
    ? certificateOf(socket)
    : undefined;
  return {
    ...(protocol === null || protocol === undefined ? {} : { protocol }),
    ...(peerCertificate === undefined ? {} : { peerCertificate }),
    ...(channelId === undefined ? {} : { channelId }),
  };
}

function certificateOf(socket: TLSSocket): PeerCertificate | undefined {
  const cert = socket.getPeerCertificate();
  if (cert === null || cert === undefined || Object.keys(cert).length === 0) return undefined;
  const fields = (o: unknown) =>
    Object.fromEntries(Object.entries(o ?? {}).map(([k, v]) => [k, String(v)]));
  return {
    subject: fields(cert.subject),
    issuer: fields(cert.issuer),
    fingerprint256: cert.fingerprint256,
    fingerprint: cert.fingerprint,
    serialNumber: cert.serialNumber,
    validFrom: cert.valid_from,
    validTo: cert.valid_to,
    ...(cert.subjectaltname ? { subjectAltName: cert.subjectaltname } : {}),
  };
}
