import { deepEqual, equal, rejects } from "node:assert/strict";
import { ApplicationError, connectLocal, Router } from "../../mod.ts";
import { resolveHttpService } from "../../bridge/config.ts";
import { provideHttpServices } from "../../bridge/services.ts";
import { Session } from "../../client/mod.ts";
import { linkedPeers } from "../../transports/local.ts";

/** A small REST server: GET /users/:id, POST /users (echo), anything else 404, /slow never answers. */
function restServer(): { url: string; seen: string[]; close: () => Promise<void> } {
  const seen: string[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    seen.push(`${req.method} ${url.pathname}${url.search} ${req.headers.get("x-api-key") ?? ""}`);
    if (url.pathname === "/slow") {
      await new Promise((r) => setTimeout(r, 400));
      return new Response("late");
    }
    const user = /^\/users\/([^/]+)$/.exec(url.pathname);
    if (req.method === "GET" && user) {
      if (user[1] === "42") return Response.json({ id: 42, name: "Ada" });
      return Response.json({ message: "no such user" }, { status: 404 });
    }
    if (req.method === "POST" && url.pathname === "/users") {
      return Response.json({ created: await req.json() }, { status: 201 });
    }
    return new Response("not here", { status: 404 });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    seen,
    close: () => server.shutdown(),
  };
}

Deno.test("REST services: a WAMP CALL becomes the HTTP request; status >= 400 becomes ERROR", async () => {
  const rest = restServer();
  const router = new Router({ realms: [{ name: "realm1" }], logger: () => {} });
  provideHttpServices(
    router,
    [
      {
        procedure: "com.example.user.get",
        url: `${rest.url}/users/{id}`,
        headers: { "x-api-key": "k" },
      },
      { procedure: "com.example.user.create", method: "POST", url: `${rest.url}/users` },
      { procedure: "com.example.slow", url: `${rest.url}/slow`, timeout: 200, maxInFlight: 1 },
      { procedure: "com.example.path", url: `${rest.url}/users/{0}` },
    ].map((s, i) => resolveHttpService(s, `httpServices[${i}]`)),
  );
  const session = await connectLocal(router, "realm1");
  try {
    const found = await session.call("com.example.user.get", { kwargs: { id: 42 } });
    deepEqual(found.args, [{ id: 42, name: "Ada" }]);
    equal(found.kwargs.status, 200);

    const created = await session.call("com.example.user.create", {
      kwargs: { body: { name: "Bo" } },
    });
    deepEqual(created.args, [{ created: { name: "Bo" } }]);
    equal(created.kwargs.status, 201);

    const missing = await session.call("com.example.user.get", { kwargs: { id: 7 } }).catch((e) =>
      e
    );
    equal(missing instanceof ApplicationError, true);
    equal(missing.uri, "cloverleaf.error.http_status");
    deepEqual(missing.kwargs, { status: 404, body: { message: "no such user" } });

    const [slow, second] = await Promise.allSettled([
      session.call("com.example.slow"),
      session.call("com.example.slow"),
    ]);
    equal(slow.status === "rejected" && slow.reason.uri, "wamp.error.timeout");
    equal(second.status === "rejected" && second.reason.uri, "cloverleaf.error.limit_exceeded");
    // The place is free again once the first one ended.
    await rejects(
      session.call("com.example.slow"),
      (e: ApplicationError) => e.uri === "wamp.error.timeout",
    );
    await rejects(
      session.call("com.example.user.get"),
      (e: ApplicationError) => e.uri === "wamp.error.invalid_argument",
    );
    // Values are URL-encoded: a caller cannot leave the path, let alone the host.
    await session.call("com.example.path", { args: ["../../etc?x=@evil.example"] }).catch(() => {});
    equal(rest.seen.at(-1), "GET /users/..%2F..%2Fetc%3Fx%3D%40evil.example ");
    equal(rest.seen[0], "GET /users/42 k");
  } finally {
    await session.close();
    await router.close();
    await rest.close();
  }
});

