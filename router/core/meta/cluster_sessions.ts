/**
 * The session meta API in a cluster, sans-I/O: this node's view of the
 * sessions joined to the realm on other nodes, and what it tells them of
 * its own.
 *
 * Every node broadcasts its sessions' joins and leaves (a `cluster-session`
 * effect the shell publishes on NATS) and keeps a table of the other
 * nodes' sessions, fed by their broadcasts, by a snapshot a node sends when
 * asked (a node that starts, or comes back, asks every node), and emptied
 * of a node's sessions when that node is down (with `on_leave` for each).
 * So `wamp.session.count`, `list` and `get` answer at once from memory on
 * every node, and `on_join`/`on_leave` fire on every node, each node
 * publishing them to its own subscribers: meta events never cross NATS as
 * publications, so none is delivered twice.
 *
 * Subscriptions travel the same way: each node broadcasts its subscribers
 * joining and leaving, and every node keeps the others' subscriptions
 * ({@linkcode RemoteSubscriptions}) for `wamp.subscription.*` and
 * publishes their meta events to its own subscribers.
 *
 * Killing a session of another node is a request to that node (a `task`
 * effect: the shell sends it and resolves once that node removed it).
 *
 * @module
 */

import { type Dict, isReservedUri, MetaTopic } from "../../../wamp/mod.ts";
import { append, type Effect, NOTHING, type Output, output } from "../output.ts";
import type { SessionInfo } from "../types.ts";
import type { Subscription } from "../broker/broker.ts";
import type { MetaEvents, SubscriptionShare } from "./events.ts";
import { RemoteSubscriptions, type SharedSubscription } from "./remote_subscriptions.ts";
import { subscriptionDetails } from "./subscription_meta.ts";
import { sizeOf } from "./snapshot_size.ts";

/** Bytes per snapshot part, about (NATS's max_payload is 1 MiB by default). */
const SNAPSHOT_BYTES = 256 * 1024;
/** A subscriber's session ID, at most, as counted (JSON: 16 digits and a comma). */
const ID_BYTES = 17;

/** What nodes tell each other about sessions (msgpack-encoded by the shell). */
export type SessionEnvelope =
  | {
    /** A session joined (or, again, its details changed). */
    k: "join";
    realm: string;
    node: string;
    details: Dict;
  }
  | {
    /** A session left; `quiet`: no `on_leave` (`wamp.session.kill_all`). */
    k: "leave";
    realm: string;
    node: string;
    session: number;
    authid: string;
    authrole: string;
    quiet: boolean;
  }
  | {
    /** A session joined (`on`) or left a subscription; `quiet`: no meta events. */
    k: "sub";
    realm: string;
    node: string;
    sub: SharedSubscription;
    session: number;
    on: boolean;
    quiet: boolean;
  }
  | {
    /**
     * Every session and subscription of `node` in `realm` now (an answer
     * to `sync`), in parts: the `first` replaces what was known.
     */
    k: "snapshot";
    realm: string;
    node: string;
    first: boolean;
    sessions: Dict[];
    subs: SharedSubscription[];
  };

/** What the shell gives a realm's session meta API that joins a cluster. */
export interface SessionClusterHooks {
  /** This node's ID. */
  readonly node: string;
  /** The realm's name. */
  readonly realm: string;
  /**
   * Asks other nodes to kill sessions (node → session IDs; run by the shell
   * as a task): resolves once they are gone there.
   */
  kill(
    sessions: ReadonlyMap<string, number[]>,
    reason: string,
    message: string | undefined,
    quiet: boolean,
  ): PromiseLike<void>;
  /**
   * Asks a session's node to apply `wamp.session.modify_details` (run by
   * the shell as a task): resolves with undefined when applied, else the
   * error URI its caller hears (no such session, or past the size limit).
   */
  modify(node: string, session: number, details: Dict): PromiseLike<string | undefined>;
}

/** What {@linkcode SessionCluster} needs from the session meta API. */
export interface SessionClusterParts {
  /** Where meta events go. */
  readonly events: MetaEvents;
  /** The details of this node's sessions (for snapshots). */
  readonly local: () => Dict[];
  /** This node's subscriptions (for snapshots). */
  readonly subscriptions: () => SharedSubscription[];
  /** Kills this node's sessions among `ids` (see `SessionDirectory.kill`). */
  readonly kill: (
    ids: number[],
    reason: string,
    message: string | undefined,
    quiet: boolean,
  ) => Output;
  /** Applies `modify_details` to this node's session: undefined when done, else the error URI why not. */
  readonly modify: (session: number, details: Dict) => string | undefined;
  /** Completes an output (flushes meta events, takes queued effects). */
  readonly settle: (out: Output) => Output;
}

