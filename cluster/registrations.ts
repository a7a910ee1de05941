/**
 * The cluster's shared registration table, in a JetStream KV bucket
 * (`clv_<name>_registrations`): one key per realm, match policy and
 * procedure, whose value lists the callees (node, session, order, kept
 * options, RPC features) and the invocation policy. Changes are atomic:
 * a new registration is a KV `create` (exactly one of two racing nodes
 * wins), a change a compare-and-set `update` on the revision read. Every
 * node watches the bucket and mirrors other nodes' callees into its
 * dealers.
 *
 * @module
 */

import { decode, encode } from "@msgpack/msgpack";
import type { Dict, InvocationPolicy, MatchPolicy } from "../wamp/mod.ts";
import type { CalleeEntry } from "../router/core/dealer/remote.ts";
import type { Logger } from "../router/core/types.ts";
import type { ClusterNode } from "./node.ts";

/** A registration as the table stores it. */
export interface SharedRegistration {
  /** The realm. */
  realm: string;
  /** The procedure URI or pattern. */
  procedure: string;
  /** The match policy. */
  match: MatchPolicy;
  /** The invocation policy. */
  invoke: InvocationPolicy;
  /** The callees, on every node. */
  callees: CalleeEntry[];
  /** What `wamp.reflect.define` set, on any node. */
  description?: Dict;
}

/** Told of every change: the registration's callees now (empty: gone). */
export type RegistrationChange = (
  realm: string,
  procedure: string,
  match: MatchPolicy,
  invoke: InvocationPolicy,
  callees: readonly CalleeEntry[],
  description: Dict | undefined,
) => void;

interface KvEntry {
  key: string;
  value: Uint8Array;
  revision: number;
  operation: "PUT" | "DEL" | "PURGE";
}
interface Kv {
  get(key: string): Promise<KvEntry | null>;
  create(key: string, data: Uint8Array): Promise<number>;
  update(key: string, data: Uint8Array, revision: number): Promise<number>;
  delete(key: string, options?: { previousSeq?: number }): Promise<void>;
  keys(filter?: string): Promise<AsyncIterable<string>>;
  watch(options?: { key?: string }): Promise<AsyncIterable<KvEntry> & { stop(): void }>;
}

const SAFE = /[A-Za-z0-9_-]/;
const utf8 = new TextEncoder();

/**
 * Text as a KV key token: `[A-Za-z0-9_-]` kept, every other byte `=XX`;
 * reversible with `decodeURIComponent` after `=` → `%`.
 *
 * @param text Any text.
 * @returns The token (never empty: a leading `_`).
 *
 * @example
 * ```ts
 * import { keyToken } from "./registrations.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(keyToken("com.example"), "_com=2Eexample");
 * ```
 */
export function keyToken(text: string): string {
  let out = "_";
  for (const char of text) {
    if (SAFE.test(char)) out += char;
    else {for (const byte of utf8.encode(char)) {
        out += `=${byte.toString(16).toUpperCase().padStart(2, "0")}`;
      }}
  }
  return out;
}

function untoken(token: string): string {
  return decodeURIComponent(token.slice(1).replaceAll("=", "%"));
}

/** The key of a registration. */
function keyOf(realm: string, procedure: string, match: MatchPolicy): string {
  return `${keyToken(realm)}.${match}.${keyToken(procedure)}`;
}

/** The shared registration table of one cluster. */
export class ClusterRegistrations {
  #kv: Kv;
  #log: Logger;
  #watcher: { stop(): void } | undefined;
  #closed = false;
  /** Nodes known to be down: their callees are ignored and removed. */
  #down = new Set<string>();
  /** This node's callees in the table, by key and session: re-asserted after a partition. */
  #mine = new Map<string, Map<number, { invoke: InvocationPolicy; entry: CalleeEntry }>>();
  #change: RegistrationChange | undefined;

