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

import { setImmediate } from "node:timers";
import type { Logger } from "../router/core/types.ts";

/** Options for a cluster node (`RouterOptions.cluster`, `--cluster`). */
export interface ClusterOptions {
  /** NATS server URLs (`nats://host:port`). */
  servers: string[];
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
}

const NAME = /^[A-Za-z0-9_-]+$/;

/** Messages {@linkcode ClusterNode.send} holds for one subject. */
interface Batch {
  subject: string;
  parts: Uint8Array[];
  bytes: number;
}
const utf8 = new TextEncoder();
const text = new TextDecoder();

/**
 * The first byte of a batch ({@linkcode ClusterNode.send}): `0xc1`, which
 * MessagePack never uses, so a batch cannot be mistaken for one message.
 */
const BATCH = 0xc1;
/** A batch is sent once it holds this many bytes. */
const BATCH_BYTES = 64 * 1024;

/**
 * The messages in what NATS delivered: one, or those of a batch
 * ({@linkcode ClusterNode.send}).
 *
 * @param data A NATS message's payload.
 * @returns The messages, in the order they were sent.
 *
 * @example
 * ```ts
 * import { unbatch } from "./node.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(unbatch(new Uint8Array([0x91, 1])), [new Uint8Array([0x91, 1])]);
 * deepEqual(unbatch(new Uint8Array([0xc1, 0, 0, 0, 1, 7, 0, 0, 0, 0])), [
 *   new Uint8Array([7]),
 *   new Uint8Array(0),
 * ]);
 * ```
 */
