/**
 * The long-poll relay between the worker processes of `cloverleaf
 * --workers`. A long-poll transport is a series of HTTP requests on
 * connections that come and go, and the kernel (`SO_REUSEPORT`) may hand
 * each to any worker, while the transport (its queue, its held `receive`)
 * lives in the worker that opened it. So under a relay a transport's ID
 * starts with its owner's number (`w2-…`), every worker listens on a
 * private loopback port of its own (the supervisor tells each worker every
 * port, and a secret), and a worker that receives a request for another
 * worker's transport passes it on to that worker's port and its answer
 * back ({@linkcode LongPollRelay.forward}).
 *
 * The private port takes only requests from loopback that carry the
 * secret, and only for transports of its own worker (never relayed twice).
 * A dead owner answers nothing: the request gets 404, as for an unknown
 * transport.
 *
 * @module
 */

import type { TransportLog } from "../../wamp/mod.ts";
import { constantTimeEqual } from "../../wamp/auth/util.ts";
import { isLoopback } from "../address.ts";

/** What a relay passes requests to: a long-poll service of this worker. */
export interface RelayTarget {
  /**
   * Answers a request relayed from another worker, without relaying it again.
   *
   * @param request The request, as the other worker received it.
   * @returns The response.
   */
  serveRelayed(request: Request): Promise<Response>;
}

/** Options for {@linkcode LongPollRelay}. */
export interface LongPollRelayOptions {
  /** This worker's number, from 1: the prefix of its transport IDs. */
  worker: number;
  /** Every worker's private loopback port, worker 1's first (this one's included). */
  ports: readonly number[];
  /** The secret every relayed request carries (the supervisor's, shared by its workers). */
  secret: string;
  /** Where refused requests are logged. */
  log?: TransportLog;
}

/** The header that carries the relay's secret. */
const SECRET_HEADER = "x-cloverleaf-relay";
/** The header that names the long-poll service (a listener) on the owner. */
const SERVICE_HEADER = "x-cloverleaf-relay-service";
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
]);
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
 * import { ownerOf } from "./relay.ts";
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
function passHeaders(from: Headers): Headers {
  const headers = new Headers();
  from.forEach((value, name) => {
    if (!HOP_HEADERS.has(name)) headers.set(name, value);
  });
  return headers;
}

/**
 * One worker's end of the long-poll relay: its private loopback port, the
 * long-poll services (one per listener) that port serves, and a pooled
 * HTTP client to every other worker's port.
 *
 * @example Two workers in one process: worker 2 relays a request for worker 1's transport
 * ```ts
 * import { LongPollRelay } from "./relay.ts";
 * import { LongPollService } from "./server.ts";
 * import { Router } from "../../router/mod.ts";
 * import { equal } from "node:assert/strict";
 *
 * const free = () => {
 *   const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 *   listener.close();
 *   return listener.addr.port;
 * };
 * const ports = [free(), free()];
 * const router = new Router({ realms: [{ name: "realm1" }] });
 * const relays = [1, 2].map((worker) =>
 *   new LongPollRelay({ worker, ports, secret: "a-secret-of-16-chars-or-more" })
 * );
 * const [one, two] = relays.map((via) => new LongPollService(router, { relay: { via, name: "0" } }));
 * const opened = await one!.handle(
 *   new Request("http://localhost/lp/open", {
 *     method: "POST",
 *     body: JSON.stringify({ protocols: ["wamp.2.json"] }),
 *   }),
 * );
 * const { transport } = await opened.json();
 * const closed = await two!.handle(
 *   new Request(`http://localhost/lp/${transport}/close`, { method: "POST" }),
 * );
 * equal(closed.status, 204);
 * equal(closed.headers.get("via"), "1.1 cloverleaf-worker-2");
 * equal(one!.size, 0);
 * for (const service of [one!, two!]) service.close();
 * for (const relay of relays) await relay.close();
 * await router.close();
 * ```
 */
export class LongPollRelay {
  /** This worker's number. */
  readonly worker: number;
  /** The private port it listens on. */
  readonly port: number;
  #ports: readonly number[];
  #secret: string;
  #targets = new Map<string, RelayTarget>();
  #clients = new Map<number, Deno.HttpClient>();
  #server: Deno.HttpServer<Deno.NetAddr>;
  #counts = { forwarded: 0, served: 0 };

