/**
 * The client bounds the key-derivation work a CHALLENGE asks for: a router
 * (here a real one whose dynamic authenticator names hostile parameters)
 * that asks for more PBKDF2 iterations, Argon2id memory or Argon2id work
 * than `kdfLimits` allow gets ABORT `wamp.error.cannot_authenticate` at
 * once, before any KDF runs. The values are just over the limits, so
 * without the check the client would derive (for a second or so) and the
 * assertions would fail. The router's config, `wampcraDeriveKey` and
 * `cloverleaf hash-secret` refuse the same parameters.
 */

import { equal, match, ok, rejects, throws } from "node:assert/strict";
import { connect, type ConnectOptions, Router, SessionClosedError } from "../../mod.ts";
import {
  KDF_LIMITS,
  type KdfLimits,
  scramDeriveCredentials,
  type ScramKdfParams,
} from "../../wamp/mod.ts";
import { kdfOverLimit } from "../../wamp/auth/kdf_limits.ts";
import { deriveKey } from "../../wamp/auth/wampcra.ts";
import { ErrorUri } from "../../wamp/uris.ts";
import { startRouter, within } from "../_helpers/router.ts";
import { runClient } from "../cli/_client.ts";

const SALT = "c2FsdHNhbHRzYWx0c2FsdA==";
/** Keys of no password: the login never gets as far as comparing them. */
const KEYS = scramDeriveCredentials("unused", { kdf: "pbkdf2", salt: SALT, iterations: 1 });

/** A router whose WAMP-SCRAM and WAMP-CRA authenticators hand out `params`. */
function hostileRouter(params: Record<string, unknown>) {
  return startRouter({
    realms: [{
      name: "realm1",
      auth: {
        scram: { authenticator: () => ({ role: "user", salt: SALT, ...KEYS, ...params }) },
        wampcra: { authenticator: () => ({ role: "user", secret: "c2VjcmV0", ...params }) },
      },
    }],
  });
}

/** Joins and expects the client's own ABORT, naming `limit`; returns the time taken. */
async function refused(
  url: string,
  options: Omit<ConnectOptions, "realm">,
  limit: RegExp,
): Promise<number> {
  const started = performance.now();
  await rejects(
    within(connect(url, { realm: "realm1", authid: "joe", ...options }), 5000, "the join"),
    (error: unknown) => {
      ok(error instanceof SessionClosedError, String(error));
      equal(error.reason, ErrorUri.CANNOT_AUTHENTICATE);
      match(error.message, limit);
      return true;
    },
  );
  return performance.now() - started;
}

Deno.test("client: a WAMP-SCRAM CHALLENGE over the PBKDF2 iteration limit is refused before deriving", async () => {
  await using r = await hostileRouter({
    kdf: "pbkdf2",
    iterations: KDF_LIMITS.pbkdf2Iterations + 1,
  });
  const ms = await refused(r.url, { password: "pencil" }, /kdfLimits\.pbkdf2Iterations/);
  ok(ms < 1000, `refused in ${ms.toFixed(0)} ms, without deriving`);
});

Deno.test("client: a WAMP-SCRAM CHALLENGE over the Argon2id memory limit is refused before allocating", async () => {
  const memory = KDF_LIMITS.argon2Memory + 1;
  await using r = await hostileRouter({ kdf: "argon2id13", iterations: 1, memory });
  await refused(r.url, { password: "pencil" }, /memory 262145 KiB .*kdfLimits\.argon2Memory/);
});

Deno.test("client: kdfLimits are the client's to set: a lower Argon2id work limit refuses, the default accepts", async () => {
  const fred = { kdf: "argon2id13", salt: SALT, iterations: 2, memory: 64 } as const;
  await using r = await startRouter({
    realms: [{
      name: "realm1",
      auth: { scram: { users: { joe: { role: "user", ...fred, password: "pencil" } } } },
    }],
  });
  const limits: KdfLimits = { argon2Work: 127 };
  await refused(r.url, { password: "pencil", kdfLimits: limits }, /2 × 64 KiB .*argon2Work/);
  const session = await connect(r.url, { realm: "realm1", authid: "joe", password: "pencil" });
  equal(session.details.authmethod, "wamp-scram");
  await session.close();
});

Deno.test("client: a salted WAMP-CRA CHALLENGE over the iteration or keylen limit is refused", async () => {
  await using r = await hostileRouter({
    salt: "s4lt",
    iterations: KDF_LIMITS.pbkdf2Iterations + 1,
  });
  const cra = { secret: "pa55", authmethods: ["wampcra"] };
  await refused(r.url, cra, /iterations 1000001 .*kdfLimits\.pbkdf2Iterations/);
  await refused(r.url, { ...cra, kdfLimits: { pbkdf2Iterations: 10 } }, /iterations 1000001/);
  await using long = await hostileRouter({ salt: "s4lt", iterations: 1, keylen: 1025 });
  await refused(long.url, cra, /keylen 1025 is over the limit of 1024 bytes/);
  // PBKDF2 repeats every iteration per 32-byte block: 32 blocks of 40,000 is past 1,000,000.
  await using wide = await hostileRouter({ salt: "s4lt", iterations: 40_000, keylen: 1024 });
  await refused(wide.url, cra, /iterations 40000 × 32 blocks of keylen 1024/);
});

