/**
 * Router calls in a cluster: a dynamic authenticator or authorizer
 * procedure registered on another node answers (its answer came back over
 * NATS addressed to the realm's internal session and was dropped: a login
 * waited for `authTimeout`, a request for the router call's 10 s timeout).
 * With failed logins per address (`RouterOptions.failedLogins`,
 * `perSource` 1), a login denied because the answer could not cross NATS
 * (`cloverleaf.error.cluster_unavailable`, the router's own error) is not
 * counted, nor one whose router call ended because the callee's node came
 * back on NATS (ERROR `canceled`; it was delivered to no one, and the login
 * held its place for good).
 */

import { deepEqual, equal } from "node:assert/strict";
import { connect, connectLocal, type RouterOptions } from "../../mod.ts";
import { clusterNodeOf, realmOf } from "../../router/router.ts";
import { MessageType } from "../../wamp/mod.ts";
import { BACKEND, PROCEDURE_AUTHORIZER_REALMS, rawWamp, trustedRealm } from "../_helpers/auth.ts";
import { startNats } from "../_helpers/nats.ts";
import { startRouter, type TestRouter, until } from "../_helpers/router.ts";
import { TIMING } from "./_cluster.ts";

/** Two nodes of one cluster over a nats-server of their own, each with `options`. */
async function twoNodes(
  options: RouterOptions,
  body: (a: TestRouter, b: TestRouter) => Promise<void>,
): Promise<void> {
  const nats = await startNats();
  const nodes: TestRouter[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const cluster = { servers: [nats.url], name: "calls", ...TIMING };
      nodes.push(await startRouter({ ...options, sessionLogRate: 0, cluster }));
      await nodes[i]!.router.ready;
    }
    await body(nodes[0]!, nodes[1]!);
  } finally {
    for (const node of nodes) await node[Symbol.asyncDispose]();
    await nats.stop();
  }
}

/** Waits until `node` sees `procedure`, registered in realm `auth` on the other node. */
function seenInAuth(node: TestRouter, procedure: string): Promise<void> {
  const dealer = realmOf(node.router, "auth")!.dealer;
  return until(() => dealer.lookup(procedure, "exact")?.callees.length === 1, 5000, procedure);
}

/** A ticket login to realm1 of `node`: "WELCOME", "refused: <ABORT>" or the ABORT after AUTHENTICATE. */
async function ticketLogin(node: TestRouter): Promise<string> {
  await using raw = await rawWamp(node.url);
  const hello = { roles: { caller: {} }, authmethods: ["ticket"], authid: "alice" };
  await raw.send([MessageType.HELLO, "realm1", hello]);
  const first = await raw.next("CHALLENGE or ABORT");
  if (first?.[0] !== MessageType.CHALLENGE) return `refused: ${JSON.stringify(first)}`;
  await raw.send([MessageType.AUTHENTICATE, "right", {}]);
  const end = await raw.next("WELCOME or ABORT");
  return end?.[0] === MessageType.WELCOME ? "WELCOME" : JSON.stringify(end);
}

/** The ABORT of a login whose ticket was not accepted. */
const FAILED = JSON.stringify([
  MessageType.ABORT,
  { message: "authentication failed" },
  "wamp.error.authentication_failed",
]);

Deno.test("a dynamic authenticator on another node answers logins; its answer over NATS's max_payload (cluster_unavailable) is not counted as a failed login", async () => {
  const realms = [trustedRealm(), {
    name: "realm1",
    auth: { ticket: { authenticator: "com.example.authenticate", authenticatorRealm: "auth" } },
  }];
  await twoNodes({ failedLogins: { perSource: 1, window: 60_000 }, realms }, async (a, b) => {
    const backend = await connectLocal(b.router, "auth", BACKEND);
    let big = false;
    await backend.register("com.example.authenticate", () => ({
      args: ["user", big ? "x".repeat(1_200_000) : ""], // over NATS's 1 MB, then not
    }));
    await seenInAuth(a, "com.example.authenticate");
    const login = () => ticketLogin(a);
    equal(await login(), "WELCOME");
    big = true;
    equal(await login(), FAILED);
    big = false;
    equal(await login(), "WELCOME", "not refused: the answer that could not come was not counted");
    await backend.close();
  });
});

Deno.test("a router call forwarded to a node that says it is back on NATS ends (canceled): the login's failedLogins place is freed, nothing counted", async () => {
  const realms = [trustedRealm(), {
    name: "realm1",
    auth: { ticket: { authenticator: "com.example.authenticate", authenticatorRealm: "auth" } },
  }];
  const options = { failedLogins: { perSource: 2, window: 60_000 }, authTimeout: 500, realms };
  await twoNodes(options, async (a, b) => {
    const backend = await connectLocal(b.router, "auth", BACKEND);
    let hang = false, asked = 0, interrupted = 0;
    await backend.register("com.example.authenticate", async (_args, _kwargs, _details, inv) => {
      asked++;
      const aborted = new Promise((resolve) => inv.signal.addEventListener("abort", resolve));
      aborted.then(() => interrupted++);
      if (hang) await aborted; // answers only when interrupted
      return { args: ["user"] };
    });
    await seenInAuth(a, "com.example.authenticate");
    equal(await ticketLogin(a), "WELCOME");
    hang = true;
    const held = [ticketLogin(a), ticketLogin(a)]; // both of the address's places
    await until(() => asked === 3, 5000, "both asked");
    const nodeB = clusterNodeOf(b.router)!;
    nodeB.send(nodeB.subject("nodes", "back", nodeB.id), new Uint8Array()); // what B says after a reconnect
    deepEqual(await Promise.all(held), [FAILED, FAILED]);
    await until(() => interrupted === 2, 5000, "both interrupted (A ended the calls)");
    hang = false;
    equal(await ticketLogin(a), "WELCOME", "the places are free and the cancels were not counted");
    await backend.close();
  });
});

Deno.test("a procedure authorizer on another node decides on requests", async () => {
  await twoNodes({ realms: PROCEDURE_AUTHORIZER_REALMS }, async (a, b) => {
    const backend = await connectLocal(b.router, "auth", BACKEND);
    await backend.register("com.example.authorize", () => ({ args: [true] }));
    await seenInAuth(a, "com.example.authorize");
    const guest = await connect(a.url, { realm: "realm1" });
    const subscription = await guest.subscribe("com.example.topic", () => {});
    equal(typeof subscription.id, "number");
    await guest.close();
    await backend.close();
  });
});
