/**
 * Trusted procedures in a cluster: a REGISTER is added only when its claim
 * of the shared registration table comes back, so a realm added meanwhile
 * (`Router.addRealm`) can trust a procedure it captures after it was
 * authorized. The claim is held here by wrapping the table's, not raced.
 */

import { equal, rejects } from "node:assert/strict";
import { connect } from "../../mod.ts";
import { clusterOf, realmOf } from "../../router/router.ts";
import { metricsOf } from "../../router/metrics.ts";
import { ErrorUri } from "../../wamp/mod.ts";
import { until, within } from "../_helpers/router.ts";
import { isUri, joinNode, startCluster, tableHas } from "./_cluster.ts";

Deno.test("a REGISTER whose claim is out when a realm added meanwhile trusts a procedure it captures is refused, its claim released", async () => {
  await using c = await startCluster(1, "trusted");
  const node = c.nodes[0]!;
  const table = clusterOf(node.router)!.registrations!;
  const claim = table.claim.bind(table);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  let out = 0;
  table.claim = async (...args) => { // held until the realm is added
    out++;
    await gate;
    return claim(...args);
  };
  const attacker = await joinNode(node);
  equal(attacker.details.authrole, "anonymous");
  let invoked = 0;
  const answer = () => {
    invoked++;
    return { args: [{ role: "trusted", secret: "x" }] };
  };
  const capturing = attacker.register("com.", answer, { match: "prefix" });
  const control = attacker.register("org.", answer, { match: "prefix" }); // captures nothing
  await until(() => out === 2, 5000, "both claims out");
  node.router.addRealm({
    name: "realm2",
    auth: { ticket: { authenticator: "com.auth.authenticate", authenticatorRealm: "realm1" } },
  });
  const denials = metricsOf(node.router).authorizationDenials;
  release();
  await rejects(capturing, isUri(ErrorUri.NOT_AUTHORIZED));
  await control;
  // The dealer's refusal is the router's own: counted as a denial, as the authorize-time one is.
  equal(metricsOf(node.router).authorizationDenials, denials + 1);
  const dealer = realmOf(node.router, "realm1")!.dealer;
  equal(dealer.lookup("com.", "prefix"), undefined, "the attacker holds com.");
  equal(dealer.lookup("org.", "prefix")?.callees.length, 1);
  await tableHas(c.nats, "trusted", 2); // org.'s head and callee: com.'s claim was released
  // No login to realm2 through the attacker's registration.
  const url = node.listener.urls.websocket!;
  await rejects(within(connect(url, { realm: "realm2", authid: "mallory", ticket: "anything" })));
  equal(invoked, 0);
  await attacker.close();
});
