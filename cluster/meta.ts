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
  /** Requests to other nodes waiting for their answer, by number: settled by it, or by an error. */
  #pending = new Map<number, (answer: Request | Error) => void>();
  #nextRequest = 0;
  #timeout: number;

  /**
   * Starts listening, and asks every node for its sessions.
   *
   * @param node The cluster node.
   * @param run Runs a realm's output (delivery and effects).
   * @param log Where failures are logged.
   * @param timeout Milliseconds a kill or modify request waits for its answer.
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

  /** Stops listening; requests in flight fail at once. */
  close(): void {
    for (const subscription of this.#subscriptions) subscription.unsubscribe();
    for (const settle of [...this.#pending.values()]) settle(new Error("the cluster is closing"));
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
    return this.#request(node, "kill", (req) => ({
      k: "kill",
      realm,
      from: this.#node.id,
      req,
      ids,
      reason,
      ...(message === undefined ? {} : { message }),
      quiet,
    })).then(() => {});
  }

  #modify(realm: string, node: string, id: number, details: Dict): Promise<string | undefined> {
    return this.#request(
      node,
      "modify_details",
      (req) => ({ k: "modify", realm, from: this.#node.id, req, id, details }),
    ).then((answer) =>
      answer.k !== "modified" || answer.found
        ? undefined
        : answer.refused ?? ErrorUri.NO_SUCH_SESSION
    );
  }

  /**
   * Sends a node a request and waits for its answer (`killed`,
   * `modified`). One that cannot be sent (over NATS's max_payload, the link
   * down), or that is not answered within the timeout, rejects: what came
   * of it is not known (a slow node may still carry it out), so it is never
   * answered as done, nor as refused.
   */
  #request(node: string, what: string, request: (req: number) => Request): Promise<Request> {
    const req = ++this.#nextRequest;
    const { promise, resolve, reject } = Promise.withResolvers<Request>();
    const settle = (answer: Request | Error) => {
      clearTimeout(timer);
      this.#pending.delete(req);
      if (!(answer instanceof Error)) return resolve(answer);
      this.#log("warn", `Cluster: ${answer.message}`);
      reject(answer);
    };
    const timer = setTimeout(() => {
      settle(new Error(`node ${node} did not answer a ${what} request within ${this.#timeout} ms`));
    }, this.#timeout);
    this.#pending.set(req, settle);
    try {
      this.#node.publish(this.#node.subject("node", node, "meta"), encode(request(req), PACK));
    } catch (error) {
      settle(new Error(`cannot send a ${what} request to node ${node}: ${error}`));
    }
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
      case "modified":
      case "killed":
        return this.#pending.get(envelope.req)?.(envelope);
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
