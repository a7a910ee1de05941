/**
 * The router: realms, and the sessions transports attach to it.
 *
 * @module
 */

import denoConfig from "../deno.json" with { type: "json" };
import {
  type AttachOptions,
  CloseUri,
  ErrorUri,
  globalIdGenerator,
  type IdGenerator,
  type Peer,
  type PeerHandler,
  rolesDict,
  ROUTER_FEATURES,
  sequentialIdGenerator,
} from "../wamp/mod.ts";
import type { ConfigObjectOptions } from "../config/mod.ts";
import { historyWarnings, type RealmOptions, resolveRealmOptions } from "./core/realm_options.ts";
import { CookieStore } from "./core/auth/cookie.ts";
import {
  AuthenticationFailures,
  resolveFailedLogins,
} from "./core/auth/authentication_failures.ts";
import { trustedProcedures } from "./core/auth/methods.ts";
import { Realm } from "./core/realm.ts";
import { TrustedProcedures } from "./trusted.ts";
import { scrambledIdGenerator } from "./scrambled_ids.ts";
import { Connection, type ConnectionHost } from "./connection.ts";
import { Delivery } from "./delivery.ts";
import type { ClusterNode, ClusterOptions } from "../cluster/node.ts";
import { Cluster } from "../cluster/join.ts";
import { clusterShell } from "./cluster_link.ts";
import { OutputRunner } from "./output_runner.ts";
import { metricsFor, metricsOf } from "./metrics.ts";
import type { Logger } from "./core/types.ts";
import { consoleLogger } from "./logger.ts";
import { SessionLog } from "./session_log.ts";
import type { RouterOptions } from "./router_options.ts";

export { consoleLogger };

export type { RouterOptions };

let addRealmCollecting: (
  router: Router,
  options: RealmOptions,
  path: string,
  config: ConfigObjectOptions,
) => void;
let realmOfRouter: (router: Router, name: string) => Realm | undefined;
let clusterOfRouter: (router: Router) => Cluster | undefined;

/**
 * A router's membership of its cluster (node, IDs, PubSub bridge), once it
 * has joined one. Not part of the public API (tests, the benchmark).
 *
 * @param router The router.
 * @returns The membership.
 */
export function clusterOf(router: Router): Cluster | undefined {
  return clusterOfRouter(router);
}

/**
 * The cluster node a router is, when it is one. Not part of the public API.
 *
 * @param router The router.
 * @returns Its node, once it has joined.
 */
export function clusterNodeOf(router: Router): ClusterNode | undefined {
  return clusterOfRouter(router)?.node;
}

/**
 * Adds a realm, collecting config errors in `config.errors` (the CLI's
 * `check`) instead of throwing at the first. Not part of the public API.
 *
 * @param router The router.
 * @param options The realm's options (unchecked JSON from a file).
 * @param path Where they came from, for error messages.
 * @param config The `ConfigErrors` context.
 */
export function addRealmTo(
  router: Router,
  options: RealmOptions,
  path: string,
  config: ConfigObjectOptions,
): void {
  addRealmCollecting(router, options, path, config);
}

/**
 * A router's realm by name: the core object, for the router's own wiring
 * and tests. Not part of the public API.
 *
 * @param router The router.
 * @param name The realm name.
 * @returns The realm, or `undefined`.
 */
export function realmOf(router: Router, name: string): Realm | undefined {
  return realmOfRouter(router, name);
}

/**
 * A WAMP router: holds realms and routes between the sessions that
 * transports attach. Sans-I/O: it never touches sockets; a transport hands
 * it a {@linkcode Peer} and gets back a {@linkcode PeerHandler}.
 *
 * @example An embedded router with an in-process client
 * ```ts
 * import { connectLocal, Router } from "@cloverleaf/wamp";
 * import { equal } from "node:assert/strict";
 *
 * const router = new Router({ realms: [{ name: "realm1" }] });
 * const session = await connectLocal(router, "realm1");
 * await session.register("com.example.add", (args) => ({
 *   args: [Number(args[0]) + Number(args[1])],
 * }));
 * const result = await session.call("com.example.add", { args: [2, 3] });
 * equal(result.args[0], 5);
 * await session.close();
 * await router.close();
 * ```
 */
export class Router {
  #realms = new Map<string, Realm>();
  #connections = new Set<Connection>();
  #globalIds: IdGenerator;
  #routerIds: IdGenerator;
  #host: ConnectionHost;
  #closing: Promise<void> | undefined;
  #cookies = new CookieStore(Date.now);
  #trusted: TrustedProcedures;
  #decoySecret: string | undefined;
  /** The logger in use (lines with an `event` field limited per kind: `SessionLog.log`). */
  readonly log: Logger;
  /**
   * Settles when the router can serve: at once, or, with `cluster`, once
   * it has joined the cluster (rejects when NATS cannot be reached).
   */
  readonly ready: Promise<void>;
  #cluster: Cluster | undefined;
  /** Whether global IDs may switch to the cluster's (no injected `idGenerator`). */
  #clusterIds: boolean;

