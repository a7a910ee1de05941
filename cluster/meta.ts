/**
 * The session meta API across nodes, the NATS side. Each node publishes
 * its sessions' joins and leaves on `clv.<name>.meta.sessions` (msgpack,
 * one encode per envelope) and feeds the other nodes' to its realms
 * (`router/core/meta/cluster_sessions.ts`). Requests between two nodes go
 * to `clv.<name>.node.<id>.meta`: a node that starts asks every node it
 * knows, and then each node it sees come (back), once, for a snapshot of
 * the sessions there; a node kills sessions
 * of its own for a `wamp.session.kill*` called on another node, and
 * answers once they are gone.
 *
 * Why not a table in JetStream KV: a join would cost a KV write and a
 * round trip to the JetStream leader, and each node would still need a
 * watcher-fed copy to answer `count`/`list` synchronously. NATS
 * broadcasts plus node liveness give the same view with no storage:
 * sessions live only as long as their node, and a node's death is
 * already detected (`nodeTimeout`), which is when its sessions leave.
 *
 * @module
 */

import { decode, encode } from "@msgpack/msgpack";
import { type Dict, ErrorUri } from "../wamp/mod.ts";
import type { ClusterSession, Output } from "../router/core/output.ts";
import type { Realm } from "../router/core/realm.ts";
import type { SessionCluster, SessionEnvelope } from "../router/core/meta/cluster_sessions.ts";
import type { Logger } from "../router/core/types.ts";
import type { ClusterNode, ClusterSubscription } from "./node.ts";

/** What nodes ask each other directly. */
type Request =
  | { k: "sync"; from: string }
  | {
    k: "kill";
    realm: string;
    from: string;
    req: number;
    ids: number[];
    reason: string;
    message?: string;
    quiet: boolean;
  }
  | { k: "killed"; req: number }
  | { k: "modify"; realm: string; from: string; req: number; id: number; details: Dict }
  | { k: "modified"; req: number; found: boolean; refused?: string };

const PACK = { ignoreUndefined: true } as const;

/** The session meta API across the nodes, for every realm of one router. */
export class ClusterSessions {
  #node: ClusterNode;
  #run: (out: Output) => void;
  #log: Logger;
  #realms = new Map<string, SessionCluster>();
  #subscriptions: ClusterSubscription[];
  #kills = new Map<number, () => void>();
  #modifies = new Map<number, (refused: string | undefined) => void>();
  #nextKill = 0;
  #timeout: number;

