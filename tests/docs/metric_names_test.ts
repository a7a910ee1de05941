/** The metric names the README and docs/operating.md list are the ones /metrics exposes. */

import { deepEqual } from "node:assert/strict";
import { listen, Router } from "../../mod.ts";
import { serveAdmin } from "../../router/mod.ts";

const ROOT = new URL("../../", import.meta.url);
/** Only a cluster node exposes these. */
const CLUSTER_ONLY = [
  "cloverleaf_cluster_connected",
  "cloverleaf_cluster_dropped_publications_total",
  "cloverleaf_cluster_inbound_waiting",
  "cloverleaf_cluster_nodes",
];

/** The README lists `cloverleaf_sessions`, then the others as `_name` (prefix left out). */
function readmeNames(text: string): string[] {
  const start = text.indexOf("`cloverleaf_sessions`");
  const end = text.indexOf("(each with its type", start);
  const names = [...text.slice(start, end).matchAll(/`(cloverleaf)?(_[a-z_]+)`/g)]
    .map((m) => `cloverleaf${m[2]}`);
  return names.sort();
}

Deno.test("docs: the README and docs/operating.md list every metric /metrics exposes, and no other", async () => {
  const router = new Router({ realms: [{ name: "realm1" }], logger: () => {} });
  const listener = await listen(router, { hostname: "127.0.0.1", port: 0 });
  const admin = await serveAdmin(router, { port: 0, listeners: [listener] });
  try {
    const text = await (await fetch(`${admin.url}/metrics`)).text();
    const exposed = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!);
    const expected = [...new Set([...exposed, ...CLUSTER_ONLY])].sort();
    const readme = await Deno.readTextFile(new URL("README.md", ROOT));
    deepEqual(readmeNames(readme), expected);
    const operating = await Deno.readTextFile(new URL("docs/operating.md", ROOT));
    const listed = [
      ...new Set([...operating.matchAll(/`(cloverleaf_[a-z_]+)`/g)].map((m) => m[1]!)),
    ];
    deepEqual(listed.sort(), expected);
  } finally {
    await admin.close();
    await router.close();
    await listener.close();
  }
});