  private constructor(kv: Kv, log: Logger) {
    this.#kv = kv;
    this.#log = log;
  }

  /**
   * Opens (creating if needed) the cluster's bucket.
   *
   * @param node The cluster node.
   * @param log Where failures are logged.
   * @returns The table.
   */
  static async open(node: ClusterNode, log: Logger): Promise<ClusterRegistrations> {
    const { Kvm } = await import("@nats-io/kv");
    // deno-lint-ignore no-explicit-any
    const kvm = new Kvm(node.connection as any);
    const kv = await kvm.create(`clv_${node.name}_registrations`, { history: 1 });
    const table = new ClusterRegistrations(kv as unknown as Kv, log);
    node.onNodeUp((id) => {
      if (table.#down.delete(id)) table.#resync(id).catch(() => {});
    });
    return table;
  }

  /**
   * A node taken for down is back (NATS was unreachable, or the network
   * split): this node's callees go back into the table (the other node may
   * have removed them), and the table is read again, whose callees of the
   * returning node this node had dropped.
   */
  async #resync(node: string): Promise<void> {
    this.#log("info", `Cluster: node ${node} is back, resyncing the registration table`);
    for (const [key, sessions] of this.#mine) {
      const [realm, match, procedure] = key.split(".");
      for (const { invoke, entry } of sessions.values()) {
        try {
          const refused = await this.claim(
            untoken(realm!),
            untoken(procedure!),
            match as MatchPolicy,
            invoke,
            entry,
          );
          if (refused !== undefined) {
            this.#log("warn", `Cluster: cannot restore ${untoken(procedure!)}: ${refused}`);
          }
        } catch (error) {
          this.#log("warn", `Cluster: cannot restore ${untoken(procedure!)}: ${error}`);
        }
      }
    }
    const change = this.#change;
    if (change === undefined || this.#closed) return;
    const keys: string[] = [];
    for await (const key of await this.#kv.keys()) keys.push(key);
    for (const key of keys) {
      const entry = await this.#kv.get(key);
      if (entry === null || entry.operation !== "PUT") continue;
      const reg = decode(entry.value) as SharedRegistration;
      const callees = reg.callees.filter((c) => !this.#down.has(c.node));
      change(reg.realm, reg.procedure, reg.match, reg.invoke, callees, reg.description);
    }
  }

  #remember(key: string, invoke: InvocationPolicy, entry: CalleeEntry): void {
    let sessions = this.#mine.get(key);
    if (sessions === undefined) this.#mine.set(key, sessions = new Map());
    sessions.set(entry.session, { invoke, entry });
  }

  /**
   * Watches the table: `change` is called for every registration there
   * now, then for every change.
   *
   * @param change The handler.
   */
  async watch(change: RegistrationChange): Promise<void> {
    this.#change = change;
    const watcher = await this.#kv.watch({ key: ">" });
    this.#watcher = watcher;
    (async () => {
      for await (const entry of watcher) {
        try {
          if (entry.operation === "PUT") {
            const reg = decode(entry.value) as SharedRegistration;
            const callees = reg.callees.filter((c) => !this.#down.has(c.node));
            change(reg.realm, reg.procedure, reg.match, reg.invoke, callees, reg.description);
          } else {
            const [realm, match, procedure] = entry.key.split(".");
            const uri = untoken(procedure!);
            change(untoken(realm!), uri, match as MatchPolicy, "single", [], undefined);
          }
        } catch (error) {
          this.#log("error", `Cluster: registration ${entry.key}: ${error}`);
        }
      }
    })().catch(() => {});
  }

  /**
   * Adds a callee atomically.
   *
   * @returns Undefined when it is in; the reason when another
   * registration is in the way (`procedure_already_exists`).
   */
  async claim(
    realm: string,
    procedure: string,
    match: MatchPolicy,
    invoke: InvocationPolicy,
    entry: CalleeEntry,
  ): Promise<string | undefined> {
    const key = keyOf(realm, procedure, match);
    for (let attempt = 0; attempt < 50; attempt++) {
      const current = await this.#kv.get(key);
      if (current === null || current.operation !== "PUT") {
        const value: SharedRegistration = { realm, procedure, match, invoke, callees: [entry] };
        try {
          await (current === null
            ? this.#kv.create(key, encode(value))
            : this.#kv.update(key, encode(value), current.revision));
          this.#remember(key, invoke, entry);
          return undefined;
        } catch {
          continue; // another node created it first: look again
        }
      }
      const reg = decode(current.value) as SharedRegistration;
      if (reg.callees.some((c) => c.session === entry.session && c.node === entry.node)) {
        this.#remember(key, invoke, entry); // already in (a resync after a partition)
        return undefined;
      }
      reg.callees = reg.callees.filter((c) => !this.#down.has(c.node));
      if (reg.callees.length === 0) {
        reg.invoke = invoke;
      } else if (reg.invoke === "single" || reg.invoke !== invoke) {
        return `registered with invocation policy "${reg.invoke}"`;
      }
      reg.callees.push(entry);
      try {
        await this.#kv.update(key, encode(reg), current.revision);
        this.#remember(key, invoke, entry);
        return undefined;
      } catch {
        // changed meanwhile: look again
      }
    }
    throw new Error(`registration "${procedure}" is changing too often`);
  }

  /**
   * Sets a registration's description (`wamp.reflect.define`), unless the
   * registration is gone.
   */
  async define(
    realm: string,
    procedure: string,
    match: MatchPolicy,
    description: Dict,
  ): Promise<void> {
    const key = keyOf(realm, procedure, match);
    for (let attempt = 0; attempt < 50 && !this.#closed; attempt++) {
      const current = await this.#kv.get(key);
      if (current === null || current.operation !== "PUT") return;
      const reg = decode(current.value) as SharedRegistration;
      try {
        await this.#kv.update(key, encode({ ...reg, description }), current.revision);
        return;
      } catch {
        // changed meanwhile: look again
      }
    }
  }

  /**
   * Removes callees (those `drop` picks) from a registration; the
   * registration goes with its last callee.
   */
  async release(
    realm: string,
    procedure: string,
    match: MatchPolicy,
    drop: (callee: CalleeEntry) => boolean,
  ): Promise<void> {
    const key = keyOf(realm, procedure, match);
    const mine = this.#mine.get(key);
    if (mine !== undefined) {
      for (const [session, { entry }] of mine) if (drop(entry)) mine.delete(session);
      if (mine.size === 0) this.#mine.delete(key);
    }
    for (let attempt = 0; attempt < 50 && !this.#closed; attempt++) {
      const current = await this.#kv.get(key);
      if (current === null || current.operation !== "PUT") return;
      const reg = decode(current.value) as SharedRegistration;
      const callees = reg.callees.filter((c) => !drop(c));
      if (callees.length === reg.callees.length) return;
      try {
        if (callees.length === 0) await this.#kv.delete(key, { previousSeq: current.revision });
        else await this.#kv.update(key, encode({ ...reg, callees }), current.revision);
        return;
      } catch {
        // changed meanwhile: look again
      }
    }
  }

  /**
   * Removes every callee of a node that is down (and ignores them from
   * now on, should they still be listed).
   */
  async releaseNode(node: string): Promise<void> {
    this.#down.add(node);
    const keys: string[] = [];
    for await (const key of await this.#kv.keys()) keys.push(key);
    for (const key of keys) {
      if (!this.#down.has(node)) return; // it came back meanwhile
      const [realm, match, procedure] = key.split(".");
      await this.release(
        untoken(realm!),
        untoken(procedure!),
        match as MatchPolicy,
        (c) => c.node === node && this.#down.has(node),
      );
    }
  }

  /** Stops watching. */
  close(): void {
    this.#closed = true;
    this.#watcher?.stop();
  }
}