  /**
   * Creates a router.
   *
   * @param options Realms, agent, logger, ID source.
   * @throws {TypeError} When a realm's options or `failedLogins` are invalid, or a realm repeated.
   * @throws {RangeError} When `decoySecret` is too short.
   */
  constructor(options: RouterOptions = {}) {
    const logger = options.logger ?? consoleLogger("info");
    const sessions = new SessionLog(logger, options.sessionLogRate);
    this.log = sessions.log; // lines with an `event` are limited per kind, wherever they come from
    this.#globalIds = options.idGenerator ?? globalIdGenerator();
    this.#clusterIds = options.cluster !== undefined && options.idGenerator === undefined;
    this.#trusted = new TrustedProcedures(options.trustedRole ?? "trusted");
    if (options.decoySecret !== undefined && options.decoySecret.length < 16) {
      throw new RangeError(
        "Invalid decoySecret: give at least 16 characters (a guessable key keys nothing)",
      );
    }
    this.#decoySecret = options.decoySecret;
    this.#routerIds = options.routerIdGenerator ??
      (options.idGenerator === undefined ? scrambledIdGenerator() : sequentialIdGenerator());
    const roles: Record<string, Record<string, unknown>> = rolesDict(ROUTER_FEATURES);
    roles.dealer!.reflection = true; // a role key, not a feature (spec "Interface Reflection")
    roles.broker!.reflection = true; // wamp.reflection.topic.* (router/core/broker/topic_reflection.ts)
    const delivery = new Delivery();
    const metrics = metricsFor(this);
    const failedLogins = resolveFailedLogins(options.failedLogins);
    this.#host = {
      agent: options.agent ?? `Cloverleaf-${denoConfig.version}`,
      authTimeout: options.authTimeout ?? 10_000,
      roles,
      log: this.log,
      sessions,
      metrics,
      ...(failedLogins.perSource === 0 ? {} : {
        failedLogins: new AuthenticationFailures(failedLogins, {
          now: () => performance.now(),
          log: this.log,
          refused: () => metrics.loginsRefused++,
        }),
      }),
      realm: (name) => this.#realms.get(name),
      sessionId: () => this.#globalIds(),
      delivery,
      runner: new OutputRunner(this.log, delivery),
      detach: (connection) => this.#connections.delete(connection),
    };
    (options.realms ?? []).forEach((realm, i) => this.addRealm(realm, `realms[${i}]`));
    this.ready = options.cluster === undefined
      ? Promise.resolve()
      : this.#joinCluster(options.cluster);
  }

  /** Connects to NATS and links every realm to the cluster. */
  async #joinCluster(options: ClusterOptions): Promise<void> {
    const { runner, delivery } = this.#host;
    const shell = clusterShell(this.#realms, runner, delivery, this.log, (cluster) => {
      this.#cluster = cluster; // realms added from now on get linked by Cluster.link
      if (this.#clusterIds) this.#globalIds = cluster.ids.next;
    });
    await Cluster.join(options, this.log, shell);
  }

  /**
   * Adds a realm.
   *
   * @param options The realm's options.
   * @param path Where the options came from, for error messages.
   * @throws {TypeError} When the options are invalid (a `ConfigError` naming
   * the key) or the realm exists.
   */
  addRealm(options: RealmOptions, path = "realm"): void {
    this.#addRealm(options, path, {});
  }

  static {
    addRealmCollecting = (router, options, path, config) => router.#addRealm(options, path, config);
    realmOfRouter = (router, name) => router.#realms.get(name);
    clusterOfRouter = (router) => router.#cluster;
  }

  #addRealm(options: RealmOptions, path: string, config: ConfigObjectOptions): void {
    const resolved = resolveRealmOptions(options, path, config);
    this.#trusted.check(resolved, path);
    if (this.#realms.has(resolved.name)) {
      throw new TypeError(`Cannot add realm "${resolved.name}": realm already exists`);
    }
    for (const { realm, procedure } of trustedProcedures(resolved)) {
      const registry = this.#realms.get(realm);
      for (const { registration: id, callee } of this.#trusted.add(procedure, realm, registry)) {
        this.log("warn", `Session ${callee} loses registration ${id}: ${procedure} is now trusted`);
        this.revokeRegistration(realm, id, ErrorUri.NOT_AUTHORIZED, callee);
      }
    }
    const realm = new Realm(resolved, {
      ids: {
        // In cluster mode the global IDs switch to the node's slot once it joined.
        global: this.#clusterIds ? () => this.#globalIds() : this.#globalIds,
        router: this.#routerIds,
      },
      now: Date.now,
      authenticatorCall: (name, procedure, args, kwargs, ended) => {
        const target = name ?? resolved.name;
        const realm = this.#realms.get(target);
        return this.#host.runner.call(realm, target, procedure, args, kwargs, ended);
      },
      realms: (name) => this.#realms.get(name),
      cookies: this.#cookies,
      decoySecret: this.#decoySecret,
      trusted: { role: this.#trusted.role, procedures: this.#trusted.in(resolved.name) },
      log: this.log,
      denied: () => metricsOf(this).authorizationDenials++,
      busy: (id, whole) => this.#host.delivery.target(id)?.busy(whole) ?? false,
    });
    this.#realms.set(resolved.name, realm);
    this.#cluster?.link(realm);
    this.log("info", `Realm "${resolved.name}" added`, { realm: resolved.name });
    for (const line of historyWarnings(resolved, path)) {
      this.log("warn", line, { realm: resolved.name });
    }
  }

  /** The authrole that may register and call authenticator and authorizer procedures. */
  get trustedRole(): string {
    return this.#trusted.role;
  }

  /** The names of all realms. */
  get realmNames(): string[] {
    return [...this.#realms.keys()];
  }

  /** How many transport connections are attached. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /**
   * Attaches a transport connection. The transport calls the returned
   * handler for every message it decodes and when it closes.
   *
   * @param peer The connection's sending half.
   * @param options Outbound limits for this connection.
   * @returns The handler for incoming messages.
   * @throws {Error} When the router is closing.
   */
  attach(peer: Peer, options?: AttachOptions): PeerHandler {
    if (this.#closing !== undefined) {
      peer.close();
      throw new Error("Cannot attach a connection: router is closing");
    }
    const connection = new Connection(this.#host, peer, options);
    this.#connections.add(connection);
    return connection;
  }

  /**
   * Revokes a registration (or one callee's part of a shared one): its
   * callees are told if they announced registration_revocation.
   *
   * @param realm The realm's name.
   * @param id The registration ID.
   * @param reason Why, for the callee.
   * @param callee Only this callee's part.
   * @returns Whether there was such a registration.
   */
  revokeRegistration(realm: string, id: number, reason?: string, callee?: number): boolean {
    const out = this.#realms.get(realm)?.revokeRegistration(id, reason, callee);
    if (out === undefined) return false;
    this.#host.runner.run(out);
    return true;
  }

  /**
   * Revokes a subscription (`subscription_revocation`): every subscriber
   * is removed; those that announced the feature get UNSUBSCRIBED.
   *
   * @param realm The realm's name.
   * @param id The subscription ID.
   * @param reason Why, for the subscribers.
   * @returns Whether there was such a subscription.
   */
  revokeSubscription(realm: string, id: number, reason?: string): boolean {
    const out = this.#realms.get(realm)?.revokeSubscription(id, reason);
    if (out === undefined) return false;
    this.#host.runner.run(out);
    return true;
  }

  /**
   * Moves the identity a connection's presented tracking cookie stands
   * for to its fresh one; the presented one stands for nothing after but
   * for 10 s, for the client's other connections opened at the same moment
   * (`RENEW_GRACE_MS`; nothing moves when it is unknown).
   *
   * @param presented The cookie the client presented.
   * @param fresh The connection's new cookie.
   */
  renewCookie(presented: string, fresh: string): void {
    this.#cookies.renew(presented, fresh);
  }

  /**
   * Closes every session: GOODBYE with `reason` to joined sessions, then
   * their transports close once they answer, or after `graceMs`.
   *
   * @param reason The GOODBYE reason.
   * @param graceMs How long to wait for GOODBYE replies.
   * @returns A promise that settles when every connection is closed.
   */
  close(reason: string = CloseUri.SYSTEM_SHUTDOWN, graceMs = 1000): Promise<void> {
    this.#closing ??= this.#close(reason, graceMs);
    return this.#closing;
  }

  async #close(reason: string, graceMs: number): Promise<void> {
    this.log("info", `Router shutting down: ${this.#connections.size} connections`, { reason });
    for (const realm of this.#realms.values()) this.#host.runner.run(realm.close());
    for (const connection of [...this.#connections]) connection.shutdown(reason);
    const deadline = Date.now() + graceMs;
    while (this.#connections.size > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    for (const connection of [...this.#connections]) connection.close();
    this.#host.runner.close();
    await this.ready.catch(() => {});
    await this.#cluster?.close();
    this.#host.sessions.flush();
    this.log("info", "Router closed");
  }
}
