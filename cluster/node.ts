/**
 * One Cloverleaf process as a node of a cluster: its NATS connection, its
 * ID, the subjects of its cluster, and which other nodes are alive. Each
 * node publishes a heartbeat every `heartbeat` ms and a farewell when it
 * closes; a node not heard from for `nodeTimeout` ms is down (its
 * sessions, registrations and calls are then gone cluster-wide). When NATS
 * is unreachable the node keeps serving its own sessions, logs that it is
 * partitioned, and resumes when the connection returns.
 *
 * The NATS client (`@nats-io/transport-node`) is loaded only by
 * {@linkcode ClusterNode.connect}, so a router without a cluster never loads it.
 *
 * @module
 */

import type { Logger } from "../router/core/types.ts";
import { Batches } from "./batch.ts";
import { Inbound } from "./inbound.ts";

/** Options for a cluster node (`RouterOptions.cluster`, `--cluster`). */
export interface ClusterOptions {
  /** NATS server URLs (`nats://host:port`). */
  servers: string[];
  /**
   * The token the NATS servers require (`authorization { token }`); the
   * service also takes it from `CLOVERLEAF_CLUSTER_TOKEN`.
   * @default {none}
   */
  token?: string;
  /**
   * The cluster's name: nodes with the same name serve the same realms as
   * one router. Letters, digits, `_` and `-`.
   * @default {"cloverleaf"}
   */
  name?: string;
  /**
   * Milliseconds between heartbeats.
   * @default {1000}
   */
  heartbeat?: number;
  /**
   * Milliseconds without a heartbeat after which a node is down.
   * @default {5000}
   */
  nodeTimeout?: number;
}

/** A NATS subscription a node holds. */
export interface ClusterSubscription {
  /** Stops receiving. */
  unsubscribe(): void;
}

/** What NATS delivers to a subscription. */
export type ClusterHandler = (data: Uint8Array, subject: string) => void;

/** The part of the NATS client a node uses. */
interface NatsConnection {
  publish(subject: string, data?: Uint8Array): void;
  subscribe(
    subject: string,
    options: {
      callback: (error: Error | null, msg: { subject: string; data: Uint8Array }) => void;
    },
  ): ClusterSubscription;
  flush(): Promise<void>;
  drain(): Promise<void>;
  close(): Promise<void>;
  closed(): Promise<void | Error>;
  status(): AsyncIterable<{ type: string }>;
  /** What the server it is connected to said of itself (its `max_payload`). */
  readonly info?: { readonly max_payload: number };
}

const NAME = /^[A-Za-z0-9_-]+$/;

const utf8 = new TextEncoder();

/** A node of a cluster. */
export class ClusterNode {
  /** This node's ID (random, unique per process). */
  readonly id: string;
  /** The cluster's name. */
  readonly name: string;
  /** The prefix of every subject of this cluster (`clv.<name>`). */
  readonly prefix: string;
  #nc: NatsConnection;
  #log: Logger;
  #seen = new Map<string, number>();
  #downHandlers: ((node: string) => void)[] = [];
  #upHandlers: ((node: string) => void)[] = [];
  #backHandlers: ((node: string, arrived: number) => void)[] = [];
  #timer: ReturnType<typeof setInterval>;
  #heartbeat: number;
  #nodeTimeout: number;
  #closed = false;
  #connected = true;
  /** What {@linkcode ClusterNode.send} holds until the loop turns. */
  #batches: Batches;
  #inbound: Inbound; // what NATS brings, and node events, in order and in turns
  #reconnectedAt = 0;

