/**
 * The realm's internal session: the identity that publishes meta events
 * and calls procedures on the router's behalf (dynamic authenticators and
 * authorizers registered by trusted clients). It is never listed by the
 * session meta API.
 *
 * @module
 */

import {
  type Dict,
  ErrorUri,
  type IdGenerator,
  MessageType,
  type Payload,
  type PeerHandler,
  sequentialIdGenerator,
  type WampMessage,
} from "../../wamp/mod.ts";
import { CallError } from "./errors.ts";
import type { Outbound, SessionInfo } from "./types.ts";

/** The identity of a realm's internal session. */
export function internalSession(realm: string, id: number): SessionInfo {
  return {
    id,
    realm,
    authid: "cloverleaf",
    authrole: "trusted",
    authmethod: "internal",
    authprovider: "cloverleaf",
    roles: { publisher: {}, subscriber: {}, caller: {}, callee: {} },
    transport: "internal",
  };
}

/**
 * Calls the router may have in flight at once per realm (dynamic
 * authenticators and authorizers): each waiting HELLO or request holds one,
 * so without a bound unauthenticated clients could pile INVOCATIONs on the
 * trusted backend that answers them.
 */
export const MAX_ROUTER_CALLS = 1000;

interface Waiting {
  resolve(result: Payload): void;
  reject(error: Error): void;
}

/** Makes CALLs as the internal session and settles them from RESULT/ERROR. */
export class InternalCaller implements Pick<PeerHandler, "receive"> {
  readonly info: SessionInfo;
  #route: (info: SessionInfo, msg: WampMessage) => Outbound[];
  #deliver: (out: Outbound[]) => void;
  #requests: IdGenerator = sequentialIdGenerator();
  #waiting = new Map<number, Waiting>();

  /**
   * Creates the caller.
   *
   * @param info The internal session's identity.
   * @param route Routes a CALL (the realm's `call`).
   * @param deliver Delivers what routing returned.
   */
  constructor(
    info: SessionInfo,
    route: (info: SessionInfo, msg: WampMessage) => Outbound[],
    deliver: (out: Outbound[]) => void,
  ) {
    this.info = info;
    this.#route = route;
    this.#deliver = deliver;
  }

  /**
   * Calls a procedure.
   *
   * @param procedure The procedure URI.
   * @param args Positional arguments.
   * @param kwargs Keyword arguments.
   * @param timeout Milliseconds the dealer waits for the callee (0: none).
   * @returns The result's payload.
   * @throws {CallError} With the ERROR's URI and first argument, or
   * `cloverleaf.error.limit_exceeded` when {@linkcode MAX_ROUTER_CALLS} are
   * already in flight (the callee never sees the call).
   */
  call(procedure: string, args: unknown[], kwargs: Dict, timeout: number): Promise<Payload> {
    if (this.#waiting.size >= MAX_ROUTER_CALLS) {
      return Promise.reject(
        new CallError(
          ErrorUri.LIMIT_EXCEEDED,
          `${MAX_ROUTER_CALLS} router calls (authenticators, authorizers) already in flight`,
        ),
      );
    }
    const request = this.#requests();
    const { promise, resolve, reject } = Promise.withResolvers<Payload>();
    this.#waiting.set(request, { resolve, reject });
    this.#deliver(this.#route(this.info, {
      type: MessageType.CALL,
      request,
      options: timeout > 0 ? { timeout } : {},
      procedure,
      args,
      kwargs,
    }));
    return promise;
  }

  /** Takes a RESULT or ERROR addressed to the internal session. */
  receive(msg: WampMessage): void {
    if (msg.type !== MessageType.RESULT && msg.type !== MessageType.ERROR) return;
    const waiting = this.#waiting.get(msg.request);
    if (waiting === undefined) return;
    this.#waiting.delete(msg.request);
    if (msg.type === MessageType.RESULT) {
      waiting.resolve({
        ...(msg.args === undefined ? {} : { args: msg.args }),
        ...(msg.kwargs === undefined ? {} : { kwargs: msg.kwargs }),
      });
    } else {
      const text = msg.args?.[0];
      waiting.reject(new CallError(msg.error, typeof text === "string" ? text : undefined));
    }
  }
}
