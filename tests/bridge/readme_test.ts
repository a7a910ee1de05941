/**
 * The "HTTP bridge" section's examples (docs/http-bridge.md) run as written: the quick-start
 * command (on a free port) with its curl lines, and the config file with
 * the signed-request shell recipe (curl and openssl in subprocesses).
 */

import { equal, match } from "node:assert/strict";
import { DENO_RUN, startService, withConfig } from "../cli/_service.ts";
import { docSection } from "../docs/_sections.ts";

/** The "HTTP bridge" section, wherever it is (README.md or docs/*.md). */
const SECTION = (await docSection("HTTP bridge")).text;

/** The code blocks of the section in a language, in order. */
function blocks(lang: string): string[] {
  return [...SECTION.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) =>
    m[1]!
  );
}

/** A block's commands: continuation lines joined, comments dropped. */
function commands(block: string): string[] {
  return block.replace(/\\\n\s*/g, "").split("\n").filter((l) =>
    l.trim() !== "" && !l.startsWith("#")
  );
}

/** Runs a shell script, returning stdout (fails on a non-zero exit). */
async function sh(script: string): Promise<string> {
  const out = await new Deno.Command("sh", {
    args: ["-c", script],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(20_000),
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  equal(out.code, 0, `sh failed: ${new TextDecoder().decode(out.stderr)}`);
  return text;
}

function portOf(url: string): number {
  return Number(new URL(url.replace(/^ws/, "http")).port);
}

Deno.test("docs (HTTP bridge): the quick start and its curl lines work as written", async () => {
  const [start, curls] = blocks("sh");
  const flags = start!.trim().replace(/^deno task start /, "").replace(
    "127.0.0.1:8080",
    "127.0.0.1:0",
  );
  await using service = await startService(Deno.execPath(), [...DENO_RUN, ...flags.split(/\s+/)]);
  const port = portOf(service.urls[0]!);
  const [publish, call, subscribe] = commands(curls!).map((c) =>
    c.replaceAll("127.0.0.1:8080", `127.0.0.1:${port}`)
  );
  match(subscribe!, /\/api\/subscribe/);

  // The subscriber streams until killed; it must see the publication.
  const curl = new Deno.Command("sh", {
    args: ["-c", `exec ${subscribe}`],
    stdout: "piped",
    stderr: "null",
  })
    .spawn();
  const reader = curl.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let streamed = "";
  const deadline = Date.now() + 10_000;
  while (!streamed.includes(": subscribed") && Date.now() < deadline) {
    streamed += (await reader.read()).value ?? "";
  }

  const published = JSON.parse(await sh(publish!));
  equal(typeof published.id, "number");
  const called = JSON.parse(await sh(call!));
  equal(typeof called.args[0], "number");

  while (!streamed.includes('"hello"') && Date.now() < deadline) {
    streamed += (await reader.read()).value ?? "";
  }
  match(
    streamed,
    new RegExp(`id: ${published.id}\\ndata: \\{"topic":"com.example.news","args":\\["hello"\\]`),
  );
  curl.kill("SIGKILL");
  await reader.cancel().catch(() => {});
  await curl.status;
});

Deno.test("docs (HTTP bridge): the config file and the signed-request recipe work as written", async () => {
  const [config] = blocks("json");
  const [, , recipe] = blocks("sh");
  const env = {
    BRIDGE_SECRET: "kitchen-sink-secret",
    BRIDGE_TOKEN: "tok-1234567890abcdef",
    USERS_API_TOKEN: "u",
  };
  await withConfig(config!.replace('"port": 8080', '"port": 0'), async (file) => {
    await using service = await startService(Deno.execPath(), [...DENO_RUN, "-c", file], { env });
    const port = portOf(service.urls[0]!);
    const script = recipe!.replaceAll("127.0.0.1:8080", `127.0.0.1:${port}`);
    const first = JSON.parse(await sh(script));
    equal(typeof first.id, "number");
    // The same script again draws a new nonce: accepted too. A replay of a fixed one (with a
    // fixed timestamp: two runs may fall in two seconds) is not.
    const now = `${new Date().toISOString().slice(0, 19)}.000Z`;
    const fixed = script.replace(/NONCE=\$\([^)]*\)\)?/, "NONCE=77")
      .replace(/TS=\$\(date [^)]*\)/, `TS=${now}`);
    equal(fixed.includes(`TS=${now}`), true, "the timestamp is fixed");
    equal(typeof JSON.parse(await sh(fixed)).id, "number");
    equal(JSON.parse(await sh(fixed)).error, "wamp.error.authentication_failed");
  });
});
