import { deepEqual, equal, match, ok } from "node:assert/strict";
import { parse } from "yaml";
import { generateSchema, SCHEMA_FILE } from "../../cli/schema.ts";
import { ROOT, runCli } from "../cli/_service.ts";
import { type AdminConfig, loadConfig } from "../../cli/service_config.ts";
import type { AdminFile } from "../../cli/config_file.ts";
import { parseFlags } from "../../cli/flags.ts";
import { ConfigErrors } from "../../config/mod.ts";
import { resolveRealmOptions } from "../../router/core/realm_options.ts";
import { allProperties, hasPath, validate } from "./_schema.ts";

const FULL = `${ROOT}tests/config/full_config.yaml`;
const schema = JSON.parse(await Deno.readTextFile(`${ROOT}${SCHEMA_FILE}`));
const full = parse(await Deno.readTextFile(FULL)) as Record<string, unknown>;

/** Runs `check` on a YAML text, with the TLS files and variables the full example names. */
async function check(yaml: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const dir = await Deno.makeTempDir({ prefix: "cloverleaf_full_" });
  try {
    for (const name of ["server.pem", "server.key", "ca.pem"]) {
      await Deno.writeTextFile(`${dir}/${name}`, "-----BEGIN PLACEHOLDER-----\n");
    }
    await Deno.writeTextFile(`${dir}/config.yaml`, yaml);
    return await runCli(["check", "-c", `${dir}/config.yaml`], {
      env: { FULL_CONFIG_DIR: dir, FULL_CONFIG_TICKET: "t0ps3cret" },
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("config/schema.json is what deno task schema generates from the config types", async () => {
  const fresh = await generateSchema(ROOT);
  equal(
    await Deno.readTextFile(`${ROOT}${SCHEMA_FILE}`),
    fresh,
    `${SCHEMA_FILE} is stale: run deno task schema`,
  );
});

Deno.test("check accepts the full example config, which names every key", async () => {
  const out = await check(await Deno.readTextFile(FULL));
  equal(out.stderr, "");
  equal(out.code, 0);
  match(out.stdout, /^config OK: 2 realms, 2 listeners/);
});

Deno.test("the schema accepts the full example: every key check accepts is in the schema", () => {
  deepEqual(validate(full, schema).errors, []);
});

Deno.test("the full example uses every key of the schema: every schema key is one check accepts", () => {
  const { used } = validate(full, schema);
  const unused = [...allProperties(schema)].filter((key) => !used.has(key));
  deepEqual(unused, [], `schema keys missing from full_config.yaml:\n${unused.join("\n")}`);
});

Deno.test("every key the checker asks for, present in the example or not, is in the schema", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloverleaf_full_" });
  const saved = ["FULL_CONFIG_DIR", "FULL_CONFIG_TICKET"].map((name) => [name, Deno.env.get(name)]);
  try {
    for (const name of ["server.pem", "server.key", "ca.pem"]) {
      await Deno.writeTextFile(`${dir}/${name}`, "-----BEGIN PLACEHOLDER-----\n");
    }
    Deno.env.set("FULL_CONFIG_DIR", dir);
    Deno.env.set("FULL_CONFIG_TICKET", "t0ps3cret");
    // What `check` does, in this process, noting every key the readers ask for.
    const errors = new ConfigErrors({ trace: true });
    const config = await loadConfig(parseFlags(["-c", FULL]), errors);
    config.realms.forEach((realm, i) =>
      errors.collect(
        (errors) => resolveRealmOptions(realm, `realms[${i}]`, { errors }),
        `realms[${i}]`,
      )
    );
    deepEqual(errors.messages, []);
    ok(errors.read.length > 100, `${errors.read.length} keys read`);
    const missing = errors.read.filter((path) => !hasPath(schema, path));
    deepEqual(missing, [], `keys the checker reads that the schema lacks:\n${missing.join("\n")}`);
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) Deno.env.delete(name!);
      else Deno.env.set(name!, value);
    }
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a misspelled key fails check and the schema, also next to another error", async () => {
  const bad = structuredClone(full);
  const listener = (bad.listeners as Record<string, unknown>[])[0]!;
  listener.compresion = listener.compression;
  listener.host = "not a host";
  const realm = (bad.realms as Record<string, unknown>[])[0]!;
  realm.limits = { ...realm.limits as object, callsPerSesion: 1 };
  const out = await check(JSON.stringify(bad));
  equal(out.code, 2);
  deepEqual(out.stderr.trimEnd().split("\n"), [
    'cloverleaf: Invalid config "listeners[0].host": expected an IPv4 or IPv6 address or a hostname, got "not a host"',
    'cloverleaf: Invalid config "listeners[0].compresion": unknown key',
    'cloverleaf: Invalid config "realms[0].limits.callsPerSesion": unknown key',
  ]);
  deepEqual(validate(bad, schema).errors, [
    "listeners[0].compresion: not in the schema",
    "realms[0].limits.callsPerSesion: not in the schema",
  ]);
});

Deno.test("the schema has a description for every top-level key and names $schema", () => {
  const top = schema.properties as Record<string, { description?: string }>;
  ok("$schema" in top);
  for (const [key, property] of Object.entries(top)) {
    ok((property.description ?? "").length > 0, `${key} has a description`);
  }
});

Deno.test("the admin listener's config has one source: the file's AdminFile, resolved as AdminConfig", () => {
  // Compile-time: AdminConfig is AdminFile with the defaults filled in, no key more or less.
  type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
  const keys: Same<keyof AdminConfig, keyof AdminFile> = true;
  const file: Same<Partial<AdminConfig>, AdminFile> = true;
  ok(keys && file);
  equal(schema.properties.admin.$ref, "#/$defs/AdminFile");
});