  /**
   * Starts listening, and asks every node for its sessions.
   *
   * @param node The cluster node.
   * @param run Runs a realm's output (delivery and effects).
   * @param log Where failures are logged.
   * @param timeout Milliseconds a kill request waits for its answer.
   */
  constructor(node: ClusterNode, run: (out: Output) => void, log: Logger, timeout = 5000) {
    this.#node = node;
    this.#run = run;
    this.#log = log;
    this.#timeout = timeout;
    this.#subscriptions = [
      node.subscribe(node.subject("meta", "sessions"), (data) => this.#receive(decode(data))),
      node.subscribe(node.subject("node", node.id, "meta"), (data) => this.#receive(decode(data))),
    ];
    node.onNodeDown((id) => {
      for (const sessions of this.#realms.values()) run(sessions.nodeDown(id));
    });
    // Every node known now, then each node seen (again), is asked once for
    // its sessions (a node answers a newcomer's heartbeat with its own, so
    // the nodes up are known by now).
    node.onNodeUp((id) => this.#ask(node.subject("node", id, "meta")));
    // Back on NATS after broadcasts were lost: every node's sessions again, and this node's to all.
    node.onReconnect((id) => {
      if (id !== node.id) return;
      this.#ask(node.subject("meta", "sessions"));
      for (const sessions of this.#realms.values()) run(sessions.snapshot());
    });
    for (const id of node.nodes()) if (id !== node.id) this.#ask(node.subject("node", id, "meta"));
  }

  /**
   * Links a realm's session meta API.
   *
   * @param name The realm's name.
   * @param realm The realm.
   */
  link(name: string, realm: Realm): void {
    this.#realms.set(
      name,
      realm.shareSessions({
        node: this.#node.id,
        realm: name,
        kill: async (sessions, reason, message, quiet) => {
          const asked = await Promise.allSettled(
            [...sessions].flatMap(([node, ids]) =>
              // In parts, each far below NATS's max_payload.
              chunks(ids, 10_000).map((part) =>
                this.#kill(name, node, part, reason, message, quiet)
              )
            ),
          );
          const failed = asked.find((a) => a.status === "rejected");
          if (failed !== undefined) throw failed.reason;
        },
        modify: (node, id, details) => this.#modify(name, node, id, details),
      }),
    );
  }

  /**
   * Runs a `cluster-session` effect.
   *
   * @param effect The effect.
   */
  send(effect: ClusterSession): void {
    const node = this.#node;
    const subject = effect.to === undefined
      ? node.subject("meta", "sessions")
      : node.subject("node", effect.to, "meta");
    try {
      node.send(subject, encode(effect.envelope, PACK), true); // views may lag a few ms
    } catch (error) { // over NATS's max_payload: this part only is lost, the link holds
      this.#log("warn", `Cluster: cannot send session news on ${subject}: ${error}`);
    }
  }

  /** Stops listening; kills in flight answer at once. */
  close(): void {
    for (const subscription of this.#subscriptions) subscription.unsubscribe();
    for (const done of this.#kills.values()) done();
    this.#kills.clear();
    for (const done of this.#modifies.values()) done(ErrorUri.NO_SUCH_SESSION);
    this.#modifies.clear();
  }

  #ask(subject: string): void {
    const request: Request = { k: "sync", from: this.#node.id };
    this.#node.publish(subject, encode(request, PACK));
  }

  #kill(
    realm: string,
    node: string,
    ids: number[],
    reason: string,
    message: string | undefined,
    quiet: boolean,
  ): Promise<void> {
    const req = ++this.#nextKill;
    const { promise, resolve } = Promise.withResolvers<void>();
    const timer = setTimeout(() => {
      this.#kills.delete(req);
      this.#log("warn", `Cluster: node ${node} did not answer a kill request`);
      resolve();
    }, this.#timeout);
    this.#kills.set(req, () => {
      clearTimeout(timer);
      resolve();
    });
    const request: Request = {
      k: "kill",
      realm,
      from: this.#node.id,
      req,
      ids,
      reason,
      ...(message === undefined ? {} : { message }),
      quiet,
    };
    try {
      this.#node.publish(this.#node.subject("node", node, "meta"), encode(request, PACK));
    } catch (error) { // not sent (over NATS's max_payload, or the link is down): a failure
      clearTimeout(timer);
      this.#kills.delete(req);
      this.#log("warn", `Cluster: cannot send a kill request to node ${node}: ${error}`);
      return Promise.reject(error);
    }
    return promise;
  }

  #modify(realm: string, node: string, id: number, details: Dict): Promise<string | undefined> {
    const req = ++this.#nextKill;
    const { promise, resolve } = Promise.withResolvers<string | undefined>();
    const timer = setTimeout(() => {
      this.#modifies.delete(req);
      this.#log("warn", `Cluster: node ${node} did not answer a modify_details request`);
      resolve(ErrorUri.NO_SUCH_SESSION);
    }, this.#timeout);
    this.#modifies.set(req, (refused) => {
      clearTimeout(timer);
      resolve(refused);
    });
    const request: Request = { k: "modify", realm, from: this.#node.id, req, id, details };
    this.#node.publish(this.#node.subject("node", node, "meta"), encode(request, PACK));
    return promise;
  }

  #receive(data: unknown): void {
    const envelope = data as SessionEnvelope | Request;
    switch (envelope.k) {
      case "sync":
        for (const sessions of this.#realms.values()) this.#run(sessions.snapshot(envelope.from));
        return;
      case "kill": {
        const sessions = this.#realms.get(envelope.realm);
        if (sessions !== undefined) {
          const { ids, reason, message, quiet } = envelope;
          this.#run(sessions.kill(ids, reason, message, quiet));
        }
        const answer: Request = { k: "killed", req: envelope.req };
        this.#node.publish(this.#node.subject("node", envelope.from, "meta"), encode(answer));
        return;
      }
      case "modify": {
        const sessions = this.#realms.get(envelope.realm);
        let refused: string | undefined = ErrorUri.NO_SUCH_SESSION;
        if (sessions !== undefined) {
          const modified = sessions.modify(envelope.id, envelope.details);
          refused = modified.refused;
          this.#run(modified.out);
        }
        const found = refused === undefined; // (a node before `refused` reads only this)
        const answer: Request = {
          k: "modified",
          req: envelope.req,
          found,
          ...(refused ? { refused } : {}),
        };
        this.#node.publish(this.#node.subject("node", envelope.from, "meta"), encode(answer));
        return;
      }
      case "modified": {
        const done = this.#modifies.get(envelope.req);
        this.#modifies.delete(envelope.req);
        return done?.(envelope.found ? undefined : envelope.refused ?? ErrorUri.NO_SUCH_SESSION);
      }
      case "killed": {
        const done = this.#kills.get(envelope.req);
        this.#kills.delete(envelope.req);
        return done?.();
      }
      default: {
        const sessions = this.#realms.get(envelope.realm);
        if (sessions !== undefined) this.#run(sessions.receive(envelope));
      }
    }
  }
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
