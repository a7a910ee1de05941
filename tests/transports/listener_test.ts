/**
 * The listener itself: one port for every protocol, its limits and
 * timeouts, Unix sockets (stale files), and refusals that touch no other
 * connection.
 */

import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import net from "node:net";
import { connect, listen, Router } from "../../mod.ts";
import { startRouter, until, within } from "../_helpers/router.ts";
import { testPki } from "../_helpers/tls.ts";

/** A raw TCP connection that collects what it receives. */
async function rawTcp(url: string): Promise<{
  socket: net.Socket;
  received(): Uint8Array;
  closed: Promise<void>;
}> {
  const u = new URL(url);
  const socket = net.connect({ host: u.hostname, port: Number(u.port) });
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  const chunks: Uint8Array[] = [];
  socket.on("data", (c: Uint8Array) => chunks.push(c));
  socket.on("error", () => {});
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  return {
    socket,
    received: () => new Uint8Array(chunks.flatMap((c) => [...c])),
    closed,
  };
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

Deno.test("one port serves WebSocket, RawSocket and long-poll at once", async () => {
  await using t = await startRouter();
  const { websocket, rawsocket, longpoll } = t.listener.urls;
  const port = t.listener.addr.transport === "tcp" ? t.listener.addr.port : 0;
  deepEqual([websocket, rawsocket, longpoll], [
    `ws://127.0.0.1:${port}/ws`,
    `tcp://127.0.0.1:${port}`,
    `http://127.0.0.1:${port}/lp`,
  ]);
  const sessions = await Promise.all(
    [websocket!, rawsocket!, longpoll!].map((url) => connect(url, { realm: "realm1" })),
  );
  const got: string[] = [];
  await sessions[0]!.subscribe("com.example.port", (e) => {
    got.push(String(e.args[0]));
  });
  await sessions[1]!.publish("com.example.port", { args: ["rawsocket"] }, { acknowledge: true });
  await sessions[2]!.publish("com.example.port", { args: ["longpoll"] }, { acknowledge: true });
  await until(() => got.length === 2);
  deepEqual(got.sort(), ["longpoll", "rawsocket"]);
  for (const s of sessions) await s.close();
});

Deno.test("plain HTTP gets 404 off the known paths and 426 on a WebSocket path", async () => {
  await using t = await startRouter();
  const base = t.listener.urls.longpoll!.replace("/lp", "");
  const missing = await fetch(`${base}/nothing`);
  equal(missing.status, 404);
  await missing.body?.cancel();
  const ws = await fetch(`${base}/ws`);
  equal(ws.status, 426);
  await ws.body?.cancel();
});

Deno.test("a listener with only RawSocket closes an HTTP connection, and the reverse", async () => {
  const router = new Router({ realms: [{ name: "realm1" }], logger: () => {} });
  const rs = await listen(router, { port: 0, websocket: false, longpoll: false });
  const ws = await listen(router, { port: 0, rawsocket: false, longpoll: false });
  try {
    deepEqual(Object.keys(rs.urls), ["rawsocket"]);
    deepEqual(Object.keys(ws.urls), ["websocket"]);
    const http = await rawTcp(rs.url.replace("tcp:", "http:"));
    http.socket.write("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n");
    await within(http.closed);
    const raw = await rawTcp(`tcp://${ws.url.slice("ws://".length).replace("/ws", "")}`);
    raw.socket.write(Uint8Array.of(0x7f, 0xf1, 0, 0));
    await within(raw.closed);
    equal(raw.received().length, 0);
    // The listeners still serve their own protocols.
    (await connect(rs.url, { realm: "realm1" })).close();
    (await connect(ws.url, { realm: "realm1" })).close();
  } finally {
    await router.close();
    await rs.close();
    await ws.close();
  }
});

Deno.test("maxConnections: RawSocket gets handshake error 4, HTTP gets 503; others go on", async () => {
  await using t = await startRouter({ listener: { maxConnections: 1 } });
  const first = await connect(t.listener.urls.rawsocket!, { realm: "realm1" });
  const raw = await rawTcp(t.listener.urls.rawsocket!);
  raw.socket.write(Uint8Array.of(0x7f, 0xf1, 0, 0));
  await within(raw.closed);
  deepEqual([...raw.received()], [0x7f, 0x40, 0, 0]);
  const http = await rawTcp(t.listener.urls.rawsocket!);
  http.socket.write("POST /lp/open HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
  await within(http.closed);
  match(text(http.received()), /^HTTP\/1\.1 503 /);
  ok(t.logs.some((l) => l.includes("connections open")));
  // The first session is untouched.
  equal((await first.call("wamp.session.count")).args[0], 1);
  await first.close();
  // Once it is gone, a new connection is welcome.
  await until(() => t.listener.connections() === 0);
  (await connect(t.listener.urls.websocket!, { realm: "realm1" })).close();
});

Deno.test("a refused connection is told once: at its first byte, or when it ends or times out silent", async () => {
  await using t = await startRouter({ listener: { maxConnections: 1, handshakeTimeout: 50 } });
  const first = await connect(t.listener.urls.rawsocket!, { realm: "realm1" });
  const refusals = () => t.logs.filter((l) => l.includes("connections open")).length;
  const silent = await rawTcp(t.listener.urls.rawsocket!);
  await within(silent.closed); // the handshake timeout
  equal(refusals(), 1);
  const gone = await rawTcp(t.listener.urls.rawsocket!);
  gone.socket.destroy();
  await until(() => refusals() === 2, 2000, "the refusal of a connection that left silent");
  const talking = await rawTcp(t.listener.urls.rawsocket!);
  talking.socket.write(Uint8Array.of(0x7f, 0xf1, 0, 0));
  await within(talking.closed);
  await new Promise((resolve) => setTimeout(resolve, 100));
  equal(refusals(), 3);
  await first.close();
});

Deno.test("handshakeTimeout closes a connection that sends nothing; helloTimeout one that never joins", async () => {
  await using t = await startRouter({
    listener: { handshakeTimeout: 50, attach: { helloTimeout: 100 } },
  });
  const silent = await rawTcp(t.listener.urls.rawsocket!);
  await within(silent.closed, 2000, "silent connection closed");
  // A RawSocket handshake but no HELLO.
  const idle = await rawTcp(t.listener.urls.rawsocket!);
  idle.socket.write(Uint8Array.of(0x7f, 0xf1, 0, 0));
  await within(idle.closed, 2000, "idle connection closed");
  deepEqual([...idle.received()], [0x7f, 0xf1, 0, 0]);
  ok(t.logs.some((l) => l.includes("nothing sent within 50 ms")), t.logs.join("\n"));
  ok(t.logs.some((l) => l.includes("no session within 100 ms")), t.logs.join("\n"));
  // A client that joins in time is not affected.
  const s = await connect(t.listener.urls.rawsocket!, { realm: "realm1" });
  await new Promise((r) => setTimeout(r, 200));
  equal((await s.call("wamp.session.count")).args[0], 1);
  await s.close();
});

Deno.test("a malformed HTTP request head gets 400 and the listener goes on", async () => {
  await using t = await startRouter();
  const bad = await rawTcp(t.listener.urls.rawsocket!);
  bad.socket.write("NOT HTTP\r\n\r\n");
  await within(bad.closed);
  match(text(bad.received()), /^HTTP\/1\.1 400 /);
  // A target that is not a path (`*`) is refused; absolute-form is served by its path (RFC 9112).
  for (const target of ["*", "lp", "http:/x"]) {
    const other = await rawTcp(t.listener.urls.rawsocket!);
    other.socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await within(other.closed);
    match(text(other.received()), /^HTTP\/1\.1 400 /, target);
  }
  for (const target of ["http://evil.example/lp", "HTTP://h:1/lp?x=1", "http://h"]) {
    const absolute = await rawTcp(t.listener.urls.rawsocket!);
    absolute.socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    await within(absolute.closed);
    const answer = text(absolute.received());
    match(answer, target === "http://h" ? /^HTTP\/1\.1 426 / : /^HTTP\/1\.1 200 /, target); // as "/"
  }
  const huge = await rawTcp(t.listener.urls.rawsocket!);
  huge.socket.write(`GET / HTTP/1.1\r\nX: ${"a".repeat(20_000)}\r\n\r\n`);
  await within(huge.closed);
  match(text(huge.received()), /^HTTP\/1\.1 431 /);
  // Header lines: 100 are served, 101 are refused before any Request is built (Deno builds one
  // from a Headers in quadratic time: 2,500 empty headers took 0.5 s).
  const lines = (n: number) => Array.from({ length: n }, (_, i) => `h${i}:\r\n`).join("");
  const hundred = await rawTcp(t.listener.urls.rawsocket!);
  hundred.socket.write(`GET /lp/nowhere HTTP/1.1\r\n${lines(100)}\r\n`);
  await until(() => text(hundred.received()).includes("\r\n\r\n"), 2000, "an answer");
  match(text(hundred.received()), /^HTTP\/1\.1 405 /); // parsed, and answered by long-poll
  hundred.socket.destroy();
  const many = await rawTcp(t.listener.urls.rawsocket!);
  many.socket.write(`GET /lp/nowhere HTTP/1.1\r\n${lines(101)}\r\n`);
  await within(many.closed);
  match(text(many.received()), /^HTTP\/1\.1 431 Request Header Fields Too Large/);
  (await connect(t.listener.urls.websocket!, { realm: "realm1" })).close();
});

Deno.test("a Unix socket listener replaces a stale socket file and refuses a live one", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/wamp.sock`;
  // A stale file, as a crashed run leaves it: bound, then the process "died".
  const stale = net.createServer();
  await new Promise<void>((resolve) => stale.listen(path, () => resolve()));
  // Closing would unlink it; copy what a crash leaves instead: a socket file nobody listens on.
  const router = new Router({ realms: [{ name: "realm1" }], logger: () => {} });
  await rejects(listen(router, { path }), /another process is listening/);
  await new Promise<void>((resolve) => stale.close(() => resolve()));
  await Deno.writeTextFile(`${dir}/not-a-socket`, "x");
  await rejects(listen(router, { path: `${dir}/not-a-socket` }), /is not a socket/);
  // Make a socket file with no listener: bind with a child process and kill it.
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `const l = Deno.listen({ transport: "unix", path: ${
        JSON.stringify(path)
      } }); console.log("up"); for await (const _ of l) {}`,
    ],
    stdout: "piped",
  }).spawn();
  const reader = child.stdout.getReader();
  await reader.read();
  child.kill("SIGKILL");
  await child.status;
  reader.releaseLock();
  ok((await Deno.lstat(path)).isSocket, "the killed process left its socket file");
  const listener = await listen(router, { path });
  try {
    equal(listener.urls.rawsocket, `unix://${path}`);
    const s = await connect(listener.urls.rawsocket!, { realm: "realm1", serializers: ["cbor"] });
    equal(s.realm, "realm1");
    await s.close();
  } finally {
    await router.close();
    await listener.close();
  }
});

