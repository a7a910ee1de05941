/** The admin listener's access rule, and the text log line a peer's text cannot break. */

import { equal } from "node:assert/strict";
import { refusal } from "../../admin/access.ts";
import { formatLogLine } from "../../router/logger.ts";

Deno.test("admin without a token: a loopback request that a reverse proxy forwarded is refused", () => {
  const plain = new Request("http://127.0.0.1/metrics");
  equal(refusal(plain, "127.0.0.1", undefined), undefined);
  for (const header of ["Forwarded", "X-Forwarded-For", "X-Real-IP"]) {
    const proxied = new Request("http://127.0.0.1/metrics", {
      headers: { [header]: "203.0.113.9" },
    });
    equal(refusal(proxied, "127.0.0.1", undefined)?.status, 403, header);
  }
  // With a token the headers change nothing: the token decides.
  const bearer = new Request("http://127.0.0.1/metrics", {
    headers: { authorization: "Bearer s3cret-token", "x-forwarded-for": "203.0.113.9" },
  });
  equal(refusal(bearer, "127.0.0.1", "s3cret-token"), undefined);
});

Deno.test("admin without a token: a request naming another host (DNS rebinding) is refused", () => {
  const at = (host: string) => new Request("http://127.0.0.1/events", { headers: { host } });
  for (
    const host of ["127.0.0.1:9000", "localhost:9000", "LOCALHOST", "app.localhost", "[::1]:9000"]
  ) {
    equal(refusal(at(host), "127.0.0.1", undefined), undefined, host);
  }
  for (
    const host of ["rebind.attacker.example", "rebind.attacker.example:9000", "127.0.0.1.nip.io"]
  ) {
    equal(refusal(at(host), "127.0.0.1", undefined)?.status, 403, host);
  }
  // With a token the Host changes nothing: a rebound page cannot send the token.
  const bearer = new Request("http://127.0.0.1/metrics", {
    headers: { authorization: "Bearer s3cret-token", host: "rebind.attacker.example" },
  });
  equal(refusal(bearer, "127.0.0.1", "s3cret-token"), undefined);
});

Deno.test("text log lines: control characters in the message are escaped (no forged line)", () => {
  const line = formatLogLine(
    "text",
    "warn",
    `wrong ticket for "x\n2026-12-05T00:00:00Z INFO forged"`,
    {},
    "t",
  );
  equal(line.includes("\n"), false);
  equal(line.includes('"x\\n2026'), true);
});
