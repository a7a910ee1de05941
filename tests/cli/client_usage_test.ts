/**
 * The client commands' usage errors (exit 2 before connecting), `--help`,
 * and the README's examples of the command-line client, run as written.
 */

import { deepEqual, equal, match, ok } from "node:assert/strict";
import { startRouter } from "../_helpers/router.ts";
import {
  assertUsage,
  jsonLines,
  readmeBlocks,
  readmeCommands,
  runClient,
  type RunningClient,
  startClient,
} from "./_client.ts";

Deno.test("cli client commands exit 2 on bad usage, before connecting", async () => {
  // No router: a usage error must not need one.
  const url = "ws://127.0.0.1:9/ws";
  assertUsage(await runClient(["call", "--url", url]), /Missing <procedure>/);
  assertUsage(await runClient(["call", "a.b", "--bogus"]), /Unknown option '--bogus'/);
  assertUsage(
    await runClient(["call", "a.b", "--serializer", "xml", "--url", url]),
    /Invalid --serializer "xml"/,
  );
  assertUsage(
    await runClient(["publish", "a.b", "--kw", "novalue", "--url", url]),
    /--kw "novalue"/,
  );
  assertUsage(
    await runClient(["call", "a.b", "--repeat", "0", "--url", url]),
    /Invalid --repeat "0"/,
  );
  assertUsage(
    await runClient(["call", "a.b", "--parallel", "4", "--url", url]),
    /--parallel needs --repeat/,
  );
  assertUsage(await runClient(["subscribe", "--url", url]), /Missing <topic>/);
  // A timer past 2^31-1 ms would fire at once: refused.
  assertUsage(
    await runClient([
      "register",
      "a.b",
      "--exec",
      "true",
      "--exec-timeout",
      "3000000000",
      "--url",
      url,
    ]),
    /Invalid --exec-timeout "3000000000": expected an integer from 1 to 2147483647/,
  );
  assertUsage(
    await runClient(["call", "a.b", "--timeout", "3000000000", "--url", url]),
    /Invalid --timeout "3000000000"/,
  );
  assertUsage(
    await runClient(["register", "a.b", "--result", "1", "--exec", "true", "--url", url]),
    /--result or --exec/,
  );
  assertUsage(await runClient(["meta", "peers", "--url", url]), /Unknown "peers"/);
  assertUsage(
    await runClient(["call", "a.b", "--private-key", "/no/such/key", "--url", url]),
    /--private-key/,
  );
  // And a router that is not there is exit 1, not 2.
  const down = await runClient(["call", "a.b", "--url", url]);
  equal(down.code, 1);
  match(down.stderr, /^cloverleaf: Cannot connect/);
});

Deno.test("cli --help describes each client command and exits 0", async () => {
  for (const command of ["call", "publish", "subscribe", "register", "meta"]) {
    const out = await runClient([command, "--help"]);
    equal(out.code, 0, out.stderr);
    match(out.stdout, new RegExp(`^Usage: cloverleaf ${command} `));
    match(out.stdout, /--url <url>/);
    match(out.stdout, /Exit codes: 0 ok, 1 /);
  }
});

Deno.test("cli README: the command-line client's examples run as written (with --url added)", async () => {
  await using t = await startRouter();
  const [block] = await readmeBlocks("The command-line client");
  equal(block!.lang, "sh");
  const commands = readmeCommands(block!.text);
  ok(commands.length >= 8, "the block lists the commands");
  const background: RunningClient[] = [];
  let subscriber: RunningClient | undefined;
  try {
    for (const { args, background: bg, comment } of commands) {
      const full = [...args, "--url", t.url];
      if (bg) {
        const ready = args[0] === "subscribe" ? "Subscribed to" : "Registered";
        const client = await startClient(full, ready);
        background.push(client);
        if (args[0] === "subscribe") subscriber = client;
        continue;
      }
      const out = await runClient(full);
      equal(out.code, 0, `${args.join(" ")}: ${out.stderr}`);
      if (comment.startsWith("{")) equal(out.stdout, `${comment}\n`, args.join(" "));
      if (args.includes("--repeat")) match(out.stdout, /^1000 calls in /);
      if (args[0] === "meta") match(out.stdout, /"uri":"com\.example\.answer"/);
    }
    ok(subscriber, "the block has a subscriber");
    const events = await subscriber.finished();
    equal(events.code, 0, events.stderr);
    deepEqual(jsonLines(events), [{ args: ["hello"], kwargs: { from: "cli" }, details: {} }]);
  } finally {
    for (const client of background) await client[Symbol.asyncDispose]();
  }
});