export function unbatch(data: Uint8Array): Uint8Array[] {
  if (data[0] !== BATCH) return [data];
  const out: Uint8Array[] = [];
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let at = 1;
  while (at + 4 <= data.length) {
    const length = view.getUint32(at);
    at += 4;
    if (at + length > data.length) break; // truncated: not from a node
    out.push(data.subarray(at, at + length));
    at += length;
  }
  return out;
}

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
  #timer: ReturnType<typeof setInterval>;
  #heartbeat: number;
  #nodeTimeout: number;
  #closed = false;
  #connected = true;
  /** What {@linkcode ClusterNode.send} holds until the loop turns: batches by subject, in order. */
  #queue: Batch[] = [];
  #queueBytes = 0;
  #queued = false;
  #reconnectedAt = 0;

  private constructor(nc: NatsConnection, options: ClusterOptions, log: Logger) {
    this.#nc = nc;
    this.#log = log;
    this.name = options.name ?? "cloverleaf";
    this.prefix = `clv.${this.name}`;
    this.id = crypto.randomUUID().replaceAll("-", "").slice(0, 16);
    this.#heartbeat = options.heartbeat ?? 1000;
    this.#nodeTimeout = options.nodeTimeout ?? 5000;
    this.subscribe(`${this.prefix}.nodes.>`, (data, subject) => this.#onNode(subject, data));
    this.#beat();
    this.#timer = setInterval(() => {
      this.#beat();
      this.#sweep();
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
    this.#sendQueued();
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
   * @throws {Error} From the NATS client, for a message of 64 KiB or more
   * that NATS refuses (over its `max_payload`); smaller ones are not checked
   * here.
   */
  send(subject: string, data: Uint8Array): void {
    if (this.#closed) return;
    if (data.length + 4 >= BATCH_BYTES) return this.publish(subject, data); // may throw: too big
    const last = this.#queue.at(-1);
    if (last !== undefined && last.subject === subject && last.bytes < BATCH_BYTES) {
      last.parts.push(data);
      last.bytes += data.length + 4;
    } else this.#queue.push({ subject, parts: [data], bytes: data.length + 4 });
    this.#queueBytes += data.length + 4;
    if (this.#queueBytes >= 16 * BATCH_BYTES) this.#sendQueued();
    else if (!this.#queued) {
      this.#queued = true;
      setImmediate(() => {
        this.#queued = false;
        this.#sendQueued();
      });
    }
  }

  /** Hands what {@linkcode ClusterNode.send} holds to NATS. */
  #sendQueued(): void {
    const queue = this.#queue;
    if (queue.length === 0) return;
    this.#queue = [];
    this.#queueBytes = 0;
    if (this.#closed) return;
    for (const batch of queue) this.#publishBatch(batch);
  }

  #publishBatch({ subject, parts, bytes }: Batch): void {
    if (parts.length === 1) {
      try {
        return this.#nc.publish(subject, parts[0]!);
      } catch (error) {
        return this.#log("warn", `Cluster: cannot publish on ${subject}: ${error}`);
      }
    }
    const out = new Uint8Array(1 + bytes);
    const view = new DataView(out.buffer);
    out[0] = BATCH;
    let at = 1;
    for (const data of parts) {
      view.setUint32(at, data.length);
      out.set(data, at + 4);
      at += 4 + data.length;
    }
    try {
      this.#nc.publish(subject, out);
    } catch { // over a small max_payload: one at a time
      for (const data of parts) this.#publishBatch({ subject, parts: [data], bytes: 0 });
    }
  }

  /**
   * Receives what is published on a subject (NATS wildcards allowed),
   * each message of a batch ({@linkcode ClusterNode.send}) on its own.
   *
   * @param subject The subject.
   * @param handler Called for each message, in order.
   * @returns The subscription.
   */
  subscribe(subject: string, handler: ClusterHandler): ClusterSubscription {
    return this.#nc.subscribe(subject, {
      callback: (error, msg) => {
        if (error !== null) return this.#log("warn", `Cluster: subscription ${subject}: ${error}`);
        for (const data of unbatch(msg.data)) {
          try {
            handler(data, msg.subject);
          } catch (failure) {
            this.#log("error", `Cluster: handling ${msg.subject}: ${failure}`);
          }
        }
      },
    });
  }

  /** Resolves once NATS has every message published so far. */
  flush(): Promise<void> {
    this.#sendQueued();
    return this.#nc.flush();
  }

  /** The nodes heard from within the node timeout, this one included. */
  nodes(): string[] {
    return [this.id, ...this.#seen.keys()].sort();
  }

  /**
   * Calls `handler` with a node's ID when it goes down (timed out or said
   * goodbye).
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

  /** Says goodbye to the cluster and closes the NATS connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    clearInterval(this.#timer);
    this.#sendQueued();
    this.#nc.publish(this.subject("nodes", "bye", this.id));
    this.#closed = true;
    try {
      await this.#nc.drain();
    } catch {
      await this.#nc.close().catch(() => {});
    }
  }

  #beat(): void {
    if (!this.#closed) this.#nc.publish(this.subject("nodes", "hb", this.id), utf8.encode("1"));
  }

  #onNode(subject: string, _data: Uint8Array): void {
    const [kind, id] = subject.slice(this.prefix.length + ".nodes.".length).split(".");
    if (id === undefined || id === this.id) return;
    if (kind === "bye") return this.#down(id, "left");
    const known = this.#seen.has(id);
    this.#seen.set(id, Date.now());
    if (!known) {
      this.#log("info", `Cluster "${this.name}": node ${id} is up`);
      for (const handler of this.#upHandlers) handler(id);
    }
  }

  #sweep(): void {
    const limit = Date.now() - this.#nodeTimeout;
    for (const [id, seen] of this.#seen) if (seen < limit) this.#down(id, "timed out");
  }

  #down(id: string, why: string): void {
    if (!this.#seen.delete(id)) return;
    this.#log("warn", `Cluster "${this.name}": node ${id} is down (${why})`);
    for (const handler of this.#downHandlers) {
      try {
        handler(id);
      } catch (error) {
        this.#log("error", `Cluster: node-down handler: ${error}`);
      }
    }
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
        }
      }
    } catch {
      // the connection closed
    }
  }
}

/**
 * Decodes a UTF-8 payload (node IDs, small control messages).
 *
 * @param data The bytes.
 * @returns The text.
 */
export function decodeText(data: Uint8Array): string {
  return text.decode(data);
}
