/**
 * A cluster node as its own process, for the SIGKILL tests:
 * `deno run -A tests/cluster/_node.ts <nats-url> <cluster-name> <heartbeat> <nodeTimeout>`
 * prints its WebSocket URL on one line once it has joined, then serves
 * until killed.
 */

import { listen, Router } from "../../mod.ts";

const [url, name, heartbeat, nodeTimeout] = Deno.args;
const router = new Router({
  realms: [{ name: "realm1" }],
  logger: () => {},
  cluster: {
    servers: [url!],
    name: name!,
    heartbeat: Number(heartbeat),
    nodeTimeout: Number(nodeTimeout),
  },
});
await router.ready;
const listener = await listen(router, { port: 0, hostname: "127.0.0.1", log: () => {} });
console.log(listener.urls.websocket);
