/**
 * `--log-format` and the config file's `logFormat`: the service as a child
 * process prints JSON lines (level, time, msg, fields) from its start to
 * its shutdown; a bad value is one error line naming the flag or key.
 */

import { equal, match, ok } from "node:assert/strict";
import { connect } from "../../mod.ts";
import { until, within } from "../_helpers/router.ts";
import { assertUsageError, DENO_RUN, runCli, startService, withConfig } from "./_service.ts";

/** Parses every line as JSON, failing on the first that is not an object with level, time, msg. */
function parseLines(lines: readonly string[]): Record<string, unknown>[] {
  return lines.filter((l) => l !== "").map((line) => {
    let value: Record<string, unknown>;
    try {
      value = JSON.parse(line);
    } catch {
      throw new Error(`not a JSON line: ${line}`);
    }
    ok(["debug", "info", "warn", "error"].includes(String(value.level)), line);
    equal(new Date(String(value.time)).toISOString(), value.time, line);
    equal(typeof value.msg, "string", line);
    return value;
  });
}

Deno.test("cli --log-format json prints JSON lines from start to shutdown", async () => {
  await using service = await startService(Deno.execPath(), [
    ...DENO_RUN,
    "--listen",
    "127.0.0.1:0",
    "--realm",
    "com.example.logs",
    "--log-format",
    "json",
  ]);
  const start = parseLines(service.lines);
  const added = start.find((l) => l.msg === 'Realm "com.example.logs" added');
  equal(added?.realm, "com.example.logs");
  const listening = start.find((l) => /^Listening on /.test(String(l.msg)))!;
  ok(listening, service.lines.join("\n"));
  equal(listening.level, "info");
  equal(listening.transports, "websocket, rawsocket, longpoll");
  match(String(listening.listener), /^ws:\/\/127\.0\.0\.1:\d+\/ws, tcp:\/\//);
  equal(listening.realms, "com.example.logs");

  const session = await within(connect(service.urls[0]!, { realm: "com.example.logs" }), 10_000);
  await until(() => service.lines.some((l) => l.includes(" joined realm")), 5000, "the join line");
  const status = await service.stop("SIGTERM");
  equal(status.code, 0);
  await session.close();
  const all = parseLines(service.lines);
  const joined = all.find((l) => / joined realm/.test(String(l.msg)))!;
  equal(joined.realm, "com.example.logs");
  equal(joined.transport, "websocket");
  equal(joined.authrole, "anonymous");
  ok(all.some((l) => /Router shutting down/.test(String(l.msg))));
  ok(all.some((l) => /^Listener on .* closed$/.test(String(l.msg))));
  equal(all.at(-1)?.msg, "Stopped");
  equal(await service.stderr(), "", "nothing at warn or error");
});

Deno.test("cli text logs stay key=value, and logFormat in the config file is read", async () => {
  const config = JSON.stringify({ logFormat: "json", realms: [{ name: "realm1" }] });
  await withConfig(config, async (file) => {
    await using service = await startService(Deno.execPath(), [
      ...DENO_RUN,
      "-c",
      file,
      "--ws",
      "127.0.0.1:0",
    ]);
    parseLines(service.lines);
    equal(service.lines.length >= 2, true);
  });
  await using text = await startService(Deno.execPath(), [...DENO_RUN, "--ws", "127.0.0.1:0"]);
  match(
    text.lines.find((l) => l.includes("added"))!,
    /^\S+Z INFO Realm "realm1" added realm=realm1$/,
  );
});

Deno.test("cli rejects a bad --log-format and logFormat with one line naming them", async () => {
  assertUsageError(
    await runCli(["--log-format", "xml", "--ws", "127.0.0.1:0"]),
    /^cloverleaf: Invalid --log-format "xml": expected one of "text", "json"$/,
  );
  await withConfig(JSON.stringify({ logFormat: "yaml" }), async (file) => {
    assertUsageError(
      await runCli(["-c", file]),
      /Invalid config "logFormat": expected one of "text", "json", got "yaml"/,
    );
  });
  const checked = await runCli(["check", "--log-format", "xml"]);
  equal(checked.code, 2);
  match(checked.stderr, /--log-format/);
});
