/**
 * The router's metrics as Prometheus metric families: counters from
 * `router/metrics.ts`, gauges read now from the realms, the sessions, the
 * listeners, the cluster node and the process. Every label set is
 * bounded (realm, transport, serializer, reason, method, type, outcome,
 * listener); none names a session or a URI.
 *
 * @module
 */

import { MessageType, messageTypeName } from "../wamp/mod.ts";
import { clusterNodeOf, realmOf, type Router } from "../router/router.ts";
import { type LabelCounter, metricsOf } from "../router/metrics.ts";
import type { Listener } from "../transports/listener.ts";
import { authority } from "../transports/address.ts";
import type { MetricFamily, Sample } from "./exposition.ts";

/** What the admin listener reads its metrics from. */
export interface MetricSources {
  /** The router. */
  readonly router: Router;
  /** The listeners serving it. */
  readonly listeners: readonly Listener[];
  /** The event loop's lag now (seconds). */
  lag(): number;
}

/**
 * Collects every metric family.
 *
 * @param sources The router, its listeners and the lag probe.
 * @returns The families, in a fixed order.
 */
export function collect(sources: MetricSources): MetricFamily[] {
  const { router, listeners } = sources;
  const m = metricsOf(router);
  const families: MetricFamily[] = [];
  const gauge = (name: string, help: string, samples: Sample[]) =>
    families.push({ name: `cloverleaf_${name}`, help, type: "gauge", samples });
  const counter = (name: string, help: string, samples: Sample[]) =>
    families.push({ name: `cloverleaf_${name}_total`, help, type: "counter", samples });

  gauge("sessions", "Sessions joined now, by realm, transport and serializer.", sessions(router));
  counter("session_joins", "Sessions joined, by realm.", by(m.joins, "realm"));
  counter("session_leaves", "Sessions left, by close reason.", by(m.leaves, "reason"));
  counter("session_aborts", "ABORT messages sent, by reason.", by(m.aborts, "reason"));
  counter("messages_received", "WAMP messages received, by type.", byType(m.messagesIn));
  counter("messages_sent", "WAMP messages sent, by type.", byType(m.messagesOut));
  const bytesIn: Sample[] = [];
  const bytesOut: Sample[] = [];
  const open: Sample[] = [];
  const accepted: Sample[] = [];
  const refused: Sample[] = [];
  const checks: Sample[] = [];
  for (const listener of listeners) {
    const stats = listener.stats();
    const labels = { listener: listenerName(listener) };
    bytesIn.push({ labels, value: stats.bytesIn });
    bytesOut.push({ labels, value: stats.bytesOut });
    open.push({ labels, value: listener.connections() });
    accepted.push({ labels, value: stats.accepted });
    refused.push({ labels, value: stats.refused });
    checks.push({ labels, value: stats.checks });
  }
  counter("received_bytes", "Bytes read from connections, by listener.", bytesIn);
  counter("sent_bytes", "Bytes written to connections, by listener.", bytesOut);
  counter("publications", "PUBLISH messages received.", [{
    value: m.messagesIn[MessageType.PUBLISH]!,
  }]);
  counter("events_delivered", "EVENT messages sent.", [{
    value: m.messagesOut[MessageType.EVENT]!,
  }]);
  counter("events_dropped", "EVENTs dropped for slow consumers.", [{ value: m.eventsDropped }]);
  counter(
    "calls",
    "Calls answered, by outcome (result, error, timeout, canceled).",
    Object.entries(m.calls).map(([outcome, value]) => ({ labels: { outcome }, value })),
  );
  families.push({
    name: "cloverleaf_call_duration_seconds",
    help: "Seconds from CALL to its final RESULT or ERROR.",
    type: "histogram",
    samples: [m.callDuration],
  });
  // By realm label: past MAX_LABELS realms, the rest add up under `other`, as in the counters.
  const registrations = new Map<string, number>();
  const subscriptions = new Map<string, number>();
  for (const name of router.realmNames) {
    const realm = realmOf(router, name);
    if (realm === undefined) continue;
    const label = m.realms.label(name);
    registrations.set(label, (registrations.get(label) ?? 0) + realm.dealer.registrationCount);
    subscriptions.set(label, (subscriptions.get(label) ?? 0) + realm.broker.subscriptionCount);
  }
  gauge("registrations", "Registrations now, by realm.", byRealm(registrations));
  gauge("subscriptions", "Subscriptions now, by realm.", byRealm(subscriptions));
  counter(
    "auth_successes",
    "Sessions authenticated, by authmethod.",
    by(m.authSuccesses, "method"),
  );
  counter(
    "auth_failures",
    "Sessions refused at authentication, by authmethod.",
    by(m.authFailures, "method"),
  );
  counter(
    "logins_refused",
    "Logins refused at once: their source address had too many failed logins.",
    [{ value: m.loginsRefused }],
  );
  counter(
    "authorization_denials",
    "Requests the router refused as not authorized (wamp.error.not_authorized; not a callee's own).",
    [{ value: m.authorizationDenials }],
  );
  counter(
    "bridge_requests",
    "HTTP bridge requests answered, by path and status.",
    [...m.bridgeRequests.entries()].map(([key, n]) => {
      const [path = "other", status = "other"] = key === "other" ? [] : key.split(" ");
      return { labels: { path, status }, value: n };
    }),
  );
  let backlog = 0;
  let max = 0;
  for (const session of m.sessions) {
    const bytes = session.peer.backlog();
    backlog += bytes;
    if (bytes > max) max = bytes;
  }
  gauge("outbound_backlog_bytes", "Bytes queued to all sessions.", [{ value: backlog }]);
  gauge("outbound_backlog_max_bytes", "Bytes queued to the most backlogged session.", [{
    value: max,
  }]);
  gauge("event_loop_lag_seconds", "How late a timer fired, at most, in the last second.", [{
    value: sources.lag(),
  }]);
  const memory = Deno.memoryUsage();
  gauge("process_resident_memory_bytes", "Resident set size.", [{ value: memory.rss }]);
  gauge("process_heap_used_bytes", "V8 heap used.", [{ value: memory.heapUsed }]);
  gauge("process_heap_total_bytes", "V8 heap allocated.", [{ value: memory.heapTotal }]);
  gauge("listener_connections", "Connections open now, by listener.", open);
  counter("listener_accepted", "Connections accepted, by listener.", accepted);
  counter("listener_refused", "Connections refused (maxConnections), by listener.", refused);
  counter(
    "listener_checks",
    "Connections that opened as accept checks (a NUL byte) and were closed at once, by listener.",
    checks,
  );
  const node = clusterNodeOf(router);
  if (node !== undefined) {
    gauge("cluster_nodes", "Cluster nodes heard from, this one included.", [{
      value: node.nodes().length,
    }]);
    gauge("cluster_connected", "1 while NATS is reachable.", [{ value: node.connected ? 1 : 0 }]);
    gauge("cluster_inbound_waiting", "NATS messages and node events waiting for a turn.", [{
      value: node.waiting,
    }]);
    counter(
      "cluster_dropped_publications",
      "Publications from other nodes dropped: this node could not keep up.",
      [{ value: node.dropped }],
    );
  }
  return families;
}

