/**
 * What a {@linkcode Router} is made with.
 *
 * @module
 */

import type { IdGenerator } from "../wamp/mod.ts";
import type { RealmOptions } from "./core/realm_options.ts";
import type { Logger } from "./core/types.ts";
import type { ClusterOptions } from "../cluster/node.ts";
import type { FailedLoginOptions } from "./core/auth/authentication_failures.ts";

/** Options for {@linkcode Router}. */
export interface RouterOptions {
  /** The realms to create. @default {[]} */
  realms?: RealmOptions[];
  /** The agent string in WELCOME. @default {"Cloverleaf-<version>"} */
  agent?: string;
  /**
   * Where log lines go.
   * @default {a console logger at level "info"}
   */
  logger?: Logger;
  /**
   * Joins and leaves a second logged one by one (`info`); past it, one line a second sums them up.
   * @default {20}
   */
  sessionLogRate?: number;
  /**
   * Global-scope ID source (session and publication IDs); inject a
   * deterministic one in tests.
   * @default {globalIdGenerator()}
   */
  idGenerator?: IdGenerator;
  /**
   * Router-scope ID source (subscription and registration IDs). By default
   * unique and not guessable in sequence ({@linkcode scrambledIdGenerator});
   * when `idGenerator` is injected, 1, 2, 3, … so tests stay deterministic.
   * @default {scrambledIdGenerator(), or sequentialIdGenerator() with idGenerator}
   */
  routerIdGenerator?: IdGenerator;
  /**
   * Milliseconds from HELLO to WELCOME for a client that must authenticate;
   * then ABORT `wamp.error.authentication_failed`. @default {10000}
   */
  authTimeout?: number;
  /**
   * At most `perSource` failed logins (ABORT
   * `wamp.error.authentication_failed` of any method but anonymous, cookie
   * and tls: a wrong ticket, signature or proof, an unknown authid, a
   * dynamic authenticator's refusal, also one that comes after
   * `authTimeout`, a CHALLENGE unanswered by then) per source address (an
   * IPv4 address, an IPv6 /64) in any `window` milliseconds; while at the
   * limit, a login from that address is refused at once (ABORT
   * `wamp.error.authentication_failed`, "Too many failed logins from this
   * address: try again later"), without a CHALLENGE or a dynamic
   * authenticator. Off by default: behind a reverse proxy every client has
   * the proxy's address. Each process (`--workers`) and cluster node counts
   * its own.
   * @default {{ perSource: 0, window: 60000 }}
   */
  failedLogins?: FailedLoginOptions;
  /**
   * The authrole whose sessions may register and call the dynamic
   * authenticator and authorizer procedures that realms name (and register
   * patterns that could capture them); other sessions get ERROR
   * `wamp.error.not_authorized`, even in a realm without roles. The
   * router's own calls are not checked. Only credentials give this role: a
   * realm whose anonymous sessions would get it is refused (`ConfigError`
   * at `anonymousRole`).
   * @default {"trusted"}
   */
  trustedRole?: string;
  /**
   * The secret that keys the decoy CHALLENGEs of WAMP-CRA and WAMP-SCRAM
   * for an authid with no user: which user's parameters they copy, and
   * the salt. Give every worker and node the same one, kept over restarts,
   * and an unknown name's CHALLENGE never changes, as a real user's does not
   * (the CLI reads `CLOVERLEAF_DECOY_SECRET`; `--workers` share one). It is
   * derived from no password, so a CHALLENGE gives nothing to guess at.
   * At least 16 characters; each realm and method keys its own decoys with it.
   * @default {random per process}
   */
  decoySecret?: string;
  /**
   * Makes this router one node of a cluster: every router with the same
   * cluster name, connected to the same NATS servers, serves the same
   * realms as one router. Await {@linkcode Router.ready} before serving.
   * @default {no cluster: this process serves alone}
   */
  cluster?: ClusterOptions;
}