Deno.test("kdfOverLimit: at the limits is within them, one past is not; the client's limits replace the defaults", () => {
  equal(kdfOverLimit("pbkdf2", KDF_LIMITS.pbkdf2Iterations, null), undefined);
  match(kdfOverLimit("pbkdf2", KDF_LIMITS.pbkdf2Iterations + 1, null)!, /pbkdf2Iterations/);
  equal(kdfOverLimit("pbkdf2", 2_000_000, null, { pbkdf2Iterations: 2_000_000 }), undefined);
  equal(kdfOverLimit("argon2id13", 16, KDF_LIMITS.argon2Memory), undefined);
  match(kdfOverLimit("argon2id13", 17, KDF_LIMITS.argon2Memory)!, /argon2Work/);
  match(kdfOverLimit("argon2id13", 1, KDF_LIMITS.argon2Memory + 1)!, /argon2Memory/);
  // What Autobahn|Python's derive_scram_credential makes (4096 passes of 512 KiB) is within.
  equal(kdfOverLimit("argon2id13", 4096, 512), undefined);
  // A limit left undefined (from JavaScript) is the default; one not a positive number, an error.
  const unset = { pbkdf2Iterations: undefined } as unknown as KdfLimits;
  match(kdfOverLimit("pbkdf2", 2_000_000, null, unset)!, /1000000/);
  throws(
    () => kdfOverLimit("pbkdf2", 1, null, { pbkdf2Iterations: NaN }),
    /kdfLimits\.pbkdf2Iterations/,
  );
});

Deno.test("router config, wampcraDeriveKey and hash-secret refuse KDF parameters a client would refuse", async () => {
  const user = (params: ScramKdfParams) =>
    new Router({
      realms: [{
        name: "realm1",
        auth: { scram: { users: { joe: { role: "r", ...KEYS, ...params } } } },
      }],
      logger: () => {},
    });
  const pbkdf2 = { kdf: "pbkdf2", salt: SALT } as const;
  throws(
    () => user({ ...pbkdf2, iterations: 1_000_001 }),
    /users\.joe\.iterations": expected an integer from 1 to 1000000/,
  );
  const argon = { kdf: "argon2id13", salt: SALT } as const;
  throws(
    () => user({ ...argon, iterations: 1, memory: 262_145 }),
    /users\.joe\.memory": expected an integer from 8 to 262144/,
  );
  throws(
    () => user({ ...argon, iterations: 100, memory: 65536 }),
    /users\.joe\.iterations": .*argon2Work.*a client would refuse/,
  );
  const cra = (iterations: number) =>
    new Router({
      realms: [{
        name: "realm1",
        auth: {
          wampcra: { users: { joe: { role: "r", secret: "c2VjcmV0", salt: "s", iterations } } },
        },
      }],
      logger: () => {},
    });
  throws(() => cra(1_000_001), /users\.joe\.iterations": expected an integer from 1 to 1000000/);
  throws(() => deriveKey("pa55", "s4lt", 1_000_001), /kdfLimits\.pbkdf2Iterations/);
  throws(() => deriveKey("pa55", "s4lt", 1, 1025), /keylen 1025/);
  const out = await runClient([
    "hash-secret",
    "scram",
    "--kdf",
    "pbkdf2",
    "--iterations",
    "1000001",
    "--password",
    "x",
  ]);
  equal(out.code, 2, out.stderr);
  match(out.stderr, /pbkdf2 iterations 1000001 is over the limit/);
  const cra2 = await runClient(["hash-secret", "wampcra", "--keylen", "1025", "--password", "x"]);
  equal(cra2.code, 2, cra2.stderr);
  match(cra2.stderr, /keylen 1025 is over the limit of 1024 bytes/);
});

Deno.test("client: a kdfLimits of its own that is not a positive number fails connect() before any I/O", async () => {
  // Port 9 (discard) on loopback: nothing is dialed, the options are refused first.
  await rejects(
    connect("ws://127.0.0.1:9/ws", {
      realm: "realm1",
      password: "pa55",
      authid: "alice",
      authmethods: ["wamp-scram"],
      kdfLimits: { pbkdf2Iterations: 0 },
    }),
    /kdfLimits\.pbkdf2Iterations must be a positive number, got 0/,
  );
  const { Connection } = await import("../../client/mod.ts");
  throws(
    () => new Connection("ws://127.0.0.1:9/ws", { realm: "realm1", kdfLimits: { argon2Work: -1 } }),
    /kdfLimits\.argon2Work must be a positive number/,
  );
});