Deno.test("REST services: a body still coming in when the timeout passes is wamp.error.timeout", async () => {
  // The head at once, then a byte every 50 ms for 2 s.
  const stops = new Set<() => void>();
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, () => {
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        const timer = setInterval(() => {
          if (++sent <= 40) return controller.enqueue(new Uint8Array([0x78]));
          stop();
          controller.close();
        }, 50);
        const stop = () => (clearInterval(timer), stops.delete(stop));
        stops.add(stop);
      },
      cancel: () => stops.forEach((stop) => stop()),
    });
    return new Response(body, { headers: { "content-type": "text/plain" } });
  });
  const router = new Router({ realms: [{ name: "realm1" }], logger: () => {} });
  const url = `http://127.0.0.1:${server.addr.port}/drip`;
  provideHttpServices(router, [
    resolveHttpService({ procedure: "com.example.drip", url, timeout: 300 }, "httpServices[0]"),
  ]);
  const session = await connectLocal(router, "realm1");
  try {
    await rejects(
      session.call("com.example.drip"),
      (e: ApplicationError) =>
        e.uri === "wamp.error.timeout" && /no answer in 300 ms/.test(e.message),
    );
  } finally {
    await session.close();
    await router.close();
    stops.forEach((stop) => stop());
    await server.shutdown();
  }
});

Deno.test("REST services: the host is fixed in the config", () => {
  for (const url of ["http://{host}/x", "ftp://example.com/", "http://ex{a}mple.com/"]) {
    let message = "";
    try {
      resolveHttpService({ procedure: "com.example.p", url }, "httpServices[0]");
    } catch (error) {
      message = (error as Error).message;
    }
    equal(message.startsWith('Invalid config "httpServices[0].url"'), true, url);
  }
});

Deno.test("REST services: a response body no serializer could carry as it came reaches the caller as text or bytes", async () => {
  const bodies: Record<string, [string, string]> = {
    proto: ['{"__proto__":{"a":1}}', "application/json"],
    bad: ['["\\u0000zz!"]', "application/json"],
    bin: ['["\\u0000AQI="]', "application/json"],
    nul: ["\0hi", "text/plain"],
  };
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, (req) => {
    const [body, type] = bodies[new URL(req.url).pathname.slice(1)]!;
    return new Response(body, { headers: { "content-type": type } });
  });
  const router = new Router({ realms: [{ name: "realm1" }], logger: () => {} });
  const base = `http://127.0.0.1:${server.addr.port}`;
  provideHttpServices(
    router,
    Object.keys(bodies).map((name, i) =>
      resolveHttpService({ procedure: `com.example.${name}`, url: `${base}/${name}` }, `s[${i}]`)
    ),
  );
  const session = await connectLocal(router, "realm1");
  try {
    const got = async (name: string) => (await session.call(`com.example.${name}`)).args[0];
    equal(await got("proto"), bodies.proto![0]);
    equal(await got("bad"), bodies.bad![0]);
    deepEqual(await got("bin"), [new Uint8Array([1, 2])]);
    deepEqual(await got("nul"), new TextEncoder().encode("\0hi"));
  } finally {
    await session.close();
    await router.close();
    await server.shutdown();
  }
});

