/**
 * What a long-poll service passes on to the workers that own other
 * workers' transports (`relay.ts`), and the turn a `send` waits for
 * before it is: one `send` of a transport at a time is read and passed on
 * here, as its owner takes them (`send_gate.ts`), up to 64 wait with
 * their bodies unread, and one more gets 429. Before, a worker read every
 * `send` it received for another worker's transport whole at once and held
 * it until the owner's turn came: 40 concurrent 8 MiB sends to one
 * transport under `--workers 2`, about half of them relayed, added
 * 0.5-0.6 GiB to the worker that relayed them (80: 1.1 GiB); now 130-160
 * MiB, whatever their number.
 *
 * @module
 */

import type { Admitted, HttpAdmission } from "../stream/http_routes.ts";
import { PRE_JOIN_BODY } from "./link.ts";
import type { LongPollRelay } from "./relay.ts";
import { admitSend, SendGate, sendTurn } from "./send_gate.ts";

/** Milliseconds a worker has to answer a relayed request, beyond a `receive`'s poll timeout. */
const RELAY_GRACE = 10_000;

/** A request for another worker's transport: its ID, what it asks, and the owner's number. */
export interface ForwardedRoute {
  /** The transport's ID. */
  id: string;
  /** `send`, `receive` or `close`. */
  op: string | undefined;
  /** The owning worker. */
  owner: number;
}

/** Options for {@linkcode Forwarder}. */
export interface ForwarderOptions {
  /** Milliseconds a `receive` is held on its owner (0: until something is queued). */
  pollTimeout: number;
  /** The largest `send` body a transport takes. */
  maxMessageSize: number;
}

/** Options for {@linkcode Forwarder.forward}. */
export interface ForwardRequestOptions {
  /** What {@linkcode Forwarder.admit} returned for the request, if it was asked. */
  admission?: HttpAdmission | undefined;
  /** Aborts when the client's connection closes: the owner is told. */
  closed?: AbortSignal | undefined;
  /** The answer for a `send` refused here: 429 when too many wait. */
  refuse(status: 404 | 429): Response;
}

/**
 * One long-poll service's requests for other workers' transports, on
 * their way to the owners, with a gate per transport for their `send`s. A
 * gate lives while a `send` of its transport holds or waits for the turn:
 * what is kept is bounded by the requests in progress.
 *
 * @example A transport's second `send` waits for the first one's turn
 * ```ts
 * import { Forwarder } from "./forwarder.ts";
 * import { LongPollRelay } from "./relay.ts";
 * import { equal } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const sockets = [`${dir}/relay-1.sock`, `${dir}/relay-2.sock`];
 * const via = new LongPollRelay({ worker: 2, sockets, secret: "a-secret-of-16-chars-or-more" });
 * const forwarder = new Forwarder({ via, name: "0" }, { pollTimeout: 0, maxMessageSize: 1024 });
 * const refuse = (status: number) => new Response(null, { status });
 * const route = { id: "w1-abc", op: "send", owner: 1 };
 * const first = forwarder.admit(route, 10, refuse);
 * const second = forwarder.admit(route, 10, refuse);
 * equal(second instanceof Promise, true);
 * equal(forwarder.size, 1);
 * (first as { abandon(): void }).abandon();
 * ((await second) as { abandon(): void }).abandon();
 * equal(forwarder.size, 0);
 * await via.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class Forwarder {
  #relay: { readonly via: LongPollRelay; readonly name: string };
  #options: ForwarderOptions;
  #gates = new Map<string, SendGate>();

  /**
   * Creates the forwarder.
   *
   * @param relay The relay and the service's name on it.
   * @param options The service's poll timeout and body limit.
   */
  constructor(
    relay: { readonly via: LongPollRelay; readonly name: string },
    options: ForwarderOptions,
  ) {
    this.#relay = relay;
    this.#options = options;
  }

  /** How many transports have a `send` holding or waiting for their turn here. */
  get size(): number {
    return this.#gates.size;
  }

  /**
   * Admits a `send` for another worker's transport from its head (the
   * listener's path): it waits for its transport's turn here, its body
   * unread; then a body no session may send before joining is read only
   * once the owner says so (`LongPollRelay.admit`).
   *
   * @param route The transport and its owner.
   * @param size The body's size, from the request head.
   * @param refuse The answer for a status: 429 when too many wait, 404
   * when the owner does not know the transport.
   * @returns The admission (holding the turn until the owner's answer is
   * back) or the refusal, or a promise of either.
   */
  admit(
    route: ForwardedRoute,
    size: number,
    refuse: (status: 404 | 429) => Response,
  ): Admitted | Promise<Admitted> {
    const { via, name } = this.#relay;
    const { id, owner } = route;
    const limit = () =>
      size > PRE_JOIN_BODY ? via.admit(owner, name, id, size) : this.#options.maxMessageSize;
    return admitSend(this.#gate(id), id, limit, refuse);
  }

  /**
   * Passes a request on to its transport's owner (a `send` in its turn:
   * its admission's, or one it waits for now) and returns the answer.
   *
   * @param request The request.
   * @param route The transport, the operation and the owner.
   * @param options The request's admission and connection, and the
   * answer to a `send` refused here.
   * @returns The owner's answer (504 when late), a refusal, or
   * `undefined` when the owner is gone.
   */
  async forward(
    request: Request,
    route: ForwardedRoute,
    options: ForwardRequestOptions,
  ): Promise<Response | undefined> {
    const { id, op, owner } = route;
    const turn = op === "send" ? await sendTurn(this.#gate(id), id, options.admission) : undefined;
    if (typeof turn === "number") {
      await request.body?.cancel().catch(() => {});
      return options.refuse(turn);
    }
    const poll = this.#options.pollTimeout;
    // A send waits for its transport's turn there, however long: given up, it would still be
    // delivered after its 504. Either ends when the client's connection closes.
    const timeout = op === "close"
      ? RELAY_GRACE
      : op === "receive" && poll > 0
      ? poll + RELAY_GRACE
      : undefined;
    try {
      return await this.#relay.via.forward(owner, this.#relay.name, request, {
        body: op === "send",
        ...(timeout === undefined ? {} : { timeout }),
        ...(options.closed === undefined ? {} : { closed: options.closed }),
      });
    } finally {
      turn?.release();
    }
  }

  /** Transport `id`'s gate, made now if none waits; it goes once idle. */
  #gate(id: string): SendGate {
    let gate = this.#gates.get(id);
    if (gate === undefined) {
      const made = new SendGate(() => this.#gates.get(id) === made && this.#gates.delete(id));
      this.#gates.set(id, gate = made);
    }
    return gate;
  }
}