Deno.test("a TLS listener verifies client certificates: authmethod tls over wss, tcps; refused without one under require", async () => {
  const pki = await testPki();
  await using t = await startRouter({
    tls: true,
    realms: [{
      name: "realm1",
      auth: { tls: { principals: { alice: { role: "user", subject: { CN: "alice" } } } } },
    }],
  });
  const tls = { caCerts: [pki.ca], cert: pki.clientCert, key: pki.clientKey };
  for (const url of [t.listener.urls.websocket!, t.listener.urls.rawsocket!]) {
    const s = await connect(url, { realm: "realm1", authmethods: ["tls"], tls });
    equal(s.details.authid, "alice");
    equal(s.details.authmethod, "tls");
    await s.close();
  }
  // Without a certificate the method is not offered.
  await rejects(
    connect(t.listener.urls.rawsocket!, {
      realm: "realm1",
      authmethods: ["tls"],
      tls: { caCerts: [pki.ca] },
    }),
    /no_auth_method/,
  );
  // `require`: no certificate, no connection.
  const router = new Router({ realms: [{ name: "realm1" }], logger: () => {} });
  // Without `ca` client certificates would be checked against the public roots: refused.
  for (const clientCertificates of ["request", "require"] as const) {
    for (const ca of [{}, { ca: [] }]) {
      await rejects(
        listen(router, {
          port: 0,
          tls: { cert: pki.cert, key: pki.key, clientCertificates, ...ca },
        }),
        /without "ca"/,
      );
    }
  }
  const strict = await listen(router, {
    port: 0,
    tls: { cert: pki.cert, key: pki.key, ca: [pki.ca], clientCertificates: "require" },
  });
  try {
    await rejects(
      connect(strict.urls.rawsocket!, { realm: "realm1", tls: { caCerts: [pki.ca] } }),
    );
    const s = await connect(strict.urls.rawsocket!, { realm: "realm1", tls });
    await s.close();
  } finally {
    await router.close();
    await strict.close();
  }
});

