/**
 * The tracker of failed logins per source address
 * (`router/core/auth/authentication_failures.ts`), with a driven clock:
 * the window slides (at most `perSource` in any `window`), sources are
 * addresses (IPv6: /64), the memory is bounded (sources and failure times;
 * the oldest last failure goes first) and a source is forgotten once its
 * window passed. And `failedLogins` is validated with one-line errors.
 */

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import {
  AuthenticationFailures,
  CHECKING_MESSAGE,
  MAX_SOURCES,
  REFUSED_MESSAGE,
  resolveFailedLogins,
} from "../../router/core/auth/authentication_failures.ts";
import { Router } from "../../mod.ts";
import { ConfigErrors } from "../../config/mod.ts";
import { ErrorUri, MessageType } from "../../wamp/mod.ts";
import type { LogFields } from "../../router/mod.ts";
import { measuredTwice } from "../_helpers/timed.ts";

const A = "tcp4:192.0.2.1:40000";
const B = "tcp4:192.0.2.2:40000";

/** A tracker on a clock the test sets. */
function tracker(
  perSource: number,
  window: number,
  bounds: { sources?: number; times?: number } = {},
) {
  const clock = { now: 0 };
  const failures = new AuthenticationFailures(
    { perSource, window },
    { now: () => clock.now },
    bounds,
  );
  const at = (now: number) => {
    clock.now = now;
    return failures;
  };
  return { failures, at };
}

Deno.test("AuthenticationFailures: at most perSource failures in any window (it slides)", () => {
  const { at } = tracker(3, 400);
  for (const now of [0, 100, 200]) {
    equal(at(now).refuses("ticket", A), false);
    at(now).failed("ticket", A);
  }
  equal(at(200).refuses("ticket", A), true);
  equal(at(399).refuses("ticket", A), true);
  equal(at(400).refuses("ticket", A), false, "the failure at 0 left the window");
  at(400).failed("ticket", A); // 100, 200, 400
  equal(at(450).refuses("ticket", A), true);
  equal(at(500).refuses("ticket", A), false, "the failure at 100 left the window");
  equal(at(500).refuses("ticket", B), false, "another address");
});

Deno.test("AuthenticationFailures: a source is its address (any port; IPv6: its /64)", () => {
  const { at } = tracker(1, 1000);
  at(0).failed("wampcra", "tcp6:[2001:db8:0:1::5]:50000");
  equal(at(1).refuses("ticket", "tcp6:[2001:db8:0:1:ffff::9]:50001"), true);
  equal(at(1).refuses("ticket", "tcp6:[2001:db8:0:2::5]:50000"), false);
  at(0).failed("ticket", "tcp4:192.0.2.1:1");
  equal(at(1).refuses("ticket", "tcp4:192.0.2.1:2"), true);
});

Deno.test("AuthenticationFailures: no peer, anonymous, cookie, tls and internal are never counted nor refused for failures", () => {
  // tls was: a client certificate the listener verified is nothing a client can guess.
  const exempt = ["anonymous", "cookie", "tls", "internal"];
  const { failures, at } = tracker(1, 1000);
  at(0).failed("ticket", undefined);
  for (const method of exempt) at(0).failed(method, A);
  equal(failures.size, 0);
  at(0).failed("ticket", A);
  equal(at(1).refuses("ticket", undefined), false);
  for (const method of exempt) equal(at(1).refuses(method, A), false);
  for (const method of ["ticket", "wampcra", "wamp-scram", "cryptosign", "custom"]) {
    equal(at(1).refuses(method, A), true, method);
  }
});

Deno.test("AuthenticationFailures: perSource 0 counts nothing", () => {
  const { failures, at } = tracker(0, 1000);
  for (let i = 0; i < 10; i++) at(i).failed("ticket", A);
  equal(failures.size, 0);
  equal(at(10).refuses("ticket", A), false);
});

Deno.test("AuthenticationFailures: a source is forgotten once its last failure is window old", () => {
  const { failures, at } = tracker(3, 400);
  at(0).failed("ticket", A);
  at(100).failed("ticket", B);
  equal(failures.size, 2);
  equal(at(399).refuses("ticket", B), false);
  equal(failures.size, 2);
  equal(at(400).refuses("ticket", B), false);
  equal(failures.size, 1, "A forgotten");
  at(500).failed("ticket", A);
  equal(failures.size, 1, "B forgotten, A counts anew");
});

