/**
 * The service takes `failedLogins` from its config file to the router: one
 * wrong ticket (`perSource: 1`), then the right one is refused, saying why.
 */

import { equal, match, ok, rejects } from "node:assert/strict";
import { connect, ErrorUri, SessionClosedError } from "../../mod.ts";
import { within } from "../_helpers/router.ts";
import { DENO_RUN, startService, withConfig } from "./_service.ts";

Deno.test("cli: the config file's failedLogins limits failed logins per source address", async () => {
  const config = {
    failedLogins: { perSource: 1, window: 60_000 },
    realms: [{
      name: "realm1",
      auth: { ticket: { principals: { alice: { ticket: "alice-ticket-Q8", role: "user" } } } },
    }],
  };
  await withConfig(JSON.stringify(config), async (file) => {
    await using service = await startService(Deno.execPath(), [
      ...DENO_RUN,
      "-c",
      file,
      "--ws",
      "127.0.0.1:0",
    ]);
    const url = service.urls[0]!;
    const join = (ticket: string) =>
      within(connect(url, { realm: "realm1", authid: "alice", ticket }), 5000, "the join");
    const reasons: string[] = [];
    for (const ticket of ["wrong", "alice-ticket-Q8"]) {
      await rejects(join(ticket), (e: unknown) => {
        ok(e instanceof SessionClosedError, `${e}`);
        equal(e.reason, ErrorUri.AUTHENTICATION_FAILED);
        reasons.push(e.message);
        return true;
      });
    }
    match(reasons[0]!, /: authentication failed$/);
    match(reasons[1]!, /: Too many failed logins from this address: try again later$/);
  });
});
