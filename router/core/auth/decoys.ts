/**
 * Decoys for unknown users: a CHALLENGE must look the same whether or not
 * the authid exists. The decoy copies the parameters of a configured user
 * picked by a keyed hash of the authid (so the same unknown name always
 * gets the same decoy) and derives its salt the same way.
 *
 * @module
 */

import { createHmac } from "node:crypto";
import { randomBytes } from "../../../wamp/auth/util.ts";

/** The router's decoy secret, and the realm and method whose decoys it keys. */
export interface DecoySecret {
  /** `RouterOptions.decoySecret`. */
  readonly secret: string;
  /** The realm's name. */
  readonly realm: string;
  /** The authmethod. */
  readonly method: string;
}

/** Picks stable decoy parameters for unknown authids. */
export class Decoys<T> {
  /**
   * Keyed by the router's `decoySecret` for one realm and method (an
   * unknown name's decoys must not match across them when a real user's
   * differ), else random per process: then an unknown name's decoy
   * changes when the router restarts, and differs between processes, while
   * a real user's salt does not, which shows an observer who exists. Never
   * derived from the users' secrets: a CHALLENGE for an unknown name would
   * then let anyone who knows one authid test password guesses offline.
   */
  #key: Uint8Array;
  #users: readonly T[];

  /**
   * Creates the decoy source.
   *
   * @param users The configured users whose parameters decoys copy.
   * @param secret `RouterOptions.decoySecret` (absent: a random key) and
   * where the decoys are given: the realm and the method.
   */
  constructor(users: readonly T[], secret?: DecoySecret) {
    this.#users = users;
    this.#key = secret === undefined
      ? randomBytes(32)
      : createHmac("sha256", secret.secret).update(`${secret.realm}\0${secret.method}`).digest();
  }

  /** The configured user a decoy for `authid` imitates (undefined when none). */
  user(authid: string): T | undefined {
    if (this.#users.length === 0) return undefined;
    return this.#users[this.#hash("user", authid).readUInt32BE(0) % this.#users.length];
  }

  /** A stable 16-byte salt for `authid`, base64. */
  salt(authid: string): string {
    return this.#hash("salt", authid).subarray(0, 16).toString("base64");
  }

  #hash(purpose: string, authid: string): Buffer {
    return createHmac("sha256", this.#key).update(`${purpose}\0${authid}`).digest();
  }
}