Deno.test("AuthenticationFailures: at most `sources` sources; the one whose last failure is oldest goes", () => {
  const { failures, at } = tracker(1, 60_000, { sources: 3 });
  for (let i = 1; i <= 3; i++) at(i).failed("ticket", `tcp4:10.0.0.${i}:1`);
  at(4).failed("ticket", "tcp4:10.0.0.1:1"); // 10.0.0.1 is now the newest
  at(5).failed("ticket", "tcp4:10.0.0.4:1");
  equal(failures.size, 3);
  equal(at(6).refuses("ticket", "tcp4:10.0.0.2:1"), false, "the oldest last failure went");
  for (const i of [1, 3, 4]) equal(at(6).refuses("ticket", `tcp4:10.0.0.${i}:1`), true);
  for (let i = 0; i < 100_000; i++) {
    at(7).failed("ticket", `tcp4:10.${i >> 16}.${(i >> 8) & 255}.${i & 255}:1`);
  }
  equal(failures.size, 3);
});

Deno.test("AuthenticationFailures: at most `times` failure times in all", () => {
  const { failures, at } = tracker(3, 60_000, { times: 5 });
  for (let i = 0; i < 3; i++) at(i).failed("ticket", A);
  for (let i = 3; i < 5; i++) at(i).failed("ticket", B);
  equal(failures.size, 2);
  at(5).failed("ticket", B); // 6 times: A goes
  equal(failures.size, 1);
  equal(at(6).refuses("ticket", A), false);
  equal(at(6).refuses("ticket", B), true);
  for (let i = 0; i < 1000; i++) at(7).failed("ticket", B); // a full ring keeps 3
  equal(at(8).refuses("ticket", B), true);
  equal(failures.size, 1);
});

Deno.test(
  "AuthenticationFailures: a check after 65,535 sources were dropped costs what it costs in a tracker that dropped none",
  measuredTwice(() => {
    // A Map keeps a deleted entry's slot until it grows or shrinks: finding the
    // oldest source as the first of the Map walked past every source dropped
    // before (33 µs a check after 65,535 drops, 0.2 µs without).
    const address = (i: number) => `tcp4:10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:1`;
    const cost = (sources: number) => {
      const { failures, at } = tracker(1, 60_000);
      for (let i = 0; i < sources; i++) at(i / 1000).failed("ticket", address(i));
      equal(failures.size, Math.min(sources, MAX_SOURCES));
      let best = Infinity; // the least of 5 rounds: another process's load only adds
      for (let round = 0; round < 5; round++) {
        const start = performance.now();
        for (let i = 0; i < 20_000; i++) failures.refuses("ticket", A);
        best = Math.min(best, performance.now() - start);
      }
      return best;
    };
    const control = cost(MAX_SOURCES);
    const dropped = cost(2 * MAX_SOURCES - 1);
    ok(dropped < 10 * control, `${dropped.toFixed(1)} ms against ${control.toFixed(1)} ms`);
  }),
);

Deno.test("AuthenticationFailures.begin(): the ABORT, one log line with the event, and the count", () => {
  const lines: [string, string, LogFields | undefined][] = [];
  let refused = 0;
  const failures = new AuthenticationFailures({ perSource: 1, window: 1000 }, {
    now: () => 0,
    log: (level, message, fields) => void lines.push([level, message, fields]),
    refused: () => refused++,
  });
  const hello = {
    type: MessageType.HELLO,
    realm: "realm1",
    details: { authid: "alice", roles: { caller: {} } },
  } as const;
  const step = { method: "ticket", session: 7, hello, transport: { type: "websocket", peer: A } };
  equal(failures.begin(step), undefined);
  failures.end("ticket", A, true);
  deepEqual(failures.begin(step), {
    type: MessageType.ABORT,
    details: { message: REFUSED_MESSAGE },
    reason: ErrorUri.AUTHENTICATION_FAILED,
  });
  equal(refused, 1);
  deepEqual(lines, [[
    "warn",
    "Session 7: ticket login refused: too many failed logins from tcp4:192.0.2.1 (1 in 1000 ms)",
    {
      realm: "realm1",
      session: 7,
      authid: "alice",
      method: "ticket",
      transport: "websocket",
      peer: A,
      reason: "too many failed logins from tcp4:192.0.2.1 (1 in 1000 ms)",
      event: "login_refused",
    },
  ]]);
});

/** A ticket login's step from `peer`, as the acceptor begins it. */
function step(peer: string | undefined) {
  const hello = { type: MessageType.HELLO, realm: "realm1", details: { roles: {} } } as const;
  const transport = peer === undefined ? { type: "local" } : { type: "websocket", peer };
  return { method: "ticket", session: 7, hello, transport };
}

