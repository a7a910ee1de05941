/**
 * Generates `config/schema.json`, the JSON Schema of the config file, from
 * the TypeScript types the config is read into: {@linkcode ConfigFile} and
 * every type it names (`ListenerOptions`, `RealmOptions`, `AuthOptions`,
 * …), as `deno doc --json` describes them. One source of truth: a key
 * added to those types (with its JSDoc) is in the schema after
 * `deno task schema`; `deno task schema --check` fails while the file is
 * stale.
 *
 * Types map as JSON can hold them: optional properties are not required,
 * objects take no other keys, `Record<string, T>` is a map, string
 * literal unions are enums, and function types (an authenticator given in
 * code) are left out of unions.
 *
 * @module
 */

import type { ConfigFile } from "./config_file.ts";

/** A JSON Schema (the subset this generator writes). */
export type JsonSchema = { [key: string]: unknown };

/** One node of `deno doc --json`'s type descriptions. */
interface TsType {
  kind: string;
  repr?: string;
  // deno-lint-ignore no-explicit-any
  value?: any;
}

/** A property or declaration of `deno doc --json`. */
interface DocProperty {
  name: string;
  optional?: boolean;
  tsType?: TsType;
  jsDoc?: { doc?: string; tags?: { kind: string; value?: string }[] };
  location: { filename: string };
}

interface Declaration {
  kind: string;
  location: { filename: string };
  jsDoc?: DocProperty["jsDoc"];
  def?: {
    properties?: DocProperty[];
    extends?: TsType[];
    tsType?: TsType;
  };
}

/** `deno doc --json` output: modules by URL, their symbols by name. */
export interface DocJson {
  nodes: Record<string, { symbols?: { name: string; declarations: Declaration[] }[] }>;
}

/** The root type: the file's top-level keys. */
const ROOT: keyof { ConfigFile: ConfigFile } = "ConfigFile";
/** Where the schema is written, from the repository root. */
export const SCHEMA_FILE = "config/schema.json";
/** The modules whose types the config is read into (with what they import). */
export const SOURCES = [
  "cli/config_file.ts",
  "bridge/config.ts",
  "cluster/node.ts",
  "router/mod.ts",
  "router/logger.ts",
  "router/core/realm_options.ts",
  "router/core/auth/mod.ts",
  "router/core/auth/config.ts",
  "router/core/auth/scram.ts",
  "router/core/auth/authentication_failures.ts",
  "router/core/permissions.ts",
  "router/core/limits.ts",
  "transports/config.ts",
  "transports/listener_options.ts",
  "wamp/mod.ts",
  "wamp/auth/scram.ts",
];

/** A type with no JSON form (a function, `null`): left out of unions and objects. */
const FUNCTION = Symbol("function");
type Out = JsonSchema | typeof FUNCTION;

/**
 * Builds the schema from `deno doc --json` output.
 *
 * @param doc The output of `deno doc --json --private` over {@linkcode SOURCES}.
 * @returns The JSON Schema of {@linkcode ConfigFile}.
 * @throws {TypeError} For a type JSON cannot hold (named in the message).
 */
