/**
 * Decoys for unknown users: a CHALLENGE must look the same whether or not
 * the authid exists. The decoy copies the parameters of a configured user
 * picked by a keyed hash of the authid (so the same unknown name always
 * gets the same decoy) and derives its salt the same way.
 *
 * @module
 */

import { createHash, createHmac } from "node:crypto";

/** Picks stable decoy parameters for unknown authids. */
export class Decoys<T> {
  /**
   * Derived from the configured users, secrets included: the same config
   * gives the same decoys after a restart and in every worker (a key drawn
   * at random made an unknown name's salt change at each restart, and
   * differ between workers, while a real user's stayed: which names exist
   * showed), and no one who lacks the secrets can work them out.
   */
  #key: Buffer;
  #users: readonly T[];

  /**
   * Creates the decoy source.
   *
   * @param users The configured users whose parameters decoys copy.
   */
  constructor(users: readonly T[]) {
    this.#users = users;
    this.#key = createHash("sha256").update("cloverleaf decoys\0").update(JSON.stringify(users))
      .digest();
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
