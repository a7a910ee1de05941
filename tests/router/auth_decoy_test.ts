/** Unknown users get decoy challenges that look like a configured user's. */

import { deepEqual, equal, notEqual, ok, throws } from "node:assert/strict";
import { Router } from "../../mod.ts";
import type { AuthOutcome, AuthRequest } from "../../router/core/auth/authenticator.ts";
import { scramAuthenticator } from "../../router/core/auth/scram.ts";
import {
  craPrincipal,
  type CraUser,
  wampcraAuthenticator,
} from "../../router/core/auth/wampcra.ts";
import type { Dict } from "../../wamp/mod.ts";

function request(authid: string, authextra: Dict = {}): AuthRequest {
  return { realm: "realm1", authid, authextra, session: 7, transport: { type: "fake" } };
}

async function challengeOf(outcome: AuthOutcome | Promise<AuthOutcome>): Promise<Dict> {
  const step = await outcome;
  ok("challenge" in step, JSON.stringify(step));
  return step.challenge;
}

Deno.test("wampcra: an unknown authid's challenge has a configured user's role and salting", async () => {
  const cra = wampcraAuthenticator({
    users: {
      carl: { secret: "k", role: "crauser", salt: "s1", iterations: 100, keylen: 16 },
    },
  });
  const known = await challengeOf(cra.hello(request("carl")));
  const unknown = await challengeOf(cra.hello(request("mallory")));
  const again = await challengeOf(cra.hello(request("mallory")));
  equal(JSON.parse(unknown.challenge as string).authrole, "crauser");
  deepEqual(Object.keys(unknown).sort(), Object.keys(known).sort());
  deepEqual([unknown.iterations, unknown.keylen], [100, 16]);
  equal(unknown.salt, again.salt, "the same name always gets the same decoy salt");
  notEqual(unknown.salt, (await challengeOf(cra.hello(request("trudy")))).salt);
});

Deno.test("wamp-scram: an unknown authid's challenge has a configured user's KDF parameters", async () => {
  const scram = scramAuthenticator({
    users: {
      erin: {
        role: "r",
        kdf: "argon2id13",
        salt: "c2FsdHNhbHQ=",
        iterations: 2,
        memory: 64,
        storedKey: "a",
        serverKey: "b",
      },
    },
  });
  const unknown = await challengeOf(scram.hello(request("mallory", { nonce: "bm9uY2U=" })));
  deepEqual([unknown.kdf, unknown.iterations, unknown.memory], ["argon2id13", 2, 64]);
  notEqual(unknown.salt, "c2FsdHNhbHQ=");
});

Deno.test("wampcra: a known and an unknown authid take the same path to CHALLENGE", () => {
  const carl: CraUser = { secret: "k", role: "crauser", salt: "s1", iterations: 100 };
  const calls: string[] = [];
  const recording = {
    user(authid: string) {
      calls.push(`user ${authid}`);
      return carl;
    },
    salt(authid: string) {
      calls.push(`salt ${authid}`);
      return "decoy-salt";
    },
  };
  const known = craPrincipal(carl, "x", recording);
  const knownCalls = calls.splice(0);
  const unknown = craPrincipal(undefined, "x", recording);
  deepEqual(calls, knownCalls, "the same decoy derivations run for both");
  deepEqual(knownCalls, ["user x", "salt x"]);
  equal(known.key, "k");
  deepEqual(unknown.shown, { ...carl, salt: "decoy-salt" });
  ok(unknown.key.length >= 32 && unknown.key !== "k", "an unknown authid gets a random key");
});

Deno.test("wampcra and wamp-scram: with the same decoySecret, two routers give an unknown authid the same decoy; realms and methods their own", async () => {
  const users = {
    carl: { secret: "k", role: "crauser", salt: "s1", iterations: 100, keylen: 16 },
    dora: { secret: "k", role: "crauser", salt: "s2", iterations: 200, keylen: 16 },
  };
  const decoy = async (secret: string, realm = "realm1") => {
    const step = await challengeOf(
      wampcraAuthenticator({ users, decoySecret: { secret, realm } }).hello(request("mallory")),
    );
    return String(step.salt);
  };
  const shared = "a shared decoy secret";
  equal(await decoy(shared), await decoy(shared));
  notEqual(await decoy(shared), await decoy("another decoy secret"));
  notEqual(await decoy(shared), await decoy(shared, "realm2"), "realms compare nothing");
  const scramUser = {
    role: "r",
    kdf: "argon2id13" as const,
    salt: "c2FsdHNhbHQ=",
    iterations: 2,
    memory: 64,
    storedKey: "a",
    serverKey: "b",
  };
  const scramSalt = async (secret: string) =>
    String(
      (await challengeOf(
        scramAuthenticator({ users: { erin: scramUser }, decoySecret: { secret, realm: "realm1" } })
          .hello(request("mallory", { nonce: "bm9uY2U=" })),
      )).salt,
    );
  equal(await scramSalt(shared), await scramSalt(shared));
  notEqual(await scramSalt(shared), await scramSalt("another decoy secret"));
  notEqual(await scramSalt(shared), await decoy(shared), "methods compare nothing");
});

Deno.test("Router refuses a decoySecret shorter than 16 characters", () => {
  throws(() => new Router({ decoySecret: "", logger: () => {} }), /decoySecret/);
  throws(() => new Router({ decoySecret: "short", logger: () => {} }), /decoySecret/);
  new Router({ decoySecret: "sixteen chars ok", logger: () => {} });
});

Deno.test("wamp-scram: a client nonce over 1024 characters is refused at HELLO, known authid or not", async () => {
  const scram = scramAuthenticator({
    users: {
      erin: {
        role: "r",
        kdf: "pbkdf2",
        salt: "c2FsdA==",
        iterations: 4096,
        storedKey: "a",
        serverKey: "b",
      },
    },
  });
  for (const authid of ["erin", "mallory"]) {
    await challengeOf(scram.hello(request(authid, { nonce: "A".repeat(1024) })));
    const refused = await scram.hello(request(authid, { nonce: "A".repeat(1028) }));
    ok("deny" in refused && /nonce over 1024/.test(refused.deny), JSON.stringify(refused));
  }
});
