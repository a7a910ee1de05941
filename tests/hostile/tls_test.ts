/**
 * TLS under hostility: a client that opens TCP and never finishes the TLS
 * handshake is closed after the listener's handshakeTimeout, and healthy
 * TLS sessions go on meanwhile; the tracking cookie is `Secure` over TLS.
 */

import { equal, match, ok } from "node:assert/strict";
import net from "node:net";
import tls from "node:tls";
import { connect } from "../../mod.ts";
import { startRouter, within } from "../_helpers/router.ts";

Deno.test("a TLS handshake that never completes is closed after handshakeTimeout", async () => {
  await using t = await startRouter({ tls: true, listener: { handshakeTimeout: 300 } });
  const { hostname, port } = new URL(t.listener.urls.rawsocket!);
  const sockets: net.Socket[] = [];
  const closed: Promise<void>[] = [];
  for (const first of [undefined, Uint8Array.of(0x16, 0x03, 0x01, 0x02)]) {
    const socket = net.connect({ host: hostname, port: Number(port) });
    socket.on("error", () => {});
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    if (first !== undefined) socket.write(first); // half a ClientHello record
    sockets.push(socket);
    closed.push(new Promise<void>((resolve) => socket.once("close", () => resolve())));
  }
  // Meanwhile a real client joins over TLS.
  const session = await connect(t.listener.urls.rawsocket!, {
    realm: "realm1",
    tls: { caCerts: [t.ca!] },
  });
  equal((await session.call("wamp.session.count")).args[0], 1);
  await within(Promise.all(closed), 3000, "closing the stalled TLS handshakes");
  ok(sockets.every((s) => s.destroyed));
  ok(t.logs.some((l) => l.includes("no TLS handshake within 300 ms")), t.logs.join("\n"));
  // The secure connection, older than the timeout, is not touched.
  await new Promise((resolve) => setTimeout(resolve, 400));
  equal((await session.call("wamp.session.count")).args[0], 1);
  await session.close();
});

Deno.test("the tracking cookie is Secure on a TLS listener", async () => {
  await using t = await startRouter({ tls: true, listener: { websocket: { cookie: {} } } });
  const { hostname, port } = new URL(t.listener.urls.websocket!);
  const socket = tls.connect({
    host: hostname,
    port: Number(port),
    ca: t.ca!,
    servername: "localhost",
  });
  socket.on("error", () => {});
  let head = "";
  const done = new Promise<void>((resolve) =>
    socket.on("data", (chunk: Uint8Array) => {
      head += new TextDecoder().decode(chunk);
      if (head.includes("\r\n\r\n")) resolve();
    })
  );
  socket.write(
    "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
      "Sec-WebSocket-Protocol: wamp.2.json\r\n\r\n",
  );
  await within(done, 3000, "the upgrade response");
  socket.destroy();
  match(head, /^HTTP\/1\.1 101 /);
  match(
    head,
    /^set-cookie: cbtid=[\w-]+; Max-Age=86400; Path=\/; HttpOnly; SameSite=Lax; Secure\r$/im,
  );
});
