/**
 * One long-poll transport's `send` requests, one at a time: the turn goes
 * to each in the order their heads arrived, and a `send` that waits for
 * it has nothing of its body read (the listener's HTTP loop reads at most
 * 64 KiB of a connection while its admission is pending; a fetch-style
 * request's body stream stays unread). Before, every concurrent `send`
 * read its whole body (up to `maxMessageSize`, 16 MiB) at once: 24 of
 * them on one session added 0.6-1.3 GiB to the router's memory.
 *
 * @module
 */

import type { Admitted, HttpAdmission } from "../stream/http_routes.ts";

/**
 * The most `send` requests that may wait for one transport's turn; one
 * more gets 429 at once, its body unread. Our client posts one `send` at
 * a time; Autobahn|JS posts each message in its own request without
 * waiting for the previous one (a browser runs 6 at a time per host and
 * queues the rest itself), and a 429 ends its transport, so the bound
 * leaves room for bursts of a real client. What waits is bounded too: 64
 * connections of one transport, each read at most 64 KiB ahead.
 */
export const MAX_WAITING_SENDS = 64;

/** A transport's turn to take one `send`: released once, when the send is answered or abandoned. */
export class SendTurn {
  #release: (() => void) | undefined;

  /**
   * Creates a turn.
   *
   * @param release Passes the turn on.
   */
  constructor(release: () => void) {
    this.#release = release;
  }

  /** Passes the turn on to the next waiting `send`. Idempotent. */
  release(): void {
    const release = this.#release;
    this.#release = undefined;
    release?.();
  }
}

/**
 * A `send` admitted by the listener from its head, holding its
 * transport's turn: the HTTP loop reads its body, hands it to the
 * service's `handle`, which releases the turn once the body is delivered
 * (or calls `abandon` when the request ends first).
 */
export class SendAdmission implements HttpAdmission {
  /** The largest body the `send` may bring. */
  readonly maxBodySize: number;
  /** The transport's ID. */
  readonly transport: string;
  /** The turn it holds. */
  readonly turn: SendTurn;

  /**
   * Creates the admission.
   *
   * @param maxBodySize The body limit.
   * @param transport The transport's ID.
   * @param turn The turn it holds.
   */
  constructor(maxBodySize: number, transport: string, turn: SendTurn) {
    this.maxBodySize = maxBodySize;
    this.transport = transport;
    this.turn = turn;
  }

  /** The request will not be handled: the turn goes on. */
  abandon(): void {
    this.turn.release();
  }
}

/**
 * One transport's turn for `send` requests: one holds it, up to
 * {@linkcode MAX_WAITING_SENDS} wait in order, and closing the transport
 * sends every waiting one away.
 *
 * @example
 * ```ts
 * import { SendGate } from "./send_gate.ts";
 * import { equal } from "node:assert/strict";
 *
 * const gate = new SendGate();
 * const first = await gate.enter();
 * let second = false;
 * const next = Promise.resolve(gate.enter()).then((turn) => (second = true, turn));
 * await Promise.resolve();
 * equal(second, false);
 * first!.release();
 * (await next)!.release();
 * equal(second, true);
 * ```
 */
export class SendGate {
  #held = false;
  #waiting: ((turn: SendTurn | undefined) => void)[] = [];
  #closed = false;
  #idle: (() => void) | undefined;

  /**
   * Creates a gate.
   *
   * @param idle Called each time the turn is released with no `send` waiting.
   */
  constructor(idle?: () => void) {
    this.#idle = idle;
  }

  /** Whether a `send` now would be refused: {@linkcode MAX_WAITING_SENDS} wait already. */
  get full(): boolean {
    return this.#waiting.length >= MAX_WAITING_SENDS;
  }

  /**
   * Takes the turn: at once when nobody holds it, else once the `send`s
   * ahead have released it. Check {@linkcode SendGate.full} first.
   *
   * @returns The turn, or a promise of it; `undefined` once the
   * transport closed.
   */
  enter(): SendTurn | undefined | Promise<SendTurn | undefined> {
    if (this.#closed) return undefined;
    if (!this.#held) {
      this.#held = true;
      return this.#turn();
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** The transport closed: every waiting `send` gets `undefined`, and later ones too. */
  close(): void {
    this.#closed = true;
    for (const resolve of this.#waiting.splice(0)) resolve(undefined);
  }

  #turn(): SendTurn {
    return new SendTurn(() => {
      const next = this.#waiting.shift();
      if (next !== undefined) return next(this.#turn());
      this.#held = false;
      this.#idle?.();
    });
  }
}

/** A `send`'s body limit, or `undefined` when its transport is gone; or a promise of either. */
type SendLimit = number | undefined | Promise<number | undefined>;

/**
 * Admits a `send` from its head (the listener's path): it waits for its
 * transport's turn, unread, and then `decide` gives its body limit.
 *
 * @param gate The transport's gate.
 * @param id The transport's ID.
 * @param decide The body limit once in turn, or `undefined` when the
 * transport is gone; or a promise of either (its owner's answer, for a
 * `send` relayed to another worker), the turn held meanwhile.
 * @param refuse The answer for a status: 429 when too many wait, 404 when
 * the transport is gone.
 * @returns The admission (holding the turn) or the refusal, or a promise
 * of either.
 */
export function admitSend(
  gate: SendGate,
  id: string,
  decide: () => SendLimit,
  refuse: (status: 404 | 429) => Response,
): Admitted | Promise<Admitted> {
  if (gate.full) return refuse(429);
  const decided = (turn: SendTurn, limit: number | undefined): Admitted => {
    if (limit !== undefined) return new SendAdmission(limit, id, turn);
    turn.release();
    return refuse(404);
  };
  const admitted = (turn: SendTurn | undefined): Admitted | Promise<Admitted> => {
    if (turn === undefined) return refuse(404);
    let limit: SendLimit;
    try {
      limit = decide();
    } catch (error) {
      turn.release(); // the turn goes on to the next send whatever `decide` does
      throw error;
    }
    if (!(limit instanceof Promise)) return decided(turn, limit);
    return limit.then((limit) => decided(turn, limit), (error) => {
      turn.release();
      throw error;
    });
  };
  const turn = gate.enter();
  return turn instanceof Promise ? turn.then(admitted) : admitted(turn);
}

/**
 * The turn a `send` handed to the service is read and delivered in: its
 * admission's, or one it waits for now (a fetch-style request, a relayed
 * one: their body streams stay unread meanwhile).
 *
 * @param gate The transport's gate.
 * @param id The transport's ID.
 * @param admission What the listener admitted the request with, if anything.
 * @returns The turn, or the status to answer: 429 when too many wait, 404
 * when the transport closed meanwhile.
 */
export async function sendTurn(
  gate: SendGate,
  id: string,
  admission: HttpAdmission | undefined,
): Promise<SendTurn | 404 | 429> {
  if (admission instanceof SendAdmission && admission.transport === id) return admission.turn;
  if (gate.full) return 429;
  return await gate.enter() ?? 404;
}
