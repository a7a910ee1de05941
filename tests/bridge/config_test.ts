import { equal, match, throws } from "node:assert/strict";
import { assertUsageError, runCli, withConfig } from "../cli/_service.ts";
import { post, startBridge } from "./_bridge.ts";
import { resolveBridgeOptions } from "../../bridge/config.ts";

Deno.test("config: a bad bridge or service is one line naming the key", async () => {
  const cases: [unknown, RegExp][] = [
    [{
      bridges: [{
        path: "api",
        type: "publisher",
        realm: "realm1",
        role: "a",
        auth: { token: "t" },
      }],
    }, /"bridges\[0\]\.path"/],
    [{
      bridges: [{ path: "/a", type: "pubsub", realm: "realm1", role: "a", auth: { token: "t" } }],
    }, /"bridges\[0\]\.type"/],
    [
      { bridges: [{ path: "/a", type: "caller", realm: "realm1", role: "a" }] },
      /"bridges\[0\]\.auth"/,
    ],
    [
      { bridges: [{ path: "/a", type: "webhook", realm: "realm1", role: "a", auth: "none" }] },
      /"bridges\[0\]\.topic"/,
    ],
    [
      { bridges: [{ path: "/a", type: "caller", realm: "nope", role: "a", auth: "none" }] },
      /"bridges\[0\]\.realm": no realm "nope"/,
    ],
    [{
      bridges: [{
        path: "/a",
        type: "caller",
        realm: "realm1",
        role: "a",
        auth: "none",
        colour: 1,
      }],
    }, /"bridges\[0\]\.colour": unknown key/],
    [{
      bridges: [{
        path: "/a",
        type: "subscriber",
        realm: "realm1",
        role: "a",
        auth: "none",
        maxStreamsPerSource: -1,
      }],
    }, /"bridges\[0\]\.maxStreamsPerSource": expected an integer from 0 to 100000, got -1/],
    [
      { httpServices: [{ procedure: "com.x", url: "http://{host}:80/" }] },
      /"httpServices\[0\]\.url"/,
    ],
    [
      { httpServices: [{ procedure: "com.x", url: "http://h/", method: "TRACE" }] },
      /"httpServices\[0\]\.method"/,
    ],
  ];
  for (const [config, pattern] of cases) {
    await withConfig(JSON.stringify(config), async (file) => {
      assertUsageError(await runCli(["-c", file, "--listen", "127.0.0.1:0"]), pattern);
    });
  }
});

Deno.test("resolveBridgeOptions(): maxStreamsPerSource is 16 unless given, 0 for no limit; any path takes it, as heartbeat and maxBacklog", () => {
  const path = { path: "/a", type: "subscriber", realm: "realm1", role: "a", auth: "none" };
  equal(resolveBridgeOptions(path, "b").maxStreamsPerSource, 16);
  equal(resolveBridgeOptions({ ...path, maxStreamsPerSource: 0 }, "b").maxStreamsPerSource, 0);
  const publisher = { ...path, type: "publisher", maxStreamsPerSource: 2, heartbeat: 1000 };
  equal(resolveBridgeOptions(publisher, "b").maxStreamsPerSource, 2);
  throws(
    () => resolveBridgeOptions({ ...path, maxStreamsPerSource: 1.5 }, "bridges[3]"),
    /"bridges\[3\]\.maxStreamsPerSource": expected an integer/,
  );
});

Deno.test("check: a bridge role the realm does not declare is one line naming the key", async () => {
  const bridge = { path: "/a", type: "caller", realm: "realm1", auth: "none" };
  const realms = [{ name: "realm1", roles: [{ name: "app", permissions: [] }] }];
  await withConfig(
    JSON.stringify({ realms, bridges: [{ ...bridge, role: "ap" }] }),
    async (file) => {
      assertUsageError(
        await runCli(["check", "-c", file]),
        /"bridges\[0\]\.role": "ap" is not one of the realm's roles \("app"\)/,
      );
    },
  );
  // A declared role passes, and so does any role in a realm without roles (everything is allowed).
  await withConfig(
    JSON.stringify({ realms, bridges: [{ ...bridge, role: "app" }] }),
    async (file) => {
      const ok = await runCli(["check", "-c", file]);
      equal(ok.code, 0, ok.stderr);
    },
  );
  const open = { realms: [{ name: "realm1" }], bridges: [{ ...bridge, role: "whatever" }] };
  await withConfig(JSON.stringify(open), async (file) => {
    const ok = await runCli(["check", "-c", file]);
    equal(ok.code, 0, ok.stderr);
  });
});

