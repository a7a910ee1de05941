/**
 * Every config example in README.md and docs/*.md works as written:
 *
 * - each ```json and ```yaml block (unless the line before it is
 *   `<!-- not a config -->`) passes `cloverleaf check` (a subprocess, as an
 *   operator runs it). A block whose top level is one realm (it has a `name`
 *   and no `realms`) is checked inside `{"realms": [block]}`.
 * - each credential in it (ticket, WAMP-CRA, WAMP-SCRAM and cryptosign
 *   principals) logs in with what the text shows next to it: the
 *   `cloverleaf …` lines of the sh blocks that follow the example (up to the
 *   next config example) give the login flags, and `NAME=value` words at the
 *   start of their lines the `${NAME}` values. The service is started with
 *   the example's realms and each login runs through the client command's
 *   own flag mapping (`connectOptions`); the session must get the
 *   principal's authid, authmethod and role. A credential no line logs in
 *   with fails the test, so no example can show a placeholder.
 *
 * @module
 */

import { equal, ok } from "node:assert/strict";
import { parseArgs } from "node:util";
import { parse as parseYaml } from "yaml";
import { connect } from "../../client/mod.ts";
import { CONNECT_OPTIONS, type ConnectFlags, connectOptions } from "../../cli/client/connect.ts";
import { within } from "../_helpers/router.ts";
import { testPki } from "../_helpers/tls.ts";
import { readmeCommands } from "../cli/_client.ts";
import { DENO_RUN, runCli, startService } from "../cli/_service.ts";
import { type CodeBlock, codeBlocks, docFiles, DOCS_ROOT } from "./_sections.ts";

/** The marker that excludes a json/yaml block that is not a config file. */
const NOT_A_CONFIG = "<!-- not a config -->";

/** The flags that carry a credential: a `cloverleaf` line with one is a login. */
const CREDENTIAL_FLAGS = ["--ticket", "--secret", "--password", "--private-key"];

/** A config example, with the sh lines that follow it. */
interface Example {
  file: string;
  line: number;
  block: CodeBlock;
  /** The config as the service reads it (a realm block wrapped in `realms`). */
  config: Record<string, unknown>;
  /** Whether the block is one realm, checked inside `{"realms": [block]}`. */
  wrapped: boolean;
  /** Values for the `${NAME}` the config uses, from `NAME=value` in the following sh blocks. */
  env: Record<string, string>;
  /** The `cloverleaf` argument lists with a credential flag, in order. */
  logins: string[][];
}

/** A principal a config defines: how it logs in and as what. */
interface Principal {
  realm: string;
  authmethod: string;
  authid: string;
  role: string;
}

/** `auth` keys → the authmethod WELCOME names, and where the principals are. */
const METHODS = [
  { key: "ticket", table: "principals", authmethod: "ticket" },
  { key: "wampcra", table: "users", authmethod: "wampcra" },
  { key: "scram", table: "users", authmethod: "wamp-scram" },
  { key: "cryptosign", table: "principals", authmethod: "cryptosign" },
] as const;

type Dict = Record<string, unknown>;

