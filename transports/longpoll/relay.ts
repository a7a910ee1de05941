/**
 * The long-poll relay between the worker processes of `cloverleaf
 * --workers`. A long-poll transport is a series of HTTP requests on
 * connections that come and go, and the kernel (`SO_REUSEPORT`) may hand
 * each to any worker, while the transport (its queue, its held `receive`)
 * lives in the worker that opened it. So under a relay a transport's ID
 * starts with its owner's number (`w2-…`), every worker listens on a
 * Unix socket of its own, in a directory only the service's user can
 * enter (the supervisor makes it, tells each worker every socket and a
 * secret, and removes it), and a worker that receives a request for
 * another worker's transport passes it on to that worker's socket and its
 * answer back ({@linkcode LongPollRelay.forward}). No TCP port: nobody
 * else can take a worker's place while it starts or restarts.
 *
 * The socket takes only requests that carry the secret, and only for
 * transports of its own worker (never relayed twice). A dead owner
 * answers nothing: the request gets 404, as for an unknown transport.
 * Refusals are logged once, then as a count per minute.
 *
 * @module
 */

import type { TransportLog } from "../../wamp/mod.ts";
import { constantTimeEqual } from "../../wamp/auth/util.ts";
import { RefusalLog } from "./refusals.ts";
import {
  ABANDON_HEADER,
  ADMIT_TIMEOUT,
  type ForwardOptions,
  passHeaders,
  type RelayTarget,
  REQUEST_HEADER,
  SECRET_HEADER,
  SERVICE_HEADER,
  SIZE_HEADER,
  TRANSPORT_HEADER,
} from "./relay_wire.ts";

export { type ForwardOptions, ownerOf, type RelayTarget } from "./relay_wire.ts";

/** Options for {@linkcode LongPollRelay}. */
export interface LongPollRelayOptions {
  /** This worker's number, from 1: the prefix of its transport IDs. */
  worker: number;
  /**
   * Every worker's Unix socket path, worker 1's first (this one's
   * included), in a directory only this user can enter: a file left at
   * this worker's path (by its predecessor) is removed.
   */
  sockets: readonly string[];
  /** The secret every relayed request carries (the supervisor's, shared by its workers). */
  secret: string;
  /** Where refused requests are logged. */
  log?: TransportLog;
  /** Milliseconds between the lines counting refused requests. @default {60000} */
  logInterval?: number;
}

/** Abandoned request IDs remembered for requests that had not come yet. */
const MAX_EARLY = 1024;

