/** The realm's `limits` in the CLI's config file: the same keys as RealmOptions. */

import { deepEqual, equal } from "node:assert/strict";
import { runCli, withConfig } from "./_service.ts";

Deno.test("cli check accepts realm limits and names a bad or unknown limit by its path", async () => {
  const good = { realms: [{ name: "realm1", limits: { callsPerSession: 50, retainedBytes: 1 } }] };
  await withConfig(JSON.stringify(good), async (file) => {
    const out = await runCli(["check", "-c", file]);
    equal(out.stderr, "");
    equal(out.code, 0);
  });
  const bad = {
    realms: [{ name: "realm1", limits: { subscriptionsPerSession: 0, callsPerSessio: 5 } }],
  };
  await withConfig(JSON.stringify(bad), async (file) => {
    const out = await runCli(["check", "-c", file]);
    equal(out.code, 2);
    deepEqual(out.stderr.trimEnd().split("\n"), [
      'cloverleaf: Invalid config "realms[0].limits.subscriptionsPerSession": expected an integer from 1 to 9007199254740991, got 0',
      'cloverleaf: Invalid config "realms[0].limits.callsPerSessio": unknown key',
    ]);
  });
});
