/**
 * HTTP mounts on a listener (the HTTP bridge's seam): `admit` is optional,
 * an admission is handed to `handle` or abandoned exactly once, and the
 * WebSocket upgrade is routed on the same normalized path as `admit`.
 */

import { equal, match } from "node:assert/strict";
import { listen, type Listener, type ListenOptions, Router } from "../../mod.ts";
import type { HttpAdmission, HttpMount } from "../../transports/mod.ts";
import { until } from "../_helpers/router.ts";
import { exchange } from "../bridge/_bridge.ts";

interface Started extends AsyncDisposable {
  listener: Listener;
  port: number;
}

async function start(mount: HttpMount, options: ListenOptions = {}): Promise<Started> {
  const router = new Router({ realms: [{ name: "realm1" }], logger: () => {} });
  const listener = await listen(router, { ...options, port: 0, mounts: [mount] });
  return {
    listener,
    port: (listener.addr as { port: number }).port,
    async [Symbol.asyncDispose]() {
      await router.close();
      await listener.close();
    },
  };
}

/** Answers every request to `/m...` with its method and body length. */
const echo = {
  handles: (path: string) => path.startsWith("/m"),
  async handle(request: Request): Promise<Response> {
    const body = await request.arrayBuffer();
    return new Response(`${request.method} ${body.byteLength}\n`);
  },
};

const HANDSHAKE = "Host: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
  "Sec-WebSocket-Protocol: wamp.2.json\r\n\r\n";

Deno.test("a mount without admit() is served with the listener's default body limit", async () => {
  const mount: HttpMount = echo; // compiles: admit is optional
  await using t = await start(mount, { longpoll: { maxMessageSize: 2048 } });
  const small = await exchange(
    t.port,
    `POST /m HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n${"x".repeat(1000)}`,
  );
  match(small, /^HTTP\/1\.1 200 /);
  match(small, /POST 1000/);
  const large = await exchange(
    t.port,
    "POST /m HTTP/1.1\r\nhost: x\r\ncontent-length: 4096\r\n\r\n",
  );
  match(large, /^HTTP\/1\.1 413 /);
});

Deno.test("an admission reaches handle() once answered, or is abandoned once: body too large, timeout, connection gone", async () => {
  let abandoned = 0;
  let handed = 0;
  const mount: HttpMount = {
    ...echo,
    admit: (): HttpAdmission => ({ maxBodySize: 100, abandon: () => abandoned++ }),
    handle(request, _peer, admission) {
      if (admission?.maxBodySize === 100) handed++;
      return echo.handle(request);
    },
  };
  await using t = await start(mount, { http: { bodyTimeout: 200 } });
  match(
    await exchange(t.port, "POST /m HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\nab"),
    /POST 2/,
  );
  equal(handed, 1);
  equal(abandoned, 0);
  const tooLarge = await exchange(
    t.port,
    "POST /m HTTP/1.1\r\nhost: x\r\ncontent-length: 101\r\n\r\n",
  );
  match(tooLarge, /^HTTP\/1\.1 413 /);
  equal(abandoned, 1);
  match(
    await exchange(t.port, "POST /m HTTP/1.1\r\nhost: x\r\ncontent-length: 50\r\n\r\nab"),
    /^HTTP\/1\.1 408 /,
  );
  equal(abandoned, 2);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: t.port });
  await conn.write(
    new TextEncoder().encode("POST /m HTTP/1.1\r\nhost: x\r\ncontent-length: 50\r\n\r\n"),
  );
  await until(() => t.listener.connections() === 1, 2000, "the connection");
  conn.close();
  await until(() => abandoned === 3, 2000, "abandoned when the connection closed");
  equal(handed, 1);
});

Deno.test("the WebSocket upgrade is routed on the normalized path, after mounts, as admit() routes", async () => {
  await using t = await start(echo);
  // `/x/../ws` is `/ws` to admit(): the upgrade takes it too (it was 404).
  match(await exchange(t.port, `GET /x/../ws HTTP/1.1\r\n${HANDSHAKE}`), /^HTTP\/1\.1 101 /);
  // A mount's path is the mount's, upgrade header or not.
  await using m = await start(echo, { websocket: { paths: ["/ws", "/m"] } });
  const mounted = await exchange(m.port, `GET /m HTTP/1.1\r\n${HANDSHAKE}`);
  match(mounted, /^HTTP\/1\.1 200 /);
  match(mounted, /GET 0/);
});
