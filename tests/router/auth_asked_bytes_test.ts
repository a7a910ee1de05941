/**
 * What a client may make the router send a dynamic authenticator is
 * bounded (`ASKED_BYTES`): such a procedure serves every login, and one
 * huge INVOCATION to it held up all the others.
 */

import { equal, ok } from "node:assert/strict";
import { askAuthenticator, type AuthRequest } from "../../router/core/auth/authenticator.ts";
import { ASKED_BYTES } from "../../router/core/limits.ts";
import type { TransportInfo } from "../../wamp/mod.ts";

function request(authextra: Record<string, unknown>, authid = "joe"): AuthRequest {
  return { realm: "realm1", authid, authextra, session: 1, transport: {} as TransportInfo };
}

Deno.test("askAuthenticator: over ASKED_BYTES of authid, authextra and ticket, it denies without asking", () => {
  let asked = 0;
  const source = () => (asked++, { role: "user" });
  const next = () => ({ deny: "not reached" });
  const big = "x".repeat(ASKED_BYTES);
  const cases: [string, AuthRequest, string | undefined][] = [
    ["authextra", request({ pad: big + "x" }), undefined],
    ["authid", request({}, big + "x"), undefined],
    ["ticket", request({}), big + "x"],
    ["together", request({ pad: "x".repeat(ASKED_BYTES / 2) }), "x".repeat(ASKED_BYTES / 2 + 8)],
  ];
  for (const [name, req, ticket] of cases) {
    const outcome = askAuthenticator(source, req, "ticket", ticket, next);
    ok("deny" in outcome, name);
  }
  equal(asked, 0);
  const fits = askAuthenticator(
    source,
    request({ pad: "x".repeat(ASKED_BYTES - 100) }),
    "ticket",
    "t",
    next,
  );
  ok("ask" in fits);
  fits.ask();
  equal(asked, 1, "under the bound the authenticator is asked");
});
