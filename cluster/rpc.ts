/**
 * RPC across nodes, the NATS side: each node listens on
 * `clv.<name>.node.<id>.rpc` for {@linkcode RpcEnvelope}s (msgpack, one
 * encode per envelope) and feeds them to its realms' dealers; the dealers'
 * `cluster` effects go out the same way, or to the shared registration
 * table. A caller on another node is a proxy here: a delivery target with
 * the caller's session ID whose messages go back to the caller's node.
 *
 * @module
 */

import { decode, encode } from "@msgpack/msgpack";
import {
  type CancelMessage,
  ErrorUri,
  MessageType,
  type Peer,
  type WampMessage,
} from "../wamp/mod.ts";
import { errorReply } from "../router/core/errors.ts";
import type { ClusterSend, Output } from "../router/core/output.ts";
import type { Realm } from "../router/core/realm.ts";
import type { DealerCluster } from "../router/core/dealer/cluster.ts";
import type { RpcEnvelope } from "../router/core/dealer/remote.ts";
import type { BusyEnvelope } from "../router/core/dealer/pass_over.ts";
import type { Logger } from "../router/core/types.ts";
import type { ClusterNode, ClusterSubscription } from "./node.ts";
import type { ClusterRegistrations } from "./registrations.ts";
import { type CallEnvelope, isBare, type WhoEnvelope } from "./caller_identities.ts";

/** What the router gives the cluster's RPC side. */
export interface RpcHost {
  /** Runs a realm's output (delivery and effects). */
  run(out: Output): void;
  /** Adds a delivery target for a proxy of a caller on another node. */
  addProxy(session: number, peer: Peer): void;
  /** Removes a proxy's delivery target. */
  removeProxy(session: number): void;
  /** Where failures are logged. */
  log: Logger;
}

const PACK = { ignoreUndefined: true } as const;
const UNAVAILABLE = ErrorUri.CLUSTER_UNAVAILABLE;

/**
 * Sent to a node this node had taken for down when it is heard again: that
 * node drops what it kept of the calls this node ended then.
 */
interface DownEnvelope {
  k: "down";
  /** The node that had taken the receiver for down. */
  from: string;
}

/** What comes on a node's RPC subject. */
type Received = RpcEnvelope | WhoEnvelope | BusyEnvelope | DownEnvelope;

/** How many nodes taken for down a node remembers, to tell each if it is heard again. */
const DOWN_MEMORY = 1024;

/** RPC between the nodes of a cluster, for every realm of one router. */
export class ClusterRpc {
  #node: ClusterNode;
  #table: ClusterRegistrations;
  #host: RpcHost;
  #dealers = new Map<string, DealerCluster>();
  #subscription: ClusterSubscription;
  /** Nodes taken for down, oldest first (a node that stalled is heard again). */
  #down = new Set<string>();