/** A session joined on another node. */
export interface RemoteSession {
  /** Its node. */
  readonly node: string;
  /** Its details, as `wamp.session.get` reports them. */
  readonly details: Dict;
}

/**
 * One realm's session meta API across the cluster, and the subscription
 * meta API's view of the other nodes' subscriptions (which travel with
 * the same broadcasts and snapshots).
 */
export class SessionCluster implements SubscriptionShare {
  /** The shell's hooks. */
  readonly hooks: SessionClusterHooks;
  /** The other nodes' subscriptions. */
  readonly remote: RemoteSubscriptions = new RemoteSubscriptions();
  #parts: SessionClusterParts;
  #sessions = new Map<number, RemoteSession>();
  #effects: Effect[] = [];

  /**
   * Creates it.
   *
   * @param hooks The shell's hooks.
   * @param parts The session meta API's pieces.
   */
  constructor(hooks: SessionClusterHooks, parts: SessionClusterParts) {
    this.hooks = hooks;
    this.#parts = parts;
  }

  /** Whether effects are queued for the realm's output. */
  get pending(): boolean {
    return this.#effects.length > 0;
  }

  /** Moves the queued effects to `to`. */
  take(to: Effect[]): void {
    for (const effect of this.#effects) to.push(effect);
    this.#effects.length = 0;
  }

  /** The sessions of other nodes. */
  sessions(): IterableIterator<RemoteSession> {
    return this.#sessions.values();
  }

  /** A session of another node, by ID. */
  session(id: number): RemoteSession | undefined {
    return this.#sessions.get(id);
  }

  /** A local session joined, or its details changed: tell every node. */
  joined(details: Dict): void {
    const { realm, node } = this.hooks;
    this.#send({ k: "join", realm, node, details });
  }

  /** A local session left: tell every node. */
  left(info: SessionInfo, quiet: boolean): void {
    const { realm, node } = this.hooks;
    const { id: session, authid, authrole } = info;
    this.#send({ k: "leave", realm, node, session, authid, authrole, quiet });
  }

  /** A local session joined (`on`) or left a local subscription: tell every node. */
  changed(session: number, sub: Subscription, on: boolean): void {
    const { realm, node } = this.hooks;
    const { id, topic, match, created } = sub;
    const shared = { id, topic, match, created, subscribers: [] };
    const quiet = this.#parts.events.silent;
    this.#send({ k: "sub", realm, node, sub: shared, session, on, quiet });
  }

  /**
   * A node asked for this node's sessions (or this node is back on NATS).
   *
   * @param to The asking node (undefined: every node).
   * @returns The snapshot to send it.
   */
  snapshot(to?: string): Output {
    const { realm, node } = this.hooks;
    const { local, subscriptions } = this.#parts;
    // In parts of about SNAPSHOT_BYTES (by size, not count: a topic may be
    // 4096 characters), each far below NATS's max_payload.
    const parts: { sessions: Dict[]; subs: SharedSubscription[] }[] = [];
    let part = { sessions: [] as Dict[], subs: [] as SharedSubscription[] };
    let size = 0;
    const next = () => {
      parts.push(part = { sessions: [], subs: [] });
      size = 0;
    };
    const room = (bytes: number) => {
      if (size > 0 && size + bytes > SNAPSHOT_BYTES) next();
      size += bytes;
    };
    next();
    for (const details of local()) {
      room(sizeOf(details));
      part.sessions.push(details);
    }
    for (const sub of subscriptions()) {
      const head = sizeOf({ ...sub, subscribers: [] });
      for (let i = 0; i < sub.subscribers.length;) {
        room(head + ID_BYTES);
        const n = Math.max(1, Math.floor((SNAPSHOT_BYTES - size) / ID_BYTES) + 1);
        const subscribers = sub.subscribers.slice(i, i + n);
        part.subs.push({ ...sub, subscribers });
        size += (subscribers.length - 1) * ID_BYTES;
        i += subscribers.length;
      }
    }
    return {
      messages: [],
      effects: parts.map((p, i): Effect => ({
        kind: "cluster-session",
        ...(to === undefined ? {} : { to }),
        envelope: { k: "snapshot", realm, node, first: i === 0, ...p } satisfies SessionEnvelope,
      })),
    };
  }

  /**
   * Another node sent an envelope.
   *
   * @param envelope What it sent.
   * @returns The meta events it causes here.
   */
  receive(envelope: SessionEnvelope): Output {
    const events = this.#parts.events;
    switch (envelope.k) {
      case "join": {
        const id = envelope.details.session as number;
        const known = this.#sessions.has(id);
        this.#sessions.set(id, { node: envelope.node, details: envelope.details });
        if (known) return NOTHING;
        events.publish(MetaTopic.SESSION_ON_JOIN, () => [envelope.details]);
        break;
      }
      case "leave": {
        if (!this.#sessions.delete(envelope.session) || envelope.quiet) return NOTHING;
        const { session, authid, authrole } = envelope;
        events.publish(MetaTopic.SESSION_ON_LEAVE, () => [session, authid, authrole]);
        break;
      }
      case "sub": {
        const { node, sub, session, on } = envelope;
        const changed = this.remote.change(node, sub, session, on);
        if (changed === undefined || envelope.quiet || isReservedUri(sub.topic)) return NOTHING;
        if (changed.created) {
          events.publish(
            MetaTopic.SUBSCRIPTION_ON_CREATE,
            () => [session, subscriptionDetails(sub)],
          );
        }
        const topic = on
          ? MetaTopic.SUBSCRIPTION_ON_SUBSCRIBE
          : MetaTopic.SUBSCRIPTION_ON_UNSUBSCRIBE;
        events.publish(topic, () => [session, sub.id]);
        if (changed.deleted) {
          events.publish(MetaTopic.SUBSCRIPTION_ON_DELETE, () => [session, sub.id]);
        }
        break;
      }
      case "snapshot": {
        // The first part replaces the node's entries; the view fills without meta events.
        if (envelope.first) {
          this.remote.dropNode(envelope.node);
          for (const [id, s] of this.#sessions) {
            if (s.node === envelope.node) this.#sessions.delete(id);
          }
        }
        this.remote.addAll(envelope.node, envelope.subs);
        for (const details of envelope.sessions) {
          this.#sessions.set(details.session as number, { node: envelope.node, details });
        }
        return NOTHING;
      }
    }
    return this.#parts.settle(NOTHING);
  }

  /**
   * A node is down: its sessions leave this node's view, with `on_leave`.
   *
   * @param node The node.
   * @returns The meta events.
   */
  nodeDown(node: string): Output {
    const out = output();
    for (const sub of this.remote.dropNode(node)) {
      if (isReservedUri(sub.topic)) continue;
      const events = this.#parts.events;
      for (const session of sub.subscribers) {
        events.publish(MetaTopic.SUBSCRIPTION_ON_UNSUBSCRIBE, () => [session, sub.id]);
      }
      const last = [...sub.subscribers].pop();
      events.publish(MetaTopic.SUBSCRIPTION_ON_DELETE, () => [last, sub.id]);
    }
    append(out, this.#parts.settle(NOTHING));
    for (const [id, s] of [...this.#sessions]) {
      if (s.node !== node) continue;
      append(
        out,
        this.receive({
          k: "leave",
          realm: this.hooks.realm,
          node,
          session: id,
          authid: String(s.details.authid),
          authrole: String(s.details.authrole),
          quiet: false,
        }),
      );
    }
    return out;
  }

  /**
   * Another node asks this one to kill some of its sessions.
   *
   * @returns What their removal sends, and the effects that close them.
   */
  kill(ids: number[], reason: string, message: string | undefined, quiet: boolean): Output {
    return this.#parts.settle(this.#parts.kill(ids, reason, message, quiet));
  }

  /**
   * Another node asks this one to modify a session's details.
   *
   * @returns Why not (an error URI; undefined: done), and what telling the nodes sends.
   */
  modify(session: number, details: Dict): { refused: string | undefined; out: Output } {
    const refused = this.#parts.modify(session, details);
    return { refused, out: this.#parts.settle(output()) };
  }

  #send(envelope: SessionEnvelope): void {
    this.#effects.push({ kind: "cluster-session", envelope });
  }
}
