/**
 * `./client` under Node 20 (the machine's `node`): client/mod.ts bundled
 * by esbuild (for Node, and the very browser bundle), run by `node` against
 * a router started by the test, over WebSocket (our own stack: Node 20 has
 * no global WebSocket), RawSocket and long-poll (fetch), with the scenario of the browser
 * test. And the same scenario in Deno, unbundled, over each WebSocket,
 * and an argon2id WAMP-SCRAM login that must not stall the event loop.
 *
 * @module
 */

import { deepEqual, equal } from "node:assert/strict";
import * as client from "../../client/mod.ts";
import { startRouter } from "../_helpers/router.ts";
import { scramDeriveCredentials } from "../../wamp/mod.ts";
import { EXPECTED, portableRouter } from "./_portable.ts";
import { scenario, type ScenarioConfig } from "./_portable_scenario.ts";
import { runScenario, writeScenario } from "./_runtimes.ts";
import { measuredTwice } from "../_helpers/timed.ts";

/** The scenario's result under Node 20. */
async function runNode(dir: string, config: ScenarioConfig): Promise<unknown> {
  const { version, result } = await runScenario("node", dir, config);
  equal(version.split(".")[0], "v20", `not Node 20: ${version}`);
  return result;
}

for (const platform of ["node", "browser"] as const) {
  Deno.test(`Node 20 runs the ${platform} bundle of the client over WebSocket, RawSocket and long-poll`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "cloverleaf-node-" });
    const { router, config } = await portableRouter();
    try {
      await writeScenario(dir, platform);
      deepEqual(await runNode(dir, config), EXPECTED);
      const rawsocket = { ...config, url: router.listener.urls.rawsocket! };
      deepEqual(await runNode(dir, rawsocket), EXPECTED);
      const longpoll = { ...config, url: router.listener.urls.longpoll! };
      deepEqual(await runNode(dir, longpoll), EXPECTED);
    } finally {
      await router[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("Deno runs the same scenario over our WebSocket stack and over the global WebSocket", async () => {
  const { router, config } = await portableRouter();
  try {
    deepEqual(await scenario(client, config), EXPECTED);
    deepEqual(await scenario(client, { ...config, globalWebSocket: true }), EXPECTED);
  } finally {
    await router[Symbol.asyncDispose]();
  }
});

Deno.test(
  "a WAMP-SCRAM login with argon2id keeps the event loop turning (argon2idAsync, loaded on demand)",
  measuredTwice(async () => {
    const kdf = { kdf: "argon2id13", salt: "c2FsdHNhbHQ=", iterations: 1, memory: 65536 } as const;
    await using argon = await startRouter({
      realms: [{
        name: "realm1",
        auth: {
          scram: {
            users: { erin: { role: "user", ...kdf, ...scramDeriveCredentials("pw", kdf) } },
          },
        },
      }],
    });
    let last = performance.now();
    let stall = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      stall = Math.max(stall, now - last);
      last = now;
    }, 1);
    try {
      const session = await client.connect(argon.url, {
        realm: "realm1",
        authid: "erin",
        password: "pw",
      });
      equal(session.details.authmethod, "wamp-scram");
      await session.close();
    } finally {
      clearInterval(ticker);
    }
    // The router derives nothing at login (it stores the keys); the client's
    // derivation yields every ~10 ms, where one synchronous derivation with these parameters blocks ~0.7 s.
    equal(stall < 300, true, `event loop stalled ${Math.round(stall)} ms`);
  }),
);
