/**
 * A client that starts logins a dynamic authenticator must decide and
 * leaves before the answer must not keep the realm's router calls: the
 * call is cancelled (`killnowait`, the authenticator's callee hears
 * INTERRUPT) and its place is free at once. Before, one client with one
 * connection open at a time filled the realm's 1,000 router calls in ~2.5
 * s, and every other dynamic login was refused for as long as the
 * authenticator took.
 */

import { equal, ok } from "node:assert/strict";
import { connect, connectLocal } from "../../mod.ts";
import { MAX_ROUTER_CALLS } from "../../router/core/internal_session.ts";
import { BACKEND, trustedRealm } from "../_helpers/auth.ts";
import { rawFrames } from "../_helpers/raw_rawsocket.ts";
import { startRouter, within } from "../_helpers/router.ts";

Deno.test("logins abandoned while an authenticator decides do not keep its router calls", async () => {
  await using t = await startRouter({
    realms: [
      trustedRealm(),
      {
        name: "realm1",
        auth: {
          ticket: { authenticator: "com.example.authenticate", authenticatorRealm: "auth" },
        },
      },
    ],
    listener: { maxConnections: 2 },
  });
  const backend = await connectLocal(t.router, "auth", BACKEND);
  let interrupted = 0;
  await backend.register("com.example.authenticate", async (args, _kwargs, _details, inv) => {
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, 1000);
      inv.signal.addEventListener("abort", () => {
        interrupted++;
        clearTimeout(timer);
        resolve(undefined);
      });
    });
    return { args: [(args[2] as { ticket: string }).ticket === "good" ? "user" : "nobody"] };
  });
  const encoder = new TextEncoder();
  const url = t.listener.urls.rawsocket!;
  for (let i = 0; i < MAX_ROUTER_CALLS; i++) {
    const peer = await rawFrames(url, 1);
    const hello = [1, "realm1", {
      roles: { caller: {} },
      authmethods: ["ticket"],
      authid: `x${i}`,
    }];
    await peer.send(encoder.encode(JSON.stringify(hello)));
    await within(peer.next(), 3000, "CHALLENGE");
    await peer.send(encoder.encode(JSON.stringify([5, "wrong", {}])));
    peer.close();
  }
  const session = await within(
    connect(t.url, { realm: "realm1", authmethods: ["ticket"], authid: "legit", ticket: "good" }),
    5000,
    "a login while the abandoned ones would still be decided",
  );
  equal(session.details.authrole, "user");
  ok(interrupted > MAX_ROUTER_CALLS / 2, `${interrupted} authenticator calls interrupted`);
  await session.close();
  await backend.close();
});