function isDict(value: unknown): value is Dict {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Every config example of README.md and docs/*.md, in file order. */
async function examples(): Promise<Example[]> {
  const out: Example[] = [];
  for (const file of await docFiles()) {
    const text = await Deno.readTextFile(`${DOCS_ROOT}${file}`);
    const blocks = codeBlocks(text);
    const isConfig = (b: CodeBlock) =>
      (b.lang === "json" || b.lang === "yaml") && b.before.trim() !== NOT_A_CONFIG;
    blocks.forEach((block, i) => {
      if (!isConfig(block)) return;
      const line = block.line;
      let parsed: unknown;
      try {
        parsed = block.lang === "yaml" ? parseYaml(block.text) : JSON.parse(block.text);
      } catch (error) {
        throw new Error(`${file}:${line}: the ${block.lang} block does not parse: ${error}`);
      }
      ok(isDict(parsed), `${file}:${line}: a config is an object`);
      const wrapped = "name" in parsed && !("realms" in parsed);
      const config = wrapped ? { realms: [parsed] } : parsed;
      const next = blocks.slice(i + 1);
      const end = next.findIndex(isConfig);
      const following = next.slice(0, end < 0 ? undefined : end).filter((b) => b.lang === "sh");
      const env: Record<string, string> = {};
      const logins: string[][] = [];
      for (const sh of following) {
        for (const row of sh.text.split("\n")) {
          // `NAME=value NAME2=value command …`: the assignments before the command.
          for (const word of row.trim().split(/\s+/)) {
            const m = /^([A-Z][A-Z0-9_]*)=(.+)$/.exec(word);
            if (!m) break;
            env[m[1]!] = m[2]!;
          }
        }
        for (const { args } of readmeCommands(sh.text)) {
          if (args.some((a) => CREDENTIAL_FLAGS.includes(a))) logins.push(args);
        }
      }
      out.push({ file, line, block, config, wrapped, env, logins });
    });
  }
  return out;
}

/** The static principals of a config's realms. */
function principals(config: Dict): Principal[] {
  const out: Principal[] = [];
  for (const realm of Array.isArray(config.realms) ? config.realms : []) {
    if (!isDict(realm) || !isDict(realm.auth)) continue;
    for (const { key, table, authmethod } of METHODS) {
      const method = realm.auth[key];
      const entries = isDict(method) && isDict(method[table]) ? method[table] : {};
      for (const [authid, principal] of Object.entries(entries)) {
        const role = isDict(principal) ? String(principal.role) : "";
        out.push({ realm: String(realm.name), authmethod, authid, role });
      }
    }
  }
  return out;
}

/** The `${NAME}` a text uses. */
function envNames(text: string): string[] {
  return [
    ...new Set([...text.matchAll(/(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]!)),
  ];
}

/** The listeners' TLS files (`cert`, `key`, `ca`) that do not exist, each with a test PKI file. */
async function tlsFiles(config: Dict): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for (const listener of Array.isArray(config.listeners) ? config.listeners : []) {
    const tls = isDict(listener) && isDict(listener.tls) ? listener.tls : {};
    for (const [key, file] of [["cert", "server.pem"], ["key", "server.key"], ["ca", "ca.pem"]]) {
      const path = tls[key!];
      if (typeof path !== "string") continue;
      const exists = await Deno.stat(path).then(() => true, () => false);
      if (!exists) out.push([path, `${(await testPki()).dir}/${file}`]);
    }
  }
  return out;
}

/** Writes `content` to a temp file with `suffix` for the duration of `fn`. */
async function withFile<T>(
  suffix: string,
  content: string,
  fn: (f: string) => Promise<T>,
): Promise<T> {
  const file = await Deno.makeTempFile({ prefix: "cloverleaf_doc_", suffix });
  try {
    await Deno.writeTextFile(file, content);
    return await fn(file);
  } finally {
    await Deno.remove(file);
  }
}

const EXAMPLES = await examples();

Deno.test("docs: the config examples are found (README.md and docs/*.md)", () => {
  const files = new Set(EXAMPLES.map((e) => e.file));
  ok(files.has("README.md"), "README.md has a config example");
  ok(files.has("docs/config.md") && files.has("docs/features.md"), [...files].join(", "));
  ok(EXAMPLES.length >= 8, `${EXAMPLES.length} examples`);
  const withLogins = EXAMPLES.filter((e) => principals(e.config).length > 0);
  ok(withLogins.length >= 2, "examples with credentials");
});

for (const example of EXAMPLES) {
  const where = `${example.file}:${example.line}`;
  Deno.test(`docs: ${where} (${example.block.lang}) passes check and its credentials log in`, async () => {
    // Variables the text gives no value for get a placeholder (fine for check; a ticket
    // taken from one then cannot log in, and the test says so).
    const env: Record<string, string> = {};
    for (const name of envNames(example.block.text)) {
      env[name] = example.env[name] ?? "placeholder-of-16-chars";
    }
    // The block as written, unless it is one realm; TLS files that do not exist here
    // (`/etc/…`) are the throwaway test PKI's.
    let [suffix, content] = example.wrapped
      ? [".json", JSON.stringify(example.config)]
      : [`.${example.block.lang}`, example.block.text];
    for (const [path, pki] of await tlsFiles(example.config)) {
      content = content.replaceAll(path, pki);
    }
    await withFile(suffix, content, async (file) => {
      const out = await runCli(["check", "-c", file], { env });
      equal(out.code, 0, `${where}: check: ${out.stderr}`);
      equal(out.stderr, "", `${where}: check`);
    });

    const expected = principals(example.config);
    if (expected.length === 0) return;
    ok(example.logins.length > 0, `${where}: no \`cloverleaf\` login lines follow the example`);
    const realms = example.config.realms;
    const service: Dict = { realms };
    if (example.config.trustedRole !== undefined) service.trustedRole = example.config.trustedRole;
    await withFile(".json", JSON.stringify(service), async (file) => {
      await using router = await startService(
        Deno.execPath(),
        [...DENO_RUN, "-c", file, "--listen", "127.0.0.1:0"],
        { env },
      );
      const loggedIn = new Set<string>();
      for (const args of example.logins) {
        const { values } = parseArgs({
          args,
          options: CONNECT_OPTIONS,
          strict: false,
          allowPositionals: true,
        });
        const { options } = await connectOptions(values as ConnectFlags);
        const session = await within(
          connect(router.urls[0]!, options),
          30_000,
          `${where}: cloverleaf ${args.join(" ")}`,
        ).catch((error) => {
          throw new Error(`${where}: cloverleaf ${args.join(" ")}: ${error}`);
        });
        const { authid, authrole, authmethod } = session.details;
        const principal = expected.find((p) =>
          p.authid === authid && p.authmethod === authmethod && p.realm === session.realm
        );
        ok(principal, `${where}: ${args.join(" ")} logged in as ${authid} (${authmethod})`);
        equal(authrole, principal.role, `${where}: ${authid}'s role`);
        loggedIn.add(`${authmethod}:${authid}`);
        await session.close();
      }
      for (const p of expected) {
        ok(
          loggedIn.has(`${p.authmethod}:${p.authid}`),
          `${where}: no line logs in as ${p.authid} (${p.authmethod}) with the credentials shown`,
        );
      }
    });
  });
}