/**
 * One worker's end of the long-poll relay: its Unix socket, the long-poll
 * services (one per listener) that socket serves, and a pooled HTTP client
 * to every other worker's socket.
 *
 * @example Two workers in one process: worker 2 relays a request for worker 1's transport
 * ```ts
 * import { LongPollRelay } from "./relay.ts";
 * import { LongPollService } from "./server.ts";
 * import { Router } from "../../router/mod.ts";
 * import { equal } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const sockets = [`${dir}/relay-1.sock`, `${dir}/relay-2.sock`];
 * const router = new Router({ realms: [{ name: "realm1" }] });
 * const relays = [1, 2].map((worker) =>
 *   new LongPollRelay({ worker, sockets, secret: "a-secret-of-16-chars-or-more" })
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
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class LongPollRelay {
  /** This worker's number. */
  readonly worker: number;
  /** The Unix socket it listens on. */
  readonly socket: string;
  #sockets: readonly string[];
  #secret: string;
  #targets = new Map<string, RelayTarget>();
  #clients = new Map<number, Deno.HttpClient>();
  #server: Deno.HttpServer<Deno.UnixAddr>;
  #counts = { forwarded: 0, served: 0, refused: 0 };
  /** Relayed requests being served, by the ID their worker gave them (`REQUEST_HEADER`). */
  #serving = new Map<string, AbortController>();
  /** IDs abandoned before their request came (at most `MAX_EARLY`). */
  #early = new Set<string>();
  #refusals: RefusalLog;

  /**
   * Listens on this worker's Unix socket.
   *
   * @param options This worker's number, every worker's socket, the secret.
   * @throws {RangeError} When `sockets` has no socket for `worker`.
   * @throws {Deno.errors.AddrInUse} When the socket cannot be made.
   */
  constructor(options: LongPollRelayOptions) {
    const socket = options.sockets[options.worker - 1];
    if (socket === undefined) {
      throw new RangeError(
        `Cannot start long-poll relay for worker ${options.worker}: ${options.sockets.length} sockets given`,
      );
    }
    this.worker = options.worker;
    this.socket = socket;
    this.#sockets = options.sockets;
    this.#secret = options.secret;
    this.#refusals = new RefusalLog(options.log, options.logInterval ?? 60_000);
    try {
      Deno.removeSync(socket); // a crashed predecessor's: the directory is this user's alone
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    const onError = () => new Response("Internal error\n", { status: 500 });
    this.#server = Deno.serve({ path: socket, onListen() {}, onError }, (request) => {
      if (!constantTimeEqual(request.headers.get(SECRET_HEADER) ?? "", this.#secret)) {
        this.#counts.refused++;
        this.#refusals.refused();
        void request.body?.cancel().catch(() => {});
        return new Response("Forbidden\n", { status: 403 });
      }
      const target = this.#targets.get(request.headers.get(SERVICE_HEADER) ?? "");
      if (target === undefined) {
        void request.body?.cancel().catch(() => {});
        return new Response("No such WAMP transport\n", { status: 404 });
      }
      const query = new URL(request.url).pathname === "/";
      const abandoned = request.headers.get(ABANDON_HEADER);
      if (abandoned !== null && query) {
        void request.body?.cancel().catch(() => {});
        this.#abandoned(abandoned);
        return new Response(null, { status: 204 });
      }
      const transport = request.headers.get(TRANSPORT_HEADER);
      if (transport !== null && query) {
        void request.body?.cancel().catch(() => {});
        const limit = target.admitSend(transport, Number(request.headers.get(SIZE_HEADER)));
        if (limit === undefined) return new Response("No such WAMP transport\n", { status: 404 });
        return new Response(String(limit));
      }
      this.#counts.served++;
      const id = request.headers.get(REQUEST_HEADER);
      if (id === null) return target.serveRelayed(request);
      // Aborted by an abandon query: its client left the worker that passed it on.
      const closed = new AbortController();
      if (this.#early.delete(id)) closed.abort();
      else this.#serving.set(id, closed);
      return target.serveRelayed(request, closed.signal).finally(() => this.#serving.delete(id));
    });
  }

  /** A forwarded request's client left: it ends here (or at once, should it come later). */
  #abandoned(id: string): void {
    const serving = this.#serving.get(id);
    if (serving !== undefined) return serving.abort();
    this.#early.add(id);
    // Kept for the few requests that may still be on their way: the oldest go first.
    if (this.#early.size > MAX_EARLY) this.#early.delete(this.#early.values().next().value!);
  }

  /** Requests this worker passed on to others, answered for them, and refused (no secret). */
  get counts(): { forwarded: number; served: number; refused: number } {
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
   * Whether a worker `owner` other than this one is in the relay.
   *
   * @param owner A worker number.
   * @returns Whether requests for its transports are passed on.
   */
  relays(owner: number): boolean {
    return owner !== this.worker && this.#sockets[owner - 1] !== undefined;
  }

  /**
   * Asks worker `owner` how large a body a `send` to its transport may
   * bring (before the body is read here: one that could not join reads
   * 64 KiB at most). A size over the answer ends the transport's session,
   * as for a `send` received by its owner.
   *
   * @param owner The transport's worker.
   * @param name The long-poll service's name.
   * @param id The transport's ID.
   * @param size The body's size, from the request head.
   * @returns The body limit, or `undefined` when the transport is unknown
   * or closed, or its worker does not answer (within 10 s).
   */
  async admit(owner: number, name: string, id: string, size: number): Promise<number | undefined> {
    const client = this.#client(owner);
    if (client === undefined) return undefined;
    const headers = new Headers({ [SECRET_HEADER]: this.#secret, [SERVICE_HEADER]: name });
    headers.set(TRANSPORT_HEADER, id);
    headers.set(SIZE_HEADER, String(size));
    try {
      const signal = AbortSignal.timeout(ADMIT_TIMEOUT);
      const answer = await fetch(`http://worker-${owner}/`, {
        method: "POST",
        headers,
        client,
        signal,
      });
      const text = await answer.text();
      return answer.status === 200 && /^\d{1,15}$/.test(text) ? Number(text) : undefined;
    } catch {
      return undefined; // gone or late: as for an unknown transport
    }
  }

  /** The pooled HTTP client to worker `owner`'s socket, or none for this worker or no such worker. */
  #client(owner: number): Deno.HttpClient | undefined {
    const socket = this.#sockets[owner - 1];
    if (socket === undefined || owner === this.worker) return undefined;
    let client = this.#clients.get(owner);
    if (client === undefined) {
      // Straight to the socket: no HTTP_PROXY from the environment in between.
      client = Deno.createHttpClient({ proxy: { transport: "unix", path: socket } });
      this.#clients.set(owner, client);
    }
    return client;
  }

  /**
   * Passes a request for another worker's transport on to that worker and
   * returns its answer, marked with a `Via` header.
   *
   * @param owner The transport's worker.
   * @param name The long-poll service's name.
   * @param request The request.
   * @param options The time the owner has, and whether the body goes along
   * (streamed; otherwise it is dropped here).
   * @returns The owner's response, 504 when it does not answer within the
   * timeout, or `undefined` when no worker `owner` answers (it is gone, or
   * there is none): then the transport is unknown.
   */
  async forward(
    owner: number,
    name: string,
    request: Request,
    options: ForwardOptions,
  ): Promise<Response | undefined> {
    const body = options.body ? request.body : null;
    if (body === null) void request.body?.cancel().catch(() => {});
    const client = this.#client(owner);
    if (client === undefined) {
      void body?.cancel().catch(() => {});
      return undefined;
    }
    const headers = passHeaders(request.headers);
    headers.set(SECRET_HEADER, this.#secret);
    headers.set(SERVICE_HEADER, name);
    const { timeout, closed } = options;
    const late = timeout === undefined ? undefined : AbortSignal.timeout(timeout);
    const either = [late, closed].filter((s) => s !== undefined);
    const signal = either.length > 1 ? AbortSignal.any(either) : either[0];
    const id = crypto.randomUUID();
    headers.set(REQUEST_HEADER, id);
    const abandon = () => void this.#abandon(owner, name, id, client);
    closed?.addEventListener("abort", abandon, { once: true });
    const url = new URL(request.url);
    try {
      const upstream = await fetch(`http://worker-${owner}${url.pathname}${url.search}`, {
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
    } finally {
      closed?.removeEventListener("abort", abandon);
    }
  }

  /** Tells worker `owner` that the client of forwarded request `id` left. */
  async #abandon(owner: number, name: string, id: string, client: Deno.HttpClient): Promise<void> {
    const headers = new Headers({ [SECRET_HEADER]: this.#secret, [SERVICE_HEADER]: name });
    headers.set(ABANDON_HEADER, id);
    try {
      const signal = AbortSignal.timeout(ADMIT_TIMEOUT);
      await (await fetch(`http://worker-${owner}/`, { method: "POST", headers, client, signal }))
        .body?.cancel();
    } catch {
      // gone or late: its receive ends at its poll timeout, its send is delivered
    }
  }

  /** Stops listening (the socket file goes) and closes the connections to the other workers. */
  async close(): Promise<void> {
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
    this.#targets.clear();
    this.#refusals.close();
    await this.#server.shutdown();
  }
}
