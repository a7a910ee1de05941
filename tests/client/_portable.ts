/**
 * What the portable-client tests share: a router with an open realm and a
 * realm that needs WAMP-CRA, cryptosign or WAMP-SCRAM, for the scenario
 * of `_portable_scenario.ts`, and what that scenario should report.
 *
 * @module
 */

import type { ScenarioConfig, ScenarioResult } from "./_portable_scenario.ts";
import { cryptosignKeyPair, scramDeriveCredentials, wampcraDeriveKey } from "../../wamp/mod.ts";
import { startRouter, type TestRouter } from "../_helpers/router.ts";

const CAROL = cryptosignKeyPair("4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510");

/** The scenario's result when everything works. */
export const EXPECTED: ScenarioResult = {
  sum: 5,
  event: ["hello", { n: 1 }],
  cra: ["bob", "wampcra", "user"],
  cryptosign: ["carol", "cryptosign", "device"],
  scram: ["dave", "wamp-scram", "admin"],
  secureCall: ["pong from carol"],
  publicKey: CAROL.publicKey,
  refused: "wamp.error.authentication_failed",
};

/**
 * Starts a router with `realm1` (anonymous) and `secure` (bob: salted
 * WAMP-CRA, carol: cryptosign, dave: WAMP-SCRAM with PBKDF2).
 *
 * @returns The router, and the config for a scenario over its WebSocket.
 */
export async function portableRouter(): Promise<{ router: TestRouter; config: ScenarioConfig }> {
  const kdf = { kdf: "pbkdf2", salt: "c2FsdHNhbHQ=", iterations: 4096 } as const;
  const router = await startRouter({
    realms: [{ name: "realm1" }, {
      name: "secure",
      auth: {
        wampcra: {
          users: {
            bob: {
              role: "user",
              secret: wampcraDeriveKey("pa55", "s4lt", 1000, 32),
              salt: "s4lt",
              iterations: 1000,
              keylen: 32,
            },
          },
        },
        cryptosign: {
          principals: { carol: { role: "device", authorizedKeys: [CAROL.publicKey] } },
        },
        scram: {
          users: { dave: { role: "admin", ...kdf, ...scramDeriveCredentials("pencil", kdf) } },
        },
      },
    }],
  });
  return { router, config: { url: router.url, seed: CAROL.seed, serializers: ["json", "cbor"] } };
}
