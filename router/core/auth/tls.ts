/**
 * TLS client certificate authentication (authmethod `tls`, Crossbar's
 * behaviour; the WAMP spec names the method but leaves it to the router):
 * the listener verified the client's certificate against its CA during
 * the TLS handshake, and the router welcomes the session from that
 * certificate at once, with no CHALLENGE.
 *
 * The method is offered only on a connection that carries a verified
 * client certificate; without one the router passes on to the client's
 * next method. Static principals name the certificates they accept (see
 * {@linkcode TlsPrincipal}); a dynamic authenticator gets the certificate
 * as `transport.peer_cert` and answers `{ role, authid? }`.
 *
 * @module
 */

import { AuthMethod } from "../../../wamp/auth/auth_method.ts";
import type { PeerCertificate } from "../../../wamp/mod.ts";
import {
  askAuthenticator,
  type Authenticator,
  type AuthOutcome,
  type AuthRequest,
  deny,
  type DynamicSource,
} from "./authenticator.ts";

/**
 * A static TLS principal: the role, and which certificates are this
 * principal. Give at least one of `fingerprint256`, `fingerprint` and
 * `subject`; a certificate is the principal when every criterion given
 * holds. Fingerprints are hex, any case, colons optional (as
 * `openssl x509 -fingerprint` prints them).
 *
 * Matching by `subject` trusts every certificate the listener's CA signs
 * with that subject; pin a fingerprint when the CA is not your own.
 */
export interface TlsPrincipal {
  /** The role granted. */
  role: string;
  /** The certificate's SHA-256 fingerprint (32 bytes). */
  fingerprint256?: string;
  /** The certificate's SHA-1 fingerprint (20 bytes; Crossbar's `certificate-sha1`). */
  fingerprint?: string;
  /**
   * Subject fields the certificate must carry, e.g. `{ CN: "alice" }`;
   * field names in any case, values exactly.
   */
  subject?: Record<string, string>;
}

/** Options for {@linkcode tlsAuthenticator}: static principals or a dynamic authenticator. */
export interface TlsOptions {
  /** authid → principal. */
  principals?: Record<string, TlsPrincipal> | undefined;
  /**
   * Decides in code instead: gets the certificate as `transport.peer_cert`
   * and answers `{ role, authid? }`. Without `authid` in the answer, the
   * session's authid is the certificate's subject CN (its SHA-256
   * fingerprint when it has no CN).
   */
  authenticator?: DynamicSource | undefined;
}

/**
 * Creates the `tls` method.
 *
 * A HELLO `authid` picks the principal, whose criteria the certificate
 * must meet; without one, the certificate must match exactly one
 * principal (a certificate that matches several is refused: the client
 * should say which it means). With a dynamic authenticator, a HELLO
 * `authid` must equal the authid the authenticator grants.
 *
 * @param options Principals or a dynamic authenticator.
 * @returns The authenticator; it accepts only connections with a verified
 * client certificate.
 *
 * @example Welcoming alice by her certificate's subject
 * ```ts
 * import { tlsAuthenticator } from "./tls.ts";
 * import { deepEqual, equal } from "node:assert/strict";
 *
 * const tls = tlsAuthenticator({
 *   principals: { alice: { role: "user", subject: { CN: "alice" } } },
 * });
 * const peerCertificate = {
 *   subject: { CN: "alice" },
 *   issuer: { CN: "Example CA" },
 *   fingerprint256: "AB:".repeat(31) + "AB",
 *   fingerprint: "CD:".repeat(19) + "CD",
 *   serialNumber: "01",
 *   validFrom: "Jan  1 00:00:00 2026 GMT",
 *   validTo: "Jan  1 00:00:00 2027 GMT",
 * };
 * const transport = { type: "websocket", tls: { peerCertificate } };
 * equal(tls.accepts?.("realm1", transport), true);
 * equal(tls.accepts?.("realm1", { type: "websocket" }), false);
 * const outcome = await tls.hello({
 *   realm: "realm1",
 *   authid: undefined,
 *   authextra: {},
 *   session: 1,
 *   transport,
 * });
 * deepEqual(outcome, {
 *   welcome: { authid: "alice", authrole: "user", authmethod: "tls", authprovider: "static" },
 * });
 * ```
 */
