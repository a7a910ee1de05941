/**
 * The `Deno.serve` WebSocket adapter (`transports/websocket/deno_serve.ts`)
 * keeps the `Peer` contract as the listener's links do: `send` never
 * throws; a message that cannot be encoded drops an EVENT for its
 * recipient or closes the connection, with a log line. It names its peers
 * as the listener does.
 *
 * @module
 */

import { equal, match, ok, rejects } from "node:assert/strict";
import { Router } from "../../../router/mod.ts";
import { Session } from "../../../client/session.ts";
import { connect } from "../../../client/connect.ts";
import { linkedPeers } from "../../../transports/local.ts";
import { serveWebSocket } from "../../../transports/websocket/deno_serve.ts";
import { within } from "../../_helpers/router.ts";
import { type PeerAcceptor, sourceOf } from "../../../wamp/mod.ts";

/** An args list that refers to itself: no serializer can encode it. */
function cyclic(): unknown[] {
  const args: unknown[] = ["loop"];
  args.push(args);
  return args;
}

for (const serializer of ["json", "msgpack", "cbor"] as const) {
  Deno.test(`[deno_serve:${serializer}] a RESULT that cannot be encoded closes the connection: the caller does not hang`, async () => {
    const logs: string[] = [];
    const router = new Router({ realms: [{ name: "realm1" }] });
    const listener = serveWebSocket(router, {
      port: 0,
      log: (level, message) => logs.push(`${level} ${message}`),
    });
    try {
      // An unchecked local link lets the cycle in, standing for whatever
      // else could make an encoder fail.
      const [routerEnd, clientEnd] = linkedPeers();
      routerEnd.bind(router.attach(routerEnd));
      const callee = await Session.join(clientEnd, { realm: "realm1" });
      await callee.register("com.example.cyclic", () => ({ args: cyclic() }));
      const caller = await connect(listener.url, { realm: "realm1", serializers: [serializer] });
      await rejects(within(caller.call("com.example.cyclic"), 5000, "the call"));
      await within(caller.closed, 5000, "the caller's session closing");
      ok(logs.some((l) => /cannot encode RESULT/.test(l)), logs.join("\n"));
      await callee.close();
    } finally {
      await router.close();
      await listener.close();
    }
  });
}

/** Whether this machine can listen on the IPv6 loopback address. */
function hasIpv6(): boolean {
  try {
    Deno.listen({ hostname: "::1", port: 0 }).close();
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  name:
    "[deno_serve] peers are named as the listener names them: tcp4:, tcp6:[...] (an IPv6 client is counted by its /64)",
  ignore: !hasIpv6(),
  fn: async () => {
    const router = new Router({ realms: [{ name: "realm1" }], logger: () => {} });
    const peers: string[] = [];
    const acceptor: PeerAcceptor = {
      attach(peer, options) {
        peers.push(peer.info.peer ?? "none");
        return router.attach(peer, options);
      },
    };
    try {
      for (const hostname of ["127.0.0.1", "::1"]) {
        const listener = serveWebSocket(acceptor, { hostname, port: 0 });
        const session = await connect(listener.url, { realm: "realm1" });
        await session.close();
        await listener.close();
      }
    } finally {
      await router.close();
    }
    equal(peers.length, 2);
    match(peers[0]!, /^tcp4:127\.0\.0\.1:\d+$/);
    match(peers[1]!, /^tcp6:\[::1\]:\d+$/); // was tcp:::1:<port>, whose source kept the whole address
    equal(sourceOf(peers[1]!), "tcp6:[0:0:0:0::/64]");
  },
});
