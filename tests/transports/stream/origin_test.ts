import { equal, ok } from "node:assert/strict";
import { originAllowed, originPolicy } from "../../../transports/stream/origin.ts";
import { measuredTwice } from "../../_helpers/timed.ts";

Deno.test("originPolicy(): `*` matches any run but `/`, the whole origin, ignoring case", () => {
  const allowed = originPolicy(["https://*.example.com", "http://localhost:*"]);
  equal(allowed("https://app.example.com"), true);
  equal(allowed("HTTPS://App.Example.COM"), true);
  equal(allowed("https://a.b.example.com"), true);
  equal(allowed("https://.example.com"), true);
  equal(allowed("https://example.com"), false);
  equal(allowed("https://evil.net/.example.com"), false);
  equal(allowed("https://app.example.com.evil.net"), false);
  equal(allowed("http://localhost:5173"), true);
  equal(allowed("http://localhost:5173/x"), false);
  equal(originAllowed("https://x.y", ["https://*"]), true);
  equal(originAllowed("https://x/y", ["https://*"]), false);
  equal(originAllowed("https://x.y", []), false);
  equal(originPolicy([])("https://x.y"), true);
});

Deno.test(
  "originPolicy(): a 16 KiB origin against a glob of many `*` takes linear time",
  measuredTwice(() => {
    const allowed = originPolicy(["http*://*.*.*.example.*"]);
    const origin = "https://" + ".example.".repeat(1800) + "/";
    const start = performance.now();
    equal(allowed(origin), false);
    const ms = performance.now() - start;
    ok(ms < 200, `${ms} ms`);
  }),
);