/** A listener's label: its address. */
export function listenerName(listener: Listener): string {
  const addr = listener.addr;
  if (addr.transport === "unix") return addr.path;
  return authority(addr.hostname, addr.port);
}

function sessions(router: Router): Sample[] {
  const counts = new Map<
    string,
    { realm: string; transport: string; serializer: string; n: number }
  >();
  const metrics = metricsOf(router);
  for (const session of metrics.sessions) {
    const realm = metrics.realms.label(session.info.realm);
    const transport = session.peer.info.type;
    const serializer = session.peer.info.serializer ?? "none";
    const key = `${realm}\n${transport}\n${serializer}`;
    const entry = counts.get(key);
    if (entry === undefined) counts.set(key, { realm, transport, serializer, n: 1 });
    else entry.n++;
  }
  return [...counts.values()].map(({ realm, transport, serializer, n }) => ({
    labels: { realm, transport, serializer },
    value: n,
  }));
}

function byRealm(counts: Map<string, number>): Sample[] {
  return [...counts].map(([realm, value]) => ({ labels: { realm }, value }));
}

function by(counter: LabelCounter, label: string): Sample[] {
  return [...counter.entries()].map(([value, n]) => ({ labels: { [label]: value }, value: n }));
}

function byType(counts: Float64Array): Sample[] {
  const samples: Sample[] = [];
  for (let code = 0; code < counts.length; code++) {
    const n = counts[code]!;
    if (n > 0) samples.push({ labels: { type: messageTypeName(code) }, value: n });
  }
  return samples;
}