Deno.test("REST services: a caller's ERROR names the procedure, not the URL; the log has the URL without its query", async () => {
  // 404 at once; /slow answers only when the request is aborted.
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    (req) =>
      new URL(req.url).pathname === "/slow"
        ? new Promise<Response>((resolve) =>
          req.signal.addEventListener("abort", () => resolve(new Response("late")))
        )
        : new Response("no", { status: 404 }),
  );
  const closed = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const nobody = (closed.addr as Deno.NetAddr).port;
  closed.close();
  const lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  const router = new Router({
    realms: [{ name: "realm1" }],
    logger: (level, message, fields = {}) => lines.push({ level, message, fields }),
  });
  const base = `http://127.0.0.1:${server.addr.port}`;
  const key = "?api_key=K-SECRET-123";
  provideHttpServices(
    router,
    [
      { procedure: "com.example.missing", url: `${base}/users/{id}${key}` },
      { procedure: "com.example.down", url: `http://127.0.0.1:${nobody}/x${key}` },
      { procedure: "com.example.slow", url: `${base}/slow${key}`, timeout: 300 },
    ].map((s, i) => resolveHttpService(s, `httpServices[${i}]`)),
  );
  const session = await connectLocal(router, "realm1");
  try {
    const said: Record<string, string> = {};
    for (const procedure of ["com.example.missing", "com.example.down", "com.example.slow"]) {
      const error = await session.call(procedure, { kwargs: { id: "nobody" } }).then(
        () => ({}),
        (e: ApplicationError) => e,
      ) as ApplicationError;
      said[procedure] = `${error.message} ${JSON.stringify([error.args, error.kwargs])}`;
    }
    deepEqual(said, {
      "com.example.missing":
        'cloverleaf.error.http_status: com.example.missing: HTTP 404 [["com.example.missing: HTTP 404"],{"status":404,"body":"no"}]',
      "com.example.down":
        'cloverleaf.error.unavailable: com.example.down: the service could not be reached [["com.example.down: the service could not be reached"],{}]',
      "com.example.slow":
        'wamp.error.timeout: com.example.slow: no answer in 300 ms [["com.example.slow: no answer in 300 ms"],{}]',
    });
    const logged = lines.filter((line) => line.message.startsWith("HTTP service"));
    deepEqual(logged.map((line) => [line.level, line.message, line.fields.event]), [
      [
        "debug",
        `HTTP service com.example.missing: GET ${base}/users/nobody: HTTP 404`,
        "http_service_status",
      ],
      [
        "warn",
        `HTTP service com.example.down: GET http://127.0.0.1:${nobody}/x: the service could not be reached`,
        "http_service_failed",
      ],
      [
        "warn",
        `HTTP service com.example.slow: GET ${base}/slow: no answer in 300 ms`,
        "http_service_failed",
      ],
    ]);
    // Why the service was not reached (fetch's error and its cause, which names the URL) is logged,
    // with the URL as shown.
    const reason = String(logged[1]!.fields.reason);
    equal(reason.includes(`127.0.0.1:${nobody}/x`) && !reason.includes("?"), true, reason);
    equal(JSON.stringify(lines).includes("K-SECRET"), false);
  } finally {
    await session.close();
    await router.close();
    await server.shutdown();
  }
});

Deno.test("httpServices: the log's lines name the caller's peer, so one noisy caller does not hide another's failures", async () => {
  const closed = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const nobody = (closed.addr as Deno.NetAddr).port;
  closed.close();
  const lines: Record<string, unknown>[] = [];
  const router = new Router({
    realms: [{ name: "realm1" }],
    logger: (_level, _message, fields = {}) => lines.push(fields),
  });
  const service = { procedure: "com.example.down", url: `http://127.0.0.1:${nobody}/x` };
  provideHttpServices(router, [resolveHttpService(service, "httpServices[0]")]);
  const join = (peer: string) => {
    const [routerEnd, clientEnd] = linkedPeers({
      validate: true,
      info: { type: "websocket", peer },
    });
    routerEnd.bind(router.attach(routerEnd));
    return Session.join(clientEnd, { realm: "realm1" });
  };
  const noisy = await join("tcp4:10.0.0.1:5000");
  const quiet = await join("tcp4:10.0.0.2:6000");
  try {
    // 15 failures of one caller, then one of another: the log takes 10 a source per 10 s, and
    // without a peer every caller was the one source "" (the quiet caller's line was dropped).
    for (let i = 0; i < 15; i++) await rejects(noisy.call("com.example.down"));
    await rejects(quiet.call("com.example.down"));
    const failed = lines.filter((fields) => fields.event === "http_service_failed");
    deepEqual(
      [noisy.id, quiet.id].map((id) => failed.filter((fields) => fields.session === id).length),
      [10, 1],
    );
    equal(failed.find((fields) => fields.session === quiet.id)?.peer, "tcp4:10.0.0.2:6000");
  } finally {
    for (const session of [noisy, quiet]) await session.close();
    await router.close();
  }
});