export function tlsAuthenticator(options: TlsOptions): Authenticator {
  const { principals = {}, authenticator } = options;
  return {
    method: AuthMethod.TLS,
    accepts: (_realm, transport) => transport.tls?.peerCertificate !== undefined,
    hello(request) {
      const cert = request.transport.tls?.peerCertificate;
      if (cert === undefined) return deny("tls: the client presented no verified certificate");
      return authenticator === undefined
        ? staticOutcome(principals, request.authid, cert)
        : dynamicOutcome(authenticator, request, cert);
    },
  };
}

function staticOutcome(
  principals: Record<string, TlsPrincipal>,
  authid: string | undefined,
  cert: PeerCertificate,
): AuthOutcome {
  let matching: string[];
  if (authid !== undefined) {
    const principal = Object.hasOwn(principals, authid) ? principals[authid] : undefined;
    matching = principal !== undefined && matches(principal, cert) ? [authid] : [];
  } else {
    matching = Object.keys(principals).filter((id) => matches(principals[id]!, cert));
  }
  if (matching.length === 0) {
    return deny(
      `tls: certificate ${cert.fingerprint256} (${subjectText(cert)}) is not ` +
        (authid === undefined ? "a known principal" : `principal "${authid}"`),
    );
  }
  if (matching.length > 1) {
    return deny(
      `tls: certificate ${cert.fingerprint256} matches principals ${matching.join(", ")}; ` +
        "the client must send an authid",
    );
  }
  const granted = matching[0]!;
  return welcome(granted, principals[granted]!.role, "static");
}

function dynamicOutcome(
  authenticator: DynamicSource,
  request: AuthRequest,
  cert: PeerCertificate,
): AuthOutcome {
  return askAuthenticator(authenticator, request, AuthMethod.TLS, undefined, (principal) => {
    const authid = typeof principal.authid === "string"
      ? principal.authid
      : fieldOf(cert.subject, "CN") ?? cert.fingerprint256;
    if (request.authid !== undefined && request.authid !== authid) {
      return deny(`tls: the authenticator granted "${authid}", not "${request.authid}"`);
    }
    return welcome(authid, principal.role, "dynamic");
  });
}

function welcome(authid: string, authrole: string, authprovider: string): AuthOutcome {
  return { welcome: { authid, authrole, authmethod: AuthMethod.TLS, authprovider } };
}

/** Whether a certificate meets every criterion a principal gives. */
function matches(principal: TlsPrincipal, cert: PeerCertificate): boolean {
  const { fingerprint256, fingerprint, subject } = principal;
  if (fingerprint256 === undefined && fingerprint === undefined && subject === undefined) {
    return false; // resolveAuthOptions refuses such a principal; never match all
  }
  if (fingerprint256 !== undefined && !sameFingerprint(fingerprint256, cert.fingerprint256)) {
    return false;
  }
  if (fingerprint !== undefined && !sameFingerprint(fingerprint, cert.fingerprint)) return false;
  return subject === undefined ||
    Object.entries(subject).every(([name, value]) => fieldOf(cert.subject, name) === value);
}

/**
 * Normalizes a fingerprint to colon-separated upper-case hex, the way
 * `node:tls` and OpenSSL print it.
 *
 * @param text Hex, any case, with or without colons.
 * @param bytes The length it must have.
 * @returns The normalized fingerprint, or `undefined` when `text` is not
 * `bytes` bytes of hex.
 */
export function normalizeFingerprint(text: string, bytes: number): string | undefined {
  const hex = text.replaceAll(":", "").toUpperCase();
  if (!/^[0-9A-F]*$/.test(hex) || hex.length !== 2 * bytes) return undefined;
  return hex.match(/../g)!.join(":");
}

function sameFingerprint(configured: string, presented: string): boolean {
  const strip = (s: string) => s.replaceAll(":", "").toUpperCase();
  return strip(configured) === strip(presented);
}

/** A subject field by name, in any case. */
function fieldOf(fields: Readonly<Record<string, string>>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(fields)) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

function subjectText(cert: PeerCertificate): string {
  return Object.entries(cert.subject).map(([k, v]) => `${k}=${v}`).join(", ") || "no subject";
}