  /**
   * Starts listening on this node's RPC subject.
   *
   * @param node The cluster node.
   * @param table The shared registration table.
   * @param host The router's side.
   */
  constructor(node: ClusterNode, table: ClusterRegistrations, host: RpcHost) {
    this.#node = node;
    this.#table = table;
    this.#host = host;
    this.#subscription = node.subscribe(
      node.subject("node", node.id, "rpc"),
      (data) => this.#receive(decode(data) as Received),
    );
    node.onNodeDown((id) => this.#nodeDown(id));
    // Down is this node's view: a node that only stalled is heard again, and told.
    node.onNodeUp((id) => this.#heardAgain(id));
    // Messages lost while a connection to NATS was down: calls in flight there end.
    node.onReconnect((id, arrived) => {
      const at = id === node.id ? undefined : id;
      for (const dealer of this.#dealers.values()) host.run(dealer.lapsed(at, arrived));
    });
    // A callee of this node whose registration another node's took over meanwhile: revoked here.
    table.onLost = (realm, procedure, match, session, reason) => {
      const dealer = this.#dealers.get(realm);
      if (dealer !== undefined) host.run(dealer.revoke(procedure, match, session, reason));
    };
  }

  /**
   * Links a realm's dealer to the cluster.
   *
   * @param name The realm's name.
   * @param realm The realm.
   */
  link(name: string, realm: Realm): void {
    this.#dealers.set(
      name,
      realm.dealer.joinCluster({
        node: this.#node.id,
        realm: name,
        claim: (procedure, match, invoke, entry) =>
          this.#table.claim(name, procedure, match, invoke, entry),
      }),
    );
  }

  /** A realm's dealer in the cluster. */
  dealer(realm: string): DealerCluster | undefined {
    return this.#dealers.get(realm);
  }

  /**
   * Runs a dealer's `cluster` effect: to another node, or to the table.
   *
   * @param effect The effect.
   */
  send(effect: ClusterSend): void {
    const envelope = effect.envelope as RpcEnvelope;
    if (envelope.k === "release") {
      const { realm, procedure, match, node, session } = envelope;
      this.#table.release(realm, procedure, match, node, session)
        .catch((error) => this.#host.log("warn", `Cluster: unregistering ${procedure}: ${error}`));
      return;
    }
    if (envelope.k === "define") {
      const { realm, procedure, match, description, session } = envelope;
      this.#table.define(realm, procedure, match, description, session)
        .catch((error) => this.#host.log("warn", `Cluster: describing ${procedure}: ${error}`));
      return;
    }
    try {
      this.#node.send(this.#node.subject("node", effect.node, "rpc"), encode(envelope, PACK));
    } catch (error) { // over NATS's max_payload: the caller is answered, the call ends on both nodes
      this.#host.log(
        "warn",
        `Cluster: cannot send a ${envelope.k} to node ${effect.node}: ${error}`,
      );
      if (envelope.k !== "call") return;
      const { realm, caller, msg: { request } } = envelope;
      const why = `the call cannot reach the callee's node: ${error}`;
      const { msg } = errorReply(caller.id, MessageType.CALL, request, UNAVAILABLE, why);
      const dealer = this.#dealers.get(realm);
      if (dealer !== undefined) this.#host.run(dealer.answer(caller.id, msg));
      // A later chunk of a progressive call leaves an invocation open over there: it ends
      // (a first CALL's node never saw the call, and ignores this).
      const cancel: CancelMessage = {
        type: MessageType.CANCEL,
        request,
        options: { mode: "kill" },
      };
      const kill: RpcEnvelope = {
        k: "cancel",
        realm,
        from: this.#node.id,
        caller: caller.id,
        msg: cancel,
      };
      this.#node.send(this.#node.subject("node", effect.node, "rpc"), encode(kill, PACK));
    }
  }

  /** Stops listening. */
  close(): void {
    this.#subscription.unsubscribe();
  }

  #receive(envelope: Received): void {
    if (envelope.k === "down") return this.#forgottenBy(envelope.from);
    if (envelope.k === "release" || envelope.k === "define") return;
    const dealer = this.#dealers.get(envelope.realm);
    if (dealer === undefined) return;
    const host = this.#host;
    switch (envelope.k) {
      case "call": {
        const { caller, from } = envelope; // the dealer keeps the proxy (`invoke`)
        if (dealer.passes(envelope.msg, envelope.callee) && this.#back(envelope)) return;
        const known = dealer.proxies.has(caller.id);
        if (!known && isBare(caller)) { // its identity first, please
          const who: WhoEnvelope = {
            k: "who",
            realm: envelope.realm,
            from: this.#node.id,
            call: envelope,
          };
          return this.#node.send(this.#node.subject("node", from, "rpc"), encode(who, PACK));
        }
        if (!known) {
          host.addProxy(caller.id, this.#proxyPeer(envelope.realm, from, caller.id));
        }
        return host.run(
          dealer.invoke(from, caller, envelope.msg, envelope.callee, envelope.forced),
        );
      }
      case "cancel":
        return host.run(dealer.cancel(envelope.caller, envelope.msg));
      case "gone":
        if (dealer.proxies.has(envelope.caller)) host.removeProxy(envelope.caller);
        return host.run(dealer.callerGone(envelope.caller));
      case "out":
        return host.run(dealer.answer(envelope.to, envelope.msg));
      case "who": { // the dealer knows the caller and which nodes have its proxy
        const { caller: { id }, msg: { request } } = envelope.call;
        const caller = dealer.identify(id, envelope.from, request);
        if (caller === undefined) return;
        const call = { ...envelope.call, caller };
        return this.#node.send(
          this.#node.subject("node", envelope.from, "rpc"),
          encode(call, PACK),
        );
      }
      case "busy":
        return host.run(dealer.bounced(envelope));
      case "revoke":
        return host.run(
          dealer.revoke(envelope.procedure, envelope.match, envelope.session, envelope.reason),
        );
    }
  }

  /** A call for a busy callee goes back to its caller's node; false when it cannot. */
  #back(call: CallEnvelope): boolean {
    const back: BusyEnvelope = { k: "busy", realm: call.realm, from: this.#node.id, call };
    try {
      this.#node.send(this.#node.subject("node", call.from, "rpc"), encode(back, PACK));
      return true;
    } catch { // over NATS's max_payload: refused here instead
      return false;
    }
  }

  #nodeDown(node: string): void {
    this.#down.add(node);
    if (this.#down.size > DOWN_MEMORY) this.#down.delete(this.#down.values().next().value!);
    for (const dealer of this.#dealers.values()) {
      for (const [id, at] of dealer.proxies) if (at === node) this.#host.removeProxy(id);
      this.#host.run(dealer.nodeDown(node));
    }
    this.#table.releaseNode(node).catch((error) =>
      this.#host.log("warn", `Cluster: removing node ${node}'s registrations: ${error}`)
    );
  }

  /** A node heard from: one this node had taken for down is told so. */
  #heardAgain(node: string): void {
    if (!this.#down.delete(node)) return;
    const down: DownEnvelope = { k: "down", from: this.#node.id };
    this.#node.send(this.#node.subject("node", node, "rpc"), encode(down, PACK));
  }

  /**
   * `node` had taken this node for down and hears it again: the proxies of
   * its callers go, with their calls here (`DealerCluster.forgottenBy`).
   */
  #forgottenBy(node: string): void {
    this.#host.log(
      "warn",
      `Cluster: node ${node} had taken this node for down (no heartbeat within its nodeTimeout: ` +
        `a stall?); the calls between them ended`,
    );
    for (const dealer of this.#dealers.values()) {
      for (const [id, at] of dealer.proxies) if (at === node) this.#host.removeProxy(id);
      this.#host.run(dealer.forgottenBy(node));
    }
  }

