/**
 * The WAMP session a bridge path acts through: an in-process link whose
 * router end vouches for the path's role, so the realm treats it as any
 * session of that role (its permissions allow or deny each request).
 *
 * @module
 */

import { Session } from "../client/session.ts";
import { linkedPeers, type LocalLink } from "../transports/local.ts";
import type { PeerAcceptor } from "../wamp/mod.ts";

/** One bridge path's session, joined on first use and again after it closed. */
export class BridgeSession {
  #router: PeerAcceptor;
  #realm: string;
  #role: string;
  #authid: string;
  #session: Promise<Session> | undefined;
  /** The router's end of the latest session's link: what the session sent waits there for turns. */
  #routerEnd: LocalLink | undefined;
  #closed = false;

  /**
   * Creates the (not yet joined) session.
   *
   * @param router The router.
   * @param realm The realm to join.
   * @param role The authrole the session gets.
   * @param authid Its authid (`bridge:<path>`).
   */
  constructor(router: PeerAcceptor, realm: string, role: string, authid: string) {
    this.#router = router;
    this.#realm = realm;
    this.#role = role;
    this.#authid = authid;
  }

  /**
   * The joined session.
   *
   * @returns The session (joined now when there is none open).
   * @throws {SessionClosedError} When the router refuses it (no such realm, closing).
   */
  async get(): Promise<Session> {
    if (this.#closed) throw new Error("the HTTP bridge is closed");
    const current = this.#session;
    if (current !== undefined) {
      const session = await current.catch(() => undefined);
      if (session?.isOpen) return session;
      if (this.#session !== current) return await this.get();
    }
    const joining = this.#join();
    this.#session = joining;
    joining.catch(() => {
      if (this.#session === joining) this.#session = undefined;
    });
    return await joining;
  }

  #join(): Promise<Session> {
    const [routerEnd, clientEnd] = linkedPeers({
      validate: true,
      paced: true, // the path's requests take turns with the network connections
      info: { type: "http", identity: { authid: this.#authid, authrole: this.#role } },
    });
    routerEnd.bind(this.#router.attach(routerEnd));
    this.#routerEnd = routerEnd;
    return Session.join(clientEnd, { realm: this.#realm, timeout: 5000 });
  }

  /**
   * Calls `then` once what the session sent so far has been taken by the
   * router: handed to it in its turns (shared with the network
   * connections), or dropped with the session. At once when nothing waits.
   *
   * @param then What to call.
   */
  afterSent(then: () => void): void {
    if (this.#routerEnd === undefined) then();
    else this.#routerEnd.whenHandedOn(then);
  }

  /** Leaves the realm. */
  async close(): Promise<void> {
    this.#closed = true;
    const session = await this.#session?.catch(() => undefined);
    await session?.close();
  }
}
