/**
 * The router's cookie store keeps what a cookie login needs and no more:
 * the authid and authrole, not the HELLO they came from (a login with a
 * 4 MiB `authextra` pinned it for `maxAge`), and at most
 * `MAX_COOKIES_PER_IDENTITY` cookies per identity, so one client logging
 * in again and again cannot push everyone else's out; renewing a cookie
 * moves its identity (the presented value is forgotten).
 */

import { deepEqual, equal } from "node:assert/strict";
import {
  CookieStore,
  MAX_COOKIES_PER_IDENTITY,
  RENEW_GRACE_MS,
} from "../../router/core/auth/cookie.ts";

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

Deno.test("CookieStore: renewing moves the identity: the presented value stands for nothing after", () => {
  let now = 0;
  const store = new CookieStore(() => now);
  store.remember("c0", "realm1", ALICE, 60);
  store.renew("c0", "c1");
  equal(store.identity("c0", "realm1"), undefined, "the old value is refused");
  deepEqual(store.identity("c1", "realm1"), { authid: "alice", authrole: "user" });
  // A second connection presenting the old value (a second tab at the same moment) gets the
  // identity on a value of its own, within RENEW_GRACE_MS of the renewal; after it, nothing.
  now = RENEW_GRACE_MS - 1;
  store.renew("c0", "c2");
  equal(store.identity("c2", "realm1")?.authid, "alice");
  equal(store.identity("c0", "realm1"), undefined);
  now = RENEW_GRACE_MS;
  store.renew("c0", "c2b");
  equal(store.identity("c2b", "realm1"), undefined, "past the grace, the old value moves nothing");
  equal(store.identity("c1", "realm1")?.authid, "alice");
  // The expiry moves with it, not from the renewal: an expired value is forgotten, not moved.
  now = 59_999;
  store.renew("c1", "c3");
  equal(store.identity("c3", "realm1")?.authid, "alice");
  now = 60_000;
  store.renew("c3", "c4");
  equal(store.identity("c4", "realm1"), undefined);
  equal(store.identity("c3", "realm1"), undefined);
});

Deno.test("CookieStore: one identity logging in again and again keeps only its newest cookies; others stay", () => {
  const store = new CookieStore(() => 0);
  store.remember("victim", "realm1", { ...ALICE, authid: "victim" }, 60);
  for (let i = 0; i <= 200_000; i++) store.remember(`a${i}`, "realm1", ALICE, 60);
  deepEqual(store.identity("victim", "realm1"), { authid: "victim", authrole: "user" });
  equal(store.identity("a200000", "realm1")?.authid, "alice");
  equal(store.identity(`a${200_000 - MAX_COOKIES_PER_IDENTITY + 1}`, "realm1")?.authid, "alice");
  equal(store.identity(`a${200_000 - MAX_COOKIES_PER_IDENTITY}`, "realm1"), undefined);
});

Deno.test("CookieStore: renewing again and again keeps one cookie: the newest", () => {
  const store = new CookieStore(() => 0);
  store.remember("a0", "realm1", ALICE, 60);
  for (let i = 1; i <= 200_000; i++) store.renew(`a${i - 1}`, `a${i}`);
  equal(store.identity("a200000", "realm1")?.authid, "alice");
  equal(store.identity("a199999", "realm1"), undefined);
});

Deno.test("CookieStore: within the grace, a renewed value stands for what it stood for, not for a login bound after on the value it moved to", () => {
  const store = new CookieStore(() => 0);
  const MALLORY = { ...ALICE, authid: "mallory" };
  const JOE = { ...ALICE, authid: "joe" };
  store.remember("planted", "realm1", MALLORY, 60); // mallory's cookie, planted in joe's browser
  store.renew("planted", "joes"); // joe's connection presents it
  store.remember("joes", "realm1", JOE, 60); // joe logs in by ticket there: his value is bound
  store.renew("planted", "mallorys"); // mallory presents the planted value at once
  equal(store.identity("mallorys", "realm1")?.authid, "mallory", "never joe");
  equal(store.identity("joes", "realm1")?.authid, "joe");
});