Deno.test("AuthenticationFailures: each step running holds a place; failures in the window and steps running make the limit", () => {
  // Without places, each of 50 connections from one address had a guess checked by a
  // dynamic authenticator (5 ms) per window with perSource 3: none had failed when it began.
  const { failures, at } = tracker(3, 1000);
  for (let i = 0; i < 3; i++) equal(at(0).begin(step(A)), undefined);
  equal(failures.checks, 3);
  equal(failures.size, 0, "nothing failed yet");
  deepEqual(at(0).begin(step(A))?.details, { message: CHECKING_MESSAGE });
  equal(at(0).refuses("ticket", A), true);
  equal(at(0).begin(step(B)), undefined, "another address has its own places");
  at(0).end("ticket", B, false);
  at(5).end("ticket", A, false); // a login welcomed (or challenged): its place is free
  equal(at(5).begin(step(A)), undefined);
  at(10).end("ticket", A, true);
  at(20).end("ticket", A, true); // 2 failures, 1 step running
  deepEqual(at(20).begin(step(A))?.details, { message: CHECKING_MESSAGE });
  at(30).end("ticket", A, true); // 3 failures
  equal(failures.checks, 0);
  deepEqual(at(30).begin(step(A))?.details, { message: REFUSED_MESSAGE });
  equal(at(1009).refuses("ticket", A), true);
  equal(at(1010).begin(step(A)), undefined, "the failure at 10 left the window");
  deepEqual(at(1010).begin(step(A))?.details, { message: CHECKING_MESSAGE }, "2 + 1 running");
  at(1011).end("ticket", A, false);
  equal(failures.checks, 0);
  // Exempt methods and in-process sessions take no place.
  const anonymous = { ...step(A), method: "anonymous" };
  for (let i = 0; i < 5; i++) equal(at(1011).begin(anonymous), undefined);
  for (let i = 0; i < 5; i++) equal(at(1011).begin(step(undefined)), undefined);
  equal(failures.checks, 0);
});

Deno.test("AuthenticationFailures: tls is neither counted nor refused for failures, but its steps hold places: refused while its source's places are all held", () => {
  // tls held no place: one address with a certificate the CA signed had any number of dynamic
  // tls authenticator asks out at once (500 of 500 with perSource 3).
  const { failures, at } = tracker(3, 1000);
  const tls = { ...step(A), method: "tls" };
  for (let i = 0; i < 3; i++) {
    equal(at(0).begin(tls), undefined);
    at(0).end("tls", A, true);
  }
  equal(failures.size, 0, "its failures are not counted");
  for (let i = 0; i < 3; i++) at(0).failed("ticket", A);
  equal(at(0).refuses("ticket", A), true);
  equal(at(0).refuses("tls", A), false, "nor is it refused for the address's failures");
  for (let i = 0; i < 3; i++) equal(at(0).begin(tls), undefined);
  equal(failures.checks, 3);
  equal(at(0).refuses("tls", A), true, "its steps hold places");
  deepEqual(at(0).begin(tls)?.details, { message: CHECKING_MESSAGE });
  equal(at(0).begin({ ...tls, transport: { type: "websocket", peer: B } }), undefined);
  at(0).end("tls", A, false);
  equal(at(0).refuses("tls", A), false);
  equal(at(0).begin(tls), undefined);
});

Deno.test("AuthenticationFailures: a refusal is not a failure: the source may try again once its first failure is window old, however often it was refused", () => {
  const { at } = tracker(3, 1000);
  for (const now of [0, 10, 20]) {
    equal(at(now).begin(step(A)), undefined);
    at(now).end("ticket", A, true);
  }
  for (const now of [20, 500, 900, 990, 999]) {
    deepEqual(at(now).begin(step(A))?.details, { message: REFUSED_MESSAGE }, `at ${now}`);
  }
  equal(at(999).refuses("ticket", A), true);
  equal(at(1000).refuses("ticket", A), false, "the failure at 0 left the window");
  equal(at(1000).begin(step(A)), undefined);
});

Deno.test("resolveFailedLogins() fills in defaults and names the key of a bad value", () => {
  deepEqual(resolveFailedLogins(undefined), { perSource: 0, window: 60_000 });
  deepEqual(resolveFailedLogins({ perSource: 5, window: 1000 }), { perSource: 5, window: 1000 });
  throws(() => resolveFailedLogins({ perSource: -1 }), {
    message: 'Invalid config "failedLogins.perSource": expected an integer from 0 to 1000, got -1',
  });
  throws(() => resolveFailedLogins({ perSource: 5, window: 0 }), {
    message: 'Invalid config "failedLogins.window": expected an integer from 1 to 86400000, got 0',
  });
  throws(() => resolveFailedLogins(5), {
    message: 'Invalid config "failedLogins": expected an object, got 5',
  });
  const errors = new ConfigErrors();
  resolveFailedLogins({ perSource: 1.5, window: "1m", per: 1 }, "failedLogins", { errors });
  deepEqual(errors.messages, [
    'Invalid config "failedLogins.perSource": expected an integer from 0 to 1000, got 1.5',
    'Invalid config "failedLogins.window": expected an integer from 1 to 86400000, got "1m"',
    'Invalid config "failedLogins.per": unknown key',
  ]);
});

Deno.test("Router refuses a bad failedLogins, naming the key", () => {
  throws(() => new Router({ failedLogins: { perSource: 2000 } }), {
    name: "TypeError",
    message:
      'Invalid config "failedLogins.perSource": expected an integer from 0 to 1000, got 2000',
  });
});
