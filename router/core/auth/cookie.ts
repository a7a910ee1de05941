/**
 * Cookie authentication (authmethod `cookie`, Crossbar's behaviour): a
 * WebSocket listener with `cookie` set gives each connection a tracking
 * cookie, always a fresh one (a presented cookie the router remembers is
 * renewed: its identity moves to the fresh value, and the presented one is
 * forgotten, but for {@linkcode RENEW_GRACE_MS}). When a session
 * on such a connection authenticates by another method in a realm that
 * offers `cookie`, the router binds the connection's fresh cookie to that
 * identity there, so a cookie planted in a client before its login is
 * never bound to it; a later connection presenting the cookie and
 * offering `cookie` is welcomed at once with that identity
 * (`authmethod: "cookie"`, `authprovider: "cookie"`). An unknown or
 * expired cookie makes the router pass on to the client's next method.
 *
 * Cookies live in memory, per router, for the realm's `maxAge`.
 *
 * @module
 */

import type { Authenticator, Identity } from "./authenticator.ts";

/** How many cookies the store keeps; the oldest go first. */
const MAX_COOKIES = 100_000;

/**
 * How many live cookies one identity (realm and authid) has; its oldest
 * goes first. A client logging in on connection after connection (each
 * login binds its connection's value) would otherwise push everybody
 * else's out of the store.
 */
export const MAX_COOKIES_PER_IDENTITY = 16;

/**
 * Milliseconds a renewed value still logs in after it moved: other
 * connections its client opened at the same moment (browser tabs opening
 * together) present it before the browser holds the new value. Each is
 * renewed in turn, to a value of its own.
 */
export const RENEW_GRACE_MS = 10_000;

/** Who a cookie stands for: what a cookie login welcomes with (nothing of the HELLO it came from). */
export type CookieIdentity = Pick<Identity, "authid" | "authrole">;

/** A remembered cookie. */
interface Remembered {
  readonly realm: string;
  readonly identity: CookieIdentity;
  readonly expires: number;
}

/** The router's memory of authenticated tracking cookies. */
export class CookieStore {
  #cookies = new Map<string, Remembered>();
  /** The cookies of each identity (`realm authid`), oldest first. */
  #byIdentity = new Map<string, string[]>();
  /**
   * Values renewed in the last {@linkcode RENEW_GRACE_MS}: what each stood
   * for then (not what the value it moved to stands for later: a login on
   * that connection binds it anew), and until when.
   */
  #moved = new Map<string, { entry: Remembered; until: number }>();
  #now: () => number;

  /**
   * Creates an empty store.
   *
   * @param now The clock, milliseconds since the epoch (the router passes
   * `Date.now`).
   */
  constructor(now: () => number) {
    this.#now = now;
  }

  /**
   * Remembers who authenticated on a connection with this cookie.
   *
   * @param cookie The connection's cookie.
   * @param realm The realm.
   * @param identity The identity it was welcomed with.
   * @param maxAge Seconds to remember it.
   */
  remember(cookie: string, realm: string, identity: Identity, maxAge: number): void {
    const { authid, authrole } = identity;
    this.#set(cookie, {
      realm,
      identity: { authid, authrole },
      expires: this.#now() + maxAge * 1000,
    });
  }

  /**
   * Moves what `presented` stands for (same realm, identity and expiry) to
   * `fresh`: `presented` logs in no more, but for {@linkcode RENEW_GRACE_MS}
   * in which the connections its client opened together present it too
   * (each gets the identity on a value of its own). A copy of it (stolen)
   * stops working at its owner's next connection, or, used first, takes the
   * identity over and the owner's stops working. Nothing moves when
   * `presented` is unknown or expired. The listener gives every connection
   * a fresh cookie, so a login binds a value only that connection's client
   * holds.
   *
   * @param presented The cookie a client presented.
   * @param fresh The fresh cookie its connection got.
   */
  renew(presented: string, fresh: string): void {
    const now = this.#now();
    let entry = this.#cookies.get(presented);
    if (entry !== undefined) {
      this.#delete(presented);
      this.#moved.delete(presented);
      this.#moved.set(presented, { entry, until: now + RENEW_GRACE_MS });
      for (const [value, { until }] of this.#moved) {
        if (until > now && this.#moved.size <= MAX_COOKIES) break;
        this.#moved.delete(value);
      }
    } else {
      const moved = this.#moved.get(presented);
      if (moved === undefined || moved.until <= now) return;
      entry = moved.entry;
    }
    if (entry.expires > now) this.#set(fresh, entry);
  }

  /**
   * Stores an entry as the newest, dropping the oldest past `MAX_COOKIES`,
   * and the identity's oldest past {@linkcode MAX_COOKIES_PER_IDENTITY}.
   */
  #set(cookie: string, entry: Remembered): void {
    this.#delete(cookie);
    if (this.#cookies.size >= MAX_COOKIES) this.#delete(this.#cookies.keys().next().value!);
    const who = `${entry.realm} ${entry.identity.authid}`;
    const mine = this.#byIdentity.get(who) ?? [];
    this.#byIdentity.set(who, mine);
    while (mine.length >= MAX_COOKIES_PER_IDENTITY) this.#delete(mine[0]!);
    mine.push(cookie);
    this.#cookies.set(cookie, entry);
  }

  /** Forgets a cookie, and it from its identity's list. */
  #delete(cookie: string): void {
    const entry = this.#cookies.get(cookie);
    if (entry === undefined) return;
    this.#cookies.delete(cookie);
    const who = `${entry.realm} ${entry.identity.authid}`;
    const mine = this.#byIdentity.get(who);
    if (mine === undefined) return;
    mine.splice(mine.indexOf(cookie), 1);
    if (mine.length === 0) this.#byIdentity.delete(who);
  }

  /** The identity remembered for a cookie in a realm, if any and not expired. */
  identity(cookie: string, realm: string): Pick<Identity, "authid" | "authrole"> | undefined {
    const entry = this.#cookies.get(cookie);
    if (entry === undefined) return undefined;
    if (entry.expires <= this.#now()) {
      this.#delete(cookie);
      return undefined;
    }
    return entry.realm === realm ? entry.identity : undefined;
  }
}

/**
 * Creates the cookie method for a realm.
 *
 * @param store The router's cookie store.
 * @returns The authenticator; it accepts only connections whose cookie is known in the realm.
 */
export function cookieAuthenticator(store: CookieStore): Authenticator {
  const known = (cookie: string | undefined, realm: string) =>
    cookie === undefined ? undefined : store.identity(cookie, realm);
  return {
    method: "cookie",
    accepts: (realm, transport) => known(transport.cookie, realm) !== undefined,
    hello(request) {
      const identity = known(request.transport.cookie, request.realm);
      if (identity === undefined) return { deny: "the cookie is not known here" };
      return {
        welcome: {
          authid: identity.authid,
          authrole: identity.authrole,
          authmethod: "cookie",
          authprovider: "cookie",
        },
      };
    },
  };
}
