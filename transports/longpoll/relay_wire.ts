/**
 * What the long-poll relay's workers say to each other (`relay.ts`): the
 * service a relayed request goes to, the options of a forwarded request,
 * the headers of one hop, and which worker owns a transport ID.
 *
 * @module
 */

/** What a relay passes requests to: a long-poll service of this worker. */
export interface RelayTarget {
  /**
   * Answers a request relayed from another worker, without relaying it again.
   *
   * @param request The request, as the other worker received it.
   * @returns The response.
   */
  serveRelayed(request: Request, closed?: AbortSignal): Promise<Response>;
  /**
   * Decides on a `send` to one of this worker's transports that another
   * worker received, from its head alone: as for a `send` received here,
   * a size over the limit ends the transport's session.
   *
   * @param id The transport's ID.
   * @param size The body's size, from the request head.
   * @returns The largest body the `send` may bring, or `undefined` for an
   * unknown or closed transport.
   */
  admitSend(id: string, size: number): number | undefined;
}

/** Options for `LongPollRelay.forward`. */
export interface ForwardOptions {
  /** Milliseconds the owner has to answer; absent for no limit. */
  timeout?: number;
  /** Whether the request's body is passed on (streamed; only a `send` has one). */
  body: boolean;
  /**
   * Aborts when the client's connection closes: the request to the owner
   * is given up, and the owner is told (an abandon query), so a `send`
   * still waiting for its turn there is not delivered and a held
   * `receive` ends taking nothing.
   */
  closed?: AbortSignal;
}

/** The header that carries the relay's secret. */
export const SECRET_HEADER = "x-cloverleaf-relay";
/** The header that names the long-poll service (a listener) on the owner. */
export const SERVICE_HEADER = "x-cloverleaf-relay-service";
/** The headers of an admission query (`LongPollRelay.admit`, path `/`): transport, body size. */
export const TRANSPORT_HEADER = "x-cloverleaf-relay-transport";
export const SIZE_HEADER = "x-cloverleaf-relay-size";
/** The ID a forwarded request carries, by which an abandon query (path `/`) names it. */
export const REQUEST_HEADER = "x-cloverleaf-relay-request";
/** The header of an abandon query: the ID of a forwarded request whose client left. */
export const ABANDON_HEADER = "x-cloverleaf-relay-abandon";
/** Headers of one hop that are not passed on (`content-length` is set again). */
const HOP_HEADERS = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "content-length",
  "host",
  "date",
  SECRET_HEADER,
  SERVICE_HEADER,
  TRANSPORT_HEADER, // a client's would make a relayed request an admission query
  SIZE_HEADER,
  REQUEST_HEADER,
  ABANDON_HEADER,
]);
/** Milliseconds the owner has to answer an admission query. */
export const ADMIT_TIMEOUT = 10_000;
/** A transport ID under a relay: `w<owner>-<random>`. */
const OWNED_ID = /^w([1-9][0-9]{0,3})-/;

/**
 * The owner of a transport ID under a relay.
 *
 * @param id A transport ID.
 * @returns The owning worker's number, or `undefined` for an ID without one.
 *
 * @example
 * ```ts
 * import { ownerOf } from "./relay_wire.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(ownerOf("w2-Qm9vAbc"), 2);
 * equal(ownerOf("Qm9vAbc"), undefined);
 * ```
 */
export function ownerOf(id: string): number | undefined {
  const match = OWNED_ID.exec(id);
  return match === null ? undefined : Number(match[1]);
}

/** The headers of `from` without one hop's own. */
export function passHeaders(from: Headers): Headers {
  const headers = new Headers();
  from.forEach((value, name) => {
    if (!HOP_HEADERS.has(name)) headers.set(name, value);
  });
  return headers;
}