Deno.test("flags: --http-bridge needs --http-token, and the other way round", async () => {
  assertUsageError(await runCli(["--http-bridge", "/api"]), /--http-bridge: needs --http-token/);
  assertUsageError(
    await runCli(["--http-token", "abcdefgh"]),
    /--http-token: only with --http-bridge/,
  );
  const ok = await runCli(["check", "--http-bridge", "/api", "--http-token", "abcdefgh-abcdefgh"]);
  equal(ok.code, 0, ok.stderr);
  match(ok.stdout, /config OK/);
});

Deno.test("CORS: preflight and headers for allowed origins only", async () => {
  await using t = await startBridge([{
    path: "/call",
    type: "caller",
    realm: "realm1",
    role: "app",
    auth: { token: "t" },
    cors: { origins: ["https://app.example.com"], maxAge: 60 },
  }]);
  const preflight = await fetch(`${t.base}/call`, {
    method: "OPTIONS",
    headers: {
      origin: "https://app.example.com",
      "access-control-request-method": "POST",
      "access-control-request-headers": "authorization, content-type",
    },
  });
  equal(preflight.status, 204);
  equal(preflight.headers.get("access-control-allow-origin"), "https://app.example.com");
  equal(preflight.headers.get("access-control-allow-methods"), "POST, OPTIONS");
  equal(preflight.headers.get("access-control-allow-headers"), "authorization, content-type");
  equal(preflight.headers.get("access-control-max-age"), "60");
  await preflight.body?.cancel();

  await t.client.register("com.example.echo", (args) => ({ args }));
  const allowed = await post(`${t.base}/call`, { procedure: "com.example.echo", args: [1] }, {
    authorization: "Bearer t",
    origin: "https://app.example.com",
  });
  equal(allowed.status, 200);
  equal(allowed.headers.get("access-control-allow-origin"), "https://app.example.com");
  const other = await post(`${t.base}/call`, { procedure: "com.example.echo" }, {
    authorization: "Bearer t",
    origin: "https://evil.example.com",
  });
  equal(other.headers.get("access-control-allow-origin"), null);
});

Deno.test("caller: maxInFlight requests at once, 429 past it", async () => {
  await using t = await startBridge([{
    path: "/call",
    type: "caller",
    realm: "realm1",
    role: "app",
    auth: { token: "t" },
    maxInFlight: 2,
  }]);
  const release = Promise.withResolvers<void>();
  await t.client.register("com.example.wait", async () => {
    await release.promise;
    return { args: ["done"] };
  });
  const bearer = { authorization: "Bearer t" };
  const waiting = [1, 2].map(() =>
    post(`${t.base}/call`, { procedure: "com.example.wait" }, bearer)
  );
  await new Promise((r) => setTimeout(r, 100));
  const third = await post(`${t.base}/call`, { procedure: "com.example.wait" }, bearer);
  equal(third.status, 429);
  equal(third.body.error, "cloverleaf.error.limit_exceeded");
  release.resolve();
  for (const r of await Promise.all(waiting)) equal(r.status, 200);
});

Deno.test("httpBridge() refuses an open path with the router's trusted role", async () => {
  const { Router } = await import("../../mod.ts");
  const { httpBridge } = await import("../../bridge/mount.ts");
  const { resolveBridgeOptions } = await import("../../bridge/config.ts");
  const router = new Router({ realms: [{ name: "realm1" }], logger: () => {} });
  const open = (role: string) =>
    resolveBridgeOptions({ path: "/c", type: "caller", realm: "realm1", role, auth: "none" }, "b");
  throws(
    () => httpBridge(router, [open("trusted")]),
    /open path \/c may not have the trusted role/,
  );
  const bridge = httpBridge(router, [open("app")]);
  await bridge.close();
  await router.close();
});