  /** A peer whose messages go to a caller on another node. */
  #proxyPeer(realm: string, node: string, to: number): Peer {
    const subject = this.#node.subject("node", node, "rpc");
    const from = this.#node.id;
    return {
      info: { type: "cluster" } as unknown as Peer["info"],
      send: (msg: WampMessage) => {
        const envelope: RpcEnvelope = { k: "out", realm, from, to, msg };
        try {
          this.#node.send(subject, encode(envelope, PACK));
        } catch (error) { // over NATS's max_payload: the caller gets an ERROR instead
          this.#host.log("warn", `Cluster: cannot send an answer to node ${node}: ${error}`);
          if (msg.type === MessageType.RESULT && msg.details.progress === true) {
            // As on one router (`router/oversize.ts`): the call ends as if its caller had sent
            // CANCEL killnowait (ERROR canceled to it, INTERRUPT to the callee), once this
            // delivery is over.
            const cancel: CancelMessage = {
              type: MessageType.CANCEL,
              request: msg.request,
              options: { mode: "killnowait" },
            };
            const dealer = this.#dealers.get(realm);
            if (dealer !== undefined) {
              queueMicrotask(() => this.#host.run(dealer.cancel(to, cancel)));
            }
            return;
          }
          if (msg.type !== MessageType.RESULT && msg.type !== MessageType.ERROR) return;
          const why = `the answer cannot reach the caller's node: ${error}`;
          envelope.msg = errorReply(to, MessageType.CALL, msg.request, UNAVAILABLE, why).msg;
          this.#node.publish(subject, encode(envelope, PACK));
        }
      },
      backlog: () => 0,
      queued: () => 0,
      close: () => {},
    };
  }
}
