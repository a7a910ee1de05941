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

/** Picks stable decoy parameters for unknown authids. */
export class Decoys<T> {
  /**
   * The router's `decoySecret`, else random per process: then an unknown
   * name's decoy changes when the router restarts, and differs between
   * processes, while a real user's salt does not, which shows an observer
   * who exists. Never derived from the users' secrets: a CHALLENGE for an
   * unknown name would then let anyone who knows one authid test password
   * guesses offline.
   */
  #key: Uint8Array | string;
  #users: readonly T[];

  /**
   * Creates the decoy source.
   *
   * @param users The configured users whose parameters decoys copy.
   * @param secret The key of the decoys (`RouterOptions.decoySecret`).
   * @default {random per process}
   */
  constructor(users: readonly T[], secret?: string) {
    this.#users = users;
    this.#key = secret ?? randomBytes(32);
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
