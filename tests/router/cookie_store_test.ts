/**
 * The router's cookie store keeps what a cookie login needs and no more:
 * the authid and authrole, not the HELLO they came from (a login with a
 * 4 MiB `authextra` pinned it for `maxAge`), and at most
 * `MAX_COOKIES_PER_IDENTITY` cookies per identity, so one client renewing
 * its own cookie on every connection cannot push everyone else's out.
 */

import { deepEqual, equal } from "node:assert/strict";
import { CookieStore, MAX_COOKIES_PER_IDENTITY } from "../../router/core/auth/cookie.ts";

const ALICE = {
  authid: "alice",
  authrole: "user",
  authmethod: "ticket",
  authprovider: "static",
  authextra: { big: "x".repeat(1 << 20) },
};

Deno.test("CookieStore: keeps only the authid and authrole of a login", () => {
  const store = new CookieStore(() => 0);
  store.remember("c1", "realm1", ALICE, 60);
  deepEqual(store.identity("c1", "realm1"), { authid: "alice", authrole: "user" });
  equal(store.identity("c1", "realm2"), undefined);
});

Deno.test("CookieStore: one identity renewing its cookie again and again keeps only its newest ones; others stay", () => {
  const store = new CookieStore(() => 0);
  store.remember("victim", "realm1", { ...ALICE, authid: "victim" }, 60);
  store.remember("a0", "realm1", ALICE, 60);
  for (let i = 1; i <= 200_000; i++) store.renew(`a${i - 1}`, `a${i}`);
  deepEqual(store.identity("victim", "realm1"), { authid: "victim", authrole: "user" });
  equal(store.identity("a200000", "realm1")?.authid, "alice");
  equal(store.identity(`a${200_000 - MAX_COOKIES_PER_IDENTITY + 1}`, "realm1")?.authid, "alice");
  equal(store.identity(`a${200_000 - MAX_COOKIES_PER_IDENTITY}`, "realm1"), undefined);
});