export function buildSchema(doc: DocJson): JsonSchema {
  const byName = new Map<string, Declaration>();
  for (const module of Object.values(doc.nodes)) {
    for (const symbol of module.symbols ?? []) {
      const declaration = symbol.declarations.find((d) =>
        d.kind === "interface" || d.kind === "typeAlias"
      );
      if (declaration === undefined) continue;
      const seen = byName.get(symbol.name);
      if (seen !== undefined && seen.location.filename !== declaration.location.filename) {
        throw new TypeError(`Two config types are named ${symbol.name}: rename one`);
      }
      byName.set(symbol.name, declaration);
    }
  }
  const defs: Record<string, JsonSchema> = {};
  const lookup = (name: string): Declaration => {
    const declaration = byName.get(name);
    if (declaration === undefined) throw new TypeError(`Config type ${name} not found`);
    return declaration;
  };

  /** The properties of an object type, for objects and intersections. */
  const objectParts = (type: TsType): { properties: DocProperty[] } => {
    if (type.kind === "typeLiteral") return { properties: type.value.properties ?? [] };
    if (type.kind === "intersection") {
      return { properties: (type.value as TsType[]).flatMap((t) => objectParts(t).properties) };
    }
    if (type.kind === "typeRef") {
      const declaration = lookup(type.value.typeName);
      if (declaration.kind === "typeAlias") return objectParts(declaration.def!.tsType!);
      return { properties: interfaceProperties(declaration) };
    }
    throw new TypeError(`Cannot read ${type.repr ?? type.kind} as an object`);
  };
  const interfaceProperties = (declaration: Declaration): DocProperty[] => [
    ...(declaration.def?.extends ?? []).flatMap((t) => objectParts(t).properties),
    ...(declaration.def?.properties ?? []),
  ];
  const object = (properties: DocProperty[]): JsonSchema => {
    const props: Record<string, JsonSchema> = {};
    const required: string[] = [];
    for (const property of properties) {
      const schema = convert(property.tsType!, property.name);
      if (schema === FUNCTION) continue; // a function only: code, not a file
      props[property.name] = { ...describe(property.jsDoc), ...schema };
      if (property.optional !== true) required.push(property.name);
    }
    return {
      type: "object",
      properties: props,
      ...(required.length > 0 ? { required } : {}),
      additionalProperties: false,
    };
  };
  const named = (name: string): Out => {
    if (defs[name] !== undefined) return { $ref: `#/$defs/${name}` };
    const declaration = lookup(name);
    if (declaration.kind === "typeAlias") {
      const schema = convert(declaration.def!.tsType!, name);
      if (schema === FUNCTION) return FUNCTION;
      // Aliases of literal unions and such are inlined.
      return schema;
    }
    defs[name] = {}; // placeholder: recursion-safe
    defs[name] = { ...describe(declaration.jsDoc), ...object(interfaceProperties(declaration)) };
    return { $ref: `#/$defs/${name}` };
  };
  const convert = (type: TsType, where: string): Out => {
    switch (type.kind) {
      case "keyword":
        if (["string", "number", "boolean"].includes(type.value)) return { type: type.value };
        if (type.value === "unknown") return {};
        // `x | null` (a KDF without memory): the file leaves the key out.
        if (type.value === "null" || type.value === "undefined") return FUNCTION;
        break;
      case "literal":
        return { const: type.value[type.value.kind] };
      case "array":
        return items(convert(type.value, where), where);
      case "typeOperator":
        if (type.value.operator === "readonly") return convert(type.value.tsType, where);
        break;
      case "parenthesized":
        return convert(type.value, where);
      case "fnOrConstructor":
        return FUNCTION;
      case "typeLiteral":
      case "intersection":
        return object(objectParts(type).properties);
      case "union":
        return union((type.value as TsType[]).map((t) => convert(t, where)), where);
      case "typeRef":
        return reference(type, where);
    }
    throw new TypeError(`Cannot express ${where}: ${type.repr ?? type.kind} in JSON Schema`);
  };
  const items = (schema: Out, where: string): JsonSchema => {
    if (schema === FUNCTION) throw new TypeError(`Cannot express ${where}: an array of functions`);
    return { type: "array", items: schema };
  };
  const reference = (type: TsType, where: string): Out => {
    const name: string = type.value.typeName;
    const args: TsType[] = type.value.typeParams ?? [];
    if (name === "Array" || name === "ReadonlyArray") return items(convert(args[0]!, where), where);
    if (name === "Partial") {
      const { required: _, ...schema } = resolveObject(convert(args[0]!, where));
      return schema;
    }
    if (name === "Record") {
      const value = convert(args[1]!, where);
      if (value === FUNCTION) throw new TypeError(`Cannot express ${where}: a map of functions`);
      const keys = convert(args[0]!, where);
      if (keys !== FUNCTION && Array.isArray(keys.enum)) {
        return {
          type: "object",
          properties: Object.fromEntries(keys.enum.map((key: string) => [key, value])),
          required: keys.enum,
          additionalProperties: false,
        };
      }
      return { type: "object", additionalProperties: value };
    }
    return named(name);
  };
  const resolveObject = (schema: Out): JsonSchema => {
    if (schema === FUNCTION) throw new TypeError("Cannot make a function partial");
    const ref = schema.$ref;
    return typeof ref === "string" ? defs[ref.slice("#/$defs/".length)]! : schema;
  };
  const root = named(ROOT);
  if (root === FUNCTION) throw new TypeError(`${ROOT} is a function`);
  const { [ROOT]: top, ...rest } = defs;
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: "Cloverleaf router config file",
    ...top,
    $defs: Object.fromEntries(Object.entries(rest).sort(([a], [b]) => a.localeCompare(b))),
  };
}