  private constructor(nc: NatsConnection, options: ClusterOptions, log: Logger) {
    this.#nc = nc;
    this.#log = log;
    this.#batches = new Batches((subject, data) => nc.publish(subject, data), log, () => nc.info);
    this.#inbound = new Inbound(log);
    this.name = options.name ?? "cloverleaf";
    this.prefix = `clv.${this.name}`;
    this.id = crypto.randomUUID().replaceAll("-", "").slice(0, 16);
    this.#heartbeat = options.heartbeat ?? 1000;
    this.#nodeTimeout = options.nodeTimeout ?? 5000;
    nc.subscribe(`${this.prefix}.nodes.>`, {
      callback: (error, msg) => error === null && this.#onNode(msg.subject),
    });
    this.#beat();
    let last = Date.now();
    let skipped = false;
    this.#timer = setInterval(() => {
      this.#beat();
      // After a stall of this process (its timer late), the heartbeats that
      // arrived meanwhile are read first: a node stalled accuses no one
      // (one round is skipped, never two in a row).
      const now = Date.now();
      skipped = !skipped && now - last >= 2 * this.#heartbeat;
      if (!skipped) this.#sweep();
      last = now;
    }, this.#heartbeat);
    this.#watch();
  }

  /**
   * Connects to NATS and joins the cluster.
   *
   * @param options Servers, cluster name, liveness timing.
   * @param log Where the node logs (joins, partitions, nodes down).
   * @returns The node.
   * @throws {TypeError} For a bad cluster name or no servers.
   * @throws {Error} When no NATS server can be reached.
   */
  static async connect(options: ClusterOptions, log: Logger): Promise<ClusterNode> {
    if (options.servers.length === 0) throw new TypeError("cluster.servers: at least one server");
    if (options.name !== undefined && !NAME.test(options.name)) {
      throw new TypeError(`cluster.name: "${options.name}" must be letters, digits, _ or -`);
    }
    const { connect } = await import("@nats-io/transport-node");
    const nc = await connect({
      servers: options.servers,
      ...(options.token === undefined ? {} : { token: options.token }),
      name: `cloverleaf`,
      maxReconnectAttempts: -1,
      // A node never needs what it published itself: its broker served its
      // own subscribers already (cluster/pubsub.ts).
      noEcho: true,
      reconnectTimeWait: 500,
    }) as unknown as NatsConnection;
    const node = new ClusterNode(nc, options, log);
    log(
      "info",
      `Cluster "${node.name}": node ${node.id} joined through ${options.servers.join(", ")}`,
    );
    return node;
  }

  /**
   * A subject of this cluster.
   *
   * @param parts Tokens after the cluster prefix.
   * @returns `clv.<name>.<parts…>`.
   */
  subject(...parts: string[]): string {
    return [this.prefix, ...parts].join(".");
  }

  /**
   * Publishes bytes on a subject (queued; see {@linkcode ClusterNode.flush}).
   *
   * @param subject The subject.
   * @param data The bytes.
   */
  publish(subject: string, data: Uint8Array): void {
    if (this.#closed) return;
    this.#batches.send();
    this.#nc.publish(subject, data);
  }

  /**
   * Publishes a MessagePack message on a subject, coalesced: what is sent
   * within one turn of the event loop (every socket event it handles) is
   * handed to NATS together at its end (`setImmediate`), so it leaves in
   * one socket write, and messages to one subject in a row go as one NATS
   * message (a batch, up to 64 KiB), which {@linkcode ClusterNode.subscribe}
   * splits again. Order holds: {@linkcode ClusterNode.publish} and
   * {@linkcode ClusterNode.flush} hand over what is held first.
   *
   * @param subject The subject.
   * @param data The bytes (MessagePack, so never starting with `0xc1`).
   * @param lazy Whether it may wait a few more ms (`Batches.add`): session
   * broadcasts.
   * @throws {Error} From the NATS client, for a message over NATS's
   * `max_payload` (`Batches.add` hands it over at once).
   */
  send(subject: string, data: Uint8Array, lazy = false): void {
    if (!this.#closed) this.#batches.add(subject, data, lazy);
  }

  /**
   * Receives what is published on a subject (NATS wildcards allowed),
   * each message of a batch ({@linkcode ClusterNode.send}) on its own, in
   * the order NATS delivers them across every subscription and node event
   * (`inbound.ts`: in turns of the event loop).
   *
   * @param subject The subject.
   * @param handler Called for each message, in order.
   * @param publications Whether it brings publications, which this node
   * drops when it cannot keep up (`inbound.ts`).
   * @returns The subscription.
   */
  subscribe(subject: string, handler: ClusterHandler, publications = false): ClusterSubscription {
    return this.#nc.subscribe(subject, {
      callback: (error, msg) => {
        if (error !== null) return this.#log("warn", `Cluster: subscription ${subject}: ${error}`);
        this.#inbound.message(msg.data, msg.subject, handler, publications);
      },
    });
  }

  /** Resolves once NATS has every message published so far. */
  flush(): Promise<void> {
    this.#batches.send();
    return this.#nc.flush();
  }

  /** The nodes heard from within the node timeout, this one included. */
  nodes(): string[] {
    return [this.id, ...this.#seen.keys()].sort();
  }

  /**
   * Calls `handler` with a node's ID when it goes down (timed out or said
   * goodbye), after what that node sent before.
   *
   * @param handler The handler.
   */
  onNodeDown(handler: (node: string) => void): void {
    this.#downHandlers.push(handler);
  }

  /**
   * Calls `handler` with a node's ID when it is first heard from.
   *
   * @param handler The handler.
   */
  onNodeUp(handler: (node: string) => void): void {
    this.#upHandlers.push(handler);
  }

  /**
   * Calls `handler` with a node's ID when NATS may have dropped messages to
   * and from it: this node's own ID when its connection came back, another
   * node's when that node says its came back (`nodes.back.<id>`); and when
   * that news arrived (ms since the epoch): the handler runs later, in line.
   *
   * @param handler The handler.
   */
  onReconnect(handler: (node: string, arrived: number) => void): void {
    this.#backHandlers.push(handler);
  }

  /** NATS messages and node events waiting in line for a turn (`inbound.ts`). */
  get waiting(): number {
    return this.#inbound.waiting;
  }

  /** Publications from other nodes dropped because this node could not keep up (`inbound.ts`). */
  get dropped(): number {
    return this.#inbound.dropped;
  }

  /** Whether NATS is reachable now. */
  get connected(): boolean {
    return this.#connected;
  }

  /** When NATS became reachable again last (ms since the epoch; 0: never lost). */
  get reconnectedAt(): number {
    return this.#reconnectedAt;
  }

  /** Milliseconds between heartbeats. */
  get heartbeat(): number {
    return this.#heartbeat;
  }

  /** The underlying NATS connection, for JetStream/KV clients. */
  get connection(): unknown {
    return this.#nc;
  }

  /**
   * Says goodbye to the cluster and closes the NATS connection.
   *
   * @param drainMs How long draining (delivering what is pending) may take
   * before the connection is closed anyway.
   */
  async close(drainMs = 5000): Promise<void> {
    if (this.#closed) return;
    this.stopReceiving();
    clearInterval(this.#timer);
    this.#batches.send();
    this.#nc.publish(this.subject("nodes", "bye", this.id));
    this.#closed = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((resolve) =>
      timer = setTimeout(() => resolve("late"), drainMs)
    );
    const drained = await Promise.race([this.#nc.drain().catch(() => "failed" as const), late]);
    clearTimeout(timer);
    if (drained !== undefined) await this.#nc.close().catch(() => {});
  }

  /** Handles nothing more that NATS brings (what waits is dropped): the node is closing. */
  stopReceiving(): void {
    this.#inbound.close();
  }

  #beat(): void {
    if (!this.#closed) this.#nc.publish(this.subject("nodes", "hb", this.id), utf8.encode("1"));
  }

  /**
   * A heartbeat, farewell or "back" from another node. Who is alive is
   * known at once (a heartbeat never waits behind other messages); what
   * handlers do about it waits in line behind what came before.
   */
  #onNode(subject: string): void {
    if (this.#closed) return;
    const [kind, id] = subject.slice(this.prefix.length + ".nodes.".length).split(".");
    if (id === undefined || id === this.id) return;
    if (kind === "bye") return this.#down(id, "left");
    if (kind === "back") return this.#tell(this.#backHandlers, id, "reconnect");
    const known = this.#seen.has(id);
    this.#seen.set(id, Date.now());
    if (!known) {
      this.#log("info", `Cluster "${this.name}": node ${id} is up`);
      this.#beat(); // the newcomer learns of this node at once, not a heartbeat later
      this.#tell(this.#upHandlers, id, "node-up");
    }
  }

  #sweep(): void {
    const limit = Date.now() - this.#nodeTimeout;
    for (const [id, seen] of this.#seen) if (seen < limit) this.#down(id, "timed out");
  }

  /** Calls each of `handlers` with a node's ID, after what waits in line (`inbound.ts`). */
  #tell(handlers: ((node: string, arrived: number) => void)[], id: string, what: string): void {
    const arrived = Date.now();
    this.#inbound.event(() => {
      for (const handler of handlers) {
        try {
          handler(id, arrived);
        } catch (error) {
          this.#log("error", `Cluster: ${what} handler: ${error}`);
        }
      }
    });
  }

  #down(id: string, why: string): void {
    if (!this.#seen.delete(id)) return;
    this.#log("warn", `Cluster "${this.name}": node ${id} is down (${why})`);
    this.#tell(this.#downHandlers, id, "node-down");
  }

  async #watch(): Promise<void> {
    try {
      for await (const status of this.#nc.status()) {
        if (status.type === "disconnect") {
          this.#connected = false;
          this.#log(
            "warn",
            `Cluster "${this.name}": NATS unreachable, serving local sessions only`,
          );
        } else if (status.type === "reconnect") {
          this.#connected = true;
          this.#reconnectedAt = Date.now();
          this.#log("info", `Cluster "${this.name}": NATS reachable again`);
          this.#beat();
          this.#nc.publish(this.subject("nodes", "back", this.id));
          this.#tell(this.#backHandlers, this.id, "reconnect");
        }
      }
    } catch {
      // the connection closed
    }
  }
}
