/** The bridge's requests reach the admin listener's /metrics, by path and status. */

import { equal, match } from "node:assert/strict";
import { serveAdmin } from "../../router/mod.ts";
import { post, startBridge } from "./_bridge.ts";

Deno.test("bridge metrics: requests are counted by path and status in /metrics", async () => {
  await using t = await startBridge([
    { path: "/pub", type: "publisher", realm: "realm1", role: "app", auth: { token: "t0ken" } },
  ]);
  const admin = await serveAdmin(t.router, { port: 0, listeners: [t.listener] });
  try {
    const bearer = { authorization: "Bearer t0ken" };
    equal((await post(`${t.base}/pub`, { topic: "com.example.a" }, bearer)).status, 202);
    equal((await post(`${t.base}/pub`, { topic: "com.example.a" })).status, 401);
    equal(
      (await post(`${t.base}/pub`, { topic: "com.example.a" }, { authorization: "x" })).status,
      401,
    );
    const text = await (await fetch(`${admin.url}/metrics`)).text();
    match(text, /^# TYPE cloverleaf_bridge_requests_total counter$/m);
    match(text, /^cloverleaf_bridge_requests_total\{path="\/pub",status="202"\} 1$/m);
    match(text, /^cloverleaf_bridge_requests_total\{path="\/pub",status="401"\} 2$/m);
  } finally {
    await admin.close();
  }
});