/** A union: literals of one type become an enum; functions are dropped. */
function union(members: Out[], where: string): Out {
  const schemas = members.filter((m): m is JsonSchema => m !== FUNCTION);
  if (schemas.length === 0) return FUNCTION;
  // `boolean` is written as `true | false` by deno doc.
  const flat = schemas.flatMap((s) => Array.isArray(s.anyOf) ? s.anyOf as JsonSchema[] : [s]);
  const consts = flat.filter((s) => "const" in s);
  const others = flat.filter((s) => !("const" in s));
  const out: JsonSchema[] = [...others];
  if (consts.length > 0) {
    const values = consts.map((s) => s.const);
    if (values.length === 2 && values.includes(true) && values.includes(false)) {
      out.push({ type: "boolean" });
    } else if (values.length === 1) out.push({ const: values[0] });
    else out.push({ enum: values });
  }
  if (out.length === 0) throw new TypeError(`Cannot express ${where}`);
  return out.length === 1 ? out[0]! : { anyOf: out };
}

/** `description` (and `default`) from JSDoc. */
function describe(jsDoc: DocProperty["jsDoc"]): JsonSchema {
  if (jsDoc?.doc === undefined) return {};
  let text = jsDoc.doc;
  let fallback: unknown;
  const inline = /\s*@default \{(.*)\}\s*$/s.exec(text);
  const tag = jsDoc.tags?.find((t) => t.kind === "default")?.value;
  const value = inline?.[1] ?? tag?.replace(/^\{(.*)\}$/s, "$1");
  if (inline !== null) text = text.slice(0, inline.index);
  if (value !== undefined) {
    try {
      fallback = JSON.parse(value);
    } catch {
      // Prose ("the realm itself"): described, not a value.
      text = `${text.trim()} Default: ${value}.`;
    }
  }
  const description = text.replace(/\{@linkcode ([^}]+)\}/g, "$1").replace(/\s+/g, " ").trim();
  return {
    ...(description === "" ? {} : { description }),
    ...(fallback === undefined ? {} : { default: fallback }),
  };
}

/**
 * Runs `deno doc --json` over {@linkcode SOURCES} and builds the schema.
 *
 * @param root The repository root.
 * @returns The schema, formatted as the file holds it.
 */
export async function generateSchema(root: string): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", "--private", ...SOURCES],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`deno doc failed: ${new TextDecoder().decode(out.stderr).split("\n")[0]}`);
  }
  const doc = JSON.parse(new TextDecoder().decode(out.stdout)) as DocJson;
  return `${JSON.stringify(buildSchema(doc), null, 2)}\n`;
}

if (import.meta.main) {
  const root = new URL("../", import.meta.url).pathname;
  const schema = await generateSchema(root);
  const file = `${root}${SCHEMA_FILE}`;
  if (Deno.args.includes("--check")) {
    const current = await Deno.readTextFile(file).catch(() => "");
    if (current !== schema) {
      console.error(`${SCHEMA_FILE} is stale: run deno task schema`);
      Deno.exit(1);
    }
    console.log(`${SCHEMA_FILE} is up to date`);
  } else {
    await Deno.writeTextFile(file, schema);
    console.log(`wrote ${SCHEMA_FILE}`);
  }
}