Deno.test("long-poll transports count against maxConnections even once their HTTP connections close", async () => {
  await using t = await startRouter({ listener: { maxConnections: 2 } });
  const open = () =>
    fetch(`${t.listener.urls.longpoll}/open`, {
      method: "POST",
      body: JSON.stringify({ protocols: ["wamp.2.json"] }),
    });
  for (let i = 0; i < 2; i++) {
    const response = await open();
    equal(response.status, 200);
    await response.body?.cancel();
  }
  const refused = await open();
  equal(refused.status, 503);
  await refused.body?.cancel();
});

Deno.test("a Unix socket listener refuses a path whose listener has a full queue", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/wamp.sock`;
  const busy = Deno.listen({ transport: "unix", path }); // never accepts
  const queued: net.Socket[] = [];
  const router = new Router({ realms: [{ name: "realm1" }], logger: () => {} });
  try {
    // Until the kernel refuses with EAGAIN: the queue is full (at most somaxconn, bounded here).
    let full = false;
    for (let i = 0; i < 10_000 && !full; i++) {
      full = await new Promise<boolean>((resolve) => {
        const socket = net.connect({ path });
        queued.push(socket);
        socket.once("connect", () => resolve(false));
        socket.once(
          "error",
          (error: Error & { code?: string }) => resolve(error.code === "EAGAIN"),
        );
      });
    }
    ok(full, "the queue filled");
    await rejects(listen(router, { path }), /another process is listening/);
    ok((await Deno.lstat(path)).isSocket, "its socket file is left alone");
  } finally {
    for (const socket of queued) socket.destroy();
    busy.close();
    await router.close();
    await Deno.remove(dir, { recursive: true });
  }
});