  /**
   * Listens on this worker's private port (127.0.0.1 only).
   *
   * @param options This worker's number, every worker's port, the secret.
   * @throws {RangeError} When `ports` has no port for `worker`.
   * @throws {Deno.errors.AddrInUse} When the port is taken.
   */
  constructor(options: LongPollRelayOptions) {
    const port = options.ports[options.worker - 1];
    if (port === undefined) {
      throw new RangeError(
        `Cannot start long-poll relay for worker ${options.worker}: ${options.ports.length} ports given`,
      );
    }
    this.worker = options.worker;
    this.port = port;
    this.#ports = options.ports;
    this.#secret = options.secret;
    const log = options.log;
    const onError = () => new Response("Internal error\n", { status: 500 });
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port, onListen() {}, onError },
      (request, info) => {
        const from = info.remoteAddr.hostname;
        if (
          !isLoopback(from) ||
          !constantTimeEqual(request.headers.get(SECRET_HEADER) ?? "", this.#secret)
        ) {
          log?.("warn", `Long-poll relay: request from ${from} refused (403): not a worker`);
          void request.body?.cancel().catch(() => {});
          return new Response("Forbidden\n", { status: 403 });
        }
        const target = this.#targets.get(request.headers.get(SERVICE_HEADER) ?? "");
        if (target === undefined) {
          void request.body?.cancel().catch(() => {});
          return new Response("No such WAMP transport\n", { status: 404 });
        }
        this.#counts.served++;
        return target.serveRelayed(request);
      },
    );
  }

  /** Requests this worker passed on to others, and requests it answered for them. */
  get counts(): { forwarded: number; served: number } {
    return { ...this.#counts };
  }

  /**
   * Serves relayed requests for `name` (a listener) with `target`.
   *
   * @param name The service's name, the same in every worker.
   * @param target The long-poll service.
   */
  add(name: string, target: RelayTarget): void {
    this.#targets.set(name, target);
  }

  /**
   * Stops serving relayed requests for `name`.
   *
   * @param name The service's name.
   * @param target The service, which must be the one added.
   */
  delete(name: string, target: RelayTarget): void {
    if (this.#targets.get(name) === target) this.#targets.delete(name);
  }

  /**
   * Passes a request for another worker's transport on to that worker and
   * returns its answer, marked with a `Via` header.
   *
   * @param owner The transport's worker.
   * @param name The long-poll service's name.
   * @param request The request (its body is read whole).
   * @param timeout Milliseconds the owner has to answer, or undefined for no limit.
   * @returns The owner's response, 504 when it does not answer within
   * `timeout`, or `undefined` when no worker `owner` answers (it is gone, or
   * there is none): then the transport is unknown.
   */
  async forward(
    owner: number,
    name: string,
    request: Request,
    timeout: number | undefined,
  ): Promise<Response | undefined> {
    const port = this.#ports[owner - 1];
    if (port === undefined || owner === this.worker) return undefined;
    let client = this.#clients.get(owner);
    if (client === undefined) {
      // Straight to the port: an HTTP_PROXY in the environment must not take loopback requests.
      client = Deno.createHttpClient({ proxy: { transport: "tcp", hostname: "127.0.0.1", port } });
      this.#clients.set(owner, client);
    }
    const headers = passHeaders(request.headers);
    headers.set(SECRET_HEADER, this.#secret);
    headers.set(SERVICE_HEADER, name);
    const body = request.body === null ? null : await request.bytes();
    const signal = timeout === undefined ? undefined : AbortSignal.timeout(timeout);
    const url = new URL(request.url);
    try {
      const upstream = await fetch(`http://127.0.0.1:${port}${url.pathname}${url.search}`, {
        method: request.method,
        headers,
        body,
        client,
        redirect: "manual",
        ...(signal === undefined ? {} : { signal }),
      });
      // Read whole here: a body that fails later would fail the client's connection.
      const bytes = await upstream.bytes();
      this.#counts.forwarded++;
      const answer = passHeaders(upstream.headers);
      answer.set("via", `1.1 cloverleaf-worker-${this.worker}`);
      return new Response(upstream.status === 204 ? null : bytes, {
        status: upstream.status,
        headers: answer,
      });
    } catch {
      if (signal?.aborted) {
        return new Response("Worker did not answer in time\n", { status: 504 });
      }
      return undefined; // the owner is gone: its transports with it
    }
  }

  /** Stops listening and closes the connections to the other workers. */
  async close(): Promise<void> {
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
    this.#targets.clear();
    await this.#server.shutdown();
  }
}
