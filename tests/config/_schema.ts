/**
 * A small JSON Schema validator for the subset `cli/schema.ts` writes
 * ($ref into $defs, type, const, enum, anyOf, properties, required,
 * additionalProperties, items), which also records which properties of
 * which object schemas a value used: the drift test checks that a full
 * example config uses every property the schema has.
 */

type Schema = { [key: string]: unknown };

/** What {@linkcode validate} found. */
export interface Validation {
  /** One line per problem: `<path>: <what>`. */
  errors: string[];
  /** The properties used, as `<schema pointer> <key>`. */
  used: Set<string>;
}

/**
 * Validates `value` against `root`.
 *
 * @param value The parsed config.
 * @param root The schema.
 * @returns The problems and the properties used.
 */
export function validate(value: unknown, root: Schema): Validation {
  const used = new Set<string>();
  const errors = check(value, root, "#", "", root, used);
  return { errors, used };
}

function resolve(schema: Schema, pointer: string, root: Schema): [Schema, string] {
  const ref = schema.$ref;
  if (typeof ref !== "string") return [schema, pointer];
  const name = ref.replace("#/$defs/", "");
  const target = (root.$defs as Record<string, Schema>)[name];
  if (target === undefined) throw new Error(`no $defs/${name}`);
  return [target, ref];
}

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

function check(
  value: unknown,
  raw: Schema,
  rawPointer: string,
  path: string,
  root: Schema,
  used: Set<string>,
): string[] {
  const [schema, pointer] = resolve(raw, rawPointer, root);
  const at = path === "" ? "(top)" : path;
  if (Array.isArray(schema.anyOf)) {
    const failures: string[] = [];
    for (const [i, branch] of (schema.anyOf as Schema[]).entries()) {
      const branchUsed = new Set<string>();
      const errors = check(value, branch, `${pointer}/anyOf/${i}`, path, root, branchUsed);
      if (errors.length === 0) {
        for (const key of branchUsed) used.add(key);
        return [];
      }
      failures.push(...errors);
    }
    return [`${at}: matches no alternative (${failures.join("; ")})`];
  }
  if ("const" in schema && value !== schema.const) {
    return [`${at}: expected ${JSON.stringify(schema.const)}`];
  }
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) {
    return [`${at}: expected one of ${JSON.stringify(schema.enum)}`];
  }
  const type = schema.type;
  if (typeof type === "string" && typeOf(value) !== type) {
    return [`${at}: expected ${type}, got ${typeOf(value)}`];
  }
  if (type === "array") {
    const items = schema.items as Schema;
    return (value as unknown[]).flatMap((item, i) =>
      check(item, items, `${pointer}/items`, `${path}[${i}]`, root, used)
    );
  }
  if (type !== "object") return [];
  const object = value as Record<string, unknown>;
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  const errors: string[] = [];
  for (const key of (schema.required ?? []) as string[]) {
    if (!(key in object)) errors.push(`${path === "" ? key : `${path}.${key}`}: missing`);
  }
  for (const [key, item] of Object.entries(object)) {
    const below = path === "" ? key : `${path}.${key}`;
    const property = properties[key];
    if (property !== undefined) {
      used.add(`${pointer} ${key}`);
      errors.push(...check(item, property, `${pointer}/properties/${key}`, below, root, used));
    } else if (schema.additionalProperties === false) {
      errors.push(`${below}: not in the schema`);
    } else if (typeof schema.additionalProperties === "object") {
      const extra = schema.additionalProperties as Schema;
      errors.push(
        ...check(item, extra, `${pointer}/additionalProperties`, below, root, used),
      );
    }
  }
  return errors;
}

/**
 * Every property of every object schema reachable from the top, as
 * `<schema pointer> <key>` (the form {@linkcode Validation.used} has).
 *
 * @param root The schema.
 * @returns The properties.
 */
export function allProperties(root: Schema): Set<string> {
  const out = new Set<string>();
  const seen = new Set<string>();
  const walk = (raw: Schema, rawPointer: string): void => {
    const [schema, pointer] = resolve(raw, rawPointer, root);
    if (seen.has(pointer)) return;
    seen.add(pointer);
    for (const [i, branch] of ((schema.anyOf ?? []) as Schema[]).entries()) {
      walk(branch, `${pointer}/anyOf/${i}`);
    }
    if (typeof schema.items === "object") walk(schema.items as Schema, `${pointer}/items`);
    if (typeof schema.additionalProperties === "object") {
      walk(schema.additionalProperties as Schema, `${pointer}/additionalProperties`);
    }
    for (const [key, property] of Object.entries((schema.properties ?? {}) as Schema)) {
      out.add(`${pointer} ${key}`);
      walk(property as Schema, `${pointer}/properties/${key}`);
    }
  };
  walk(root, "#");
  return out;
}

/**
 * Whether the schema has the key at `path` (`realms[0].auth.ticket.principals.tina.role`):
 * walked through properties, maps (additionalProperties), array items and
 * any alternative.
 *
 * @param root The schema.
 * @param path A key's path, as config errors name it.
 * @returns Whether the schema allows a key there.
 */
export function hasPath(root: Schema, path: string): boolean {
  const segments = [...path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) =>
    m[2] === undefined ? { key: m[1]! } : { index: Number(m[2]) }
  );
  const walk = (raw: Schema, i: number): boolean => {
    const [schema] = resolve(raw, "", root);
    if (i === segments.length) return true;
    if (Array.isArray(schema.anyOf)) {
      return (schema.anyOf as Schema[]).some((branch) => walk(branch, i));
    }
    const segment = segments[i]!;
    if ("index" in segment) {
      return typeof schema.items === "object" && walk(schema.items as Schema, i + 1);
    }
    const property = (schema.properties as Record<string, Schema> | undefined)?.[segment.key];
    if (property !== undefined) return walk(property, i + 1);
    return typeof schema.additionalProperties === "object" &&
      walk(schema.additionalProperties as Schema, i + 1);
  };
  return walk(root, 0);
}
