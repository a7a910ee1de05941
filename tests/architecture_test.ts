/**
 * The layout's rules, checked on the source tree (ARCHITECTURE.md):
 * no import cycles (type-only imports included), imports only go the
 * allowed ways between folders, `router/core/` stays pure, and files stay
 * small. `KNOWN` lists what does not meet a rule yet; an entry that has
 * become true fails the test until it is removed, so the list only shrinks.
 *
 * @module
 */

import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { deepEqual } from "node:assert/strict";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const SOURCE_DIRS = ["wamp", "config", "router", "cluster", "transports", "client", "cli"];

/** Files over the size limit that may stay so: pure codecs and spec tables. */
const LARGE_OK = new Set(["wamp/messages.ts", "transports/websocket/framing.ts"]);
const MAX_LINES = 400;

/** What does not meet a rule yet (to be emptied, never grown). */
const KNOWN = {
  cycles: [] as string[],
  layering: [] as string[],
  impure: [] as string[],
  large: [] as string[],
};

function sourceFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".ts")) out.push(path);
    }
  };
  for (const dir of SOURCE_DIRS) walk(dir);
  return [...out, "mod.ts", "cli.ts"].sort();
}

/** Code without comments (JSDoc examples import the package by name). */
function code(file: string): string {
  return readFileSync(join(ROOT, file), "utf8")
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

/** The repository files a file imports (relative specifiers, type-only included). */
function imports(file: string): string[] {
  const found: string[] = [];
  const pattern = /(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\.{1,2}\/[^"']+)["']/g;
  for (const match of code(file).matchAll(pattern)) {
    found.push(normalize(join(dirname(file), match[1]!)));
  }
  return found;
}

const FILES = sourceFiles();
const GRAPH = new Map(FILES.map((file) => [file, imports(file)]));

/** Every cycle, each named by its files in order from the smallest name. */
function cycles(): string[] {
  const found = new Set<string>();
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, "open");
    stack.push(file);
    for (const next of GRAPH.get(file) ?? []) {
      if (state.get(next) === "open") {
        const loop = stack.slice(stack.indexOf(next));
        const start = loop.indexOf([...loop].sort()[0]!);
        found.add([...loop.slice(start), ...loop.slice(0, start)].join(" -> "));
      } else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of FILES) if (!state.has(file)) visit(file);
  return [...found].sort();
}

/** Which folders each folder may import (besides itself). */
const ALLOWED: Record<string, readonly string[]> = {
  wamp: [],
  config: ["wamp"],
  "router/core": ["wamp", "config"],
  router: ["wamp", "config", "router/core", "cluster"],
  cluster: ["wamp", "config", "router/core"],
  transports: ["wamp", "config", "router", "router/core"],
  client: ["wamp", "transports"],
};

/** The server side of transports, which the client never imports. */
const SERVER_SIDE = /(server|deno_serve|listener|negotiate|http_server|origin|config)\.ts$/;

function layer(file: string): string {
  if (file.startsWith("router/core/")) return "router/core";
  return file.split("/")[0]!;
}

function layering(): string[] {
  const wrong: string[] = [];
  for (const [file, targets] of GRAPH) {
    const from = layer(file);
    const allowed = ALLOWED[from];
    if (allowed === undefined) continue; // mod.ts, cli.ts, cli/: the service wires everything
    for (const target of targets) {
      if (!target.endsWith(".ts")) continue; // deno.json: the package version
      const to = layer(target);
      if (to !== from && !allowed.includes(to)) wrong.push(`${file} -> ${target}`);
      else if (from === "client" && SERVER_SIDE.test(target)) wrong.push(`${file} -> ${target}`);
    }
  }
  return wrong.sort();
}

const IMPURE =
  /\b(setTimeout|setInterval|clearTimeout|Date\.now|performance\.now|Deno\.|new Promise|Promise\.|async\s|await\s)|\.then\(|new Date\(\)/;

function impure(): string[] {
  return FILES.filter((file) => file.startsWith("router/core/") && IMPURE.test(code(file)));
}

function large(): string[] {
  return FILES.filter((file) =>
    !LARGE_OK.has(file) &&
    readFileSync(join(ROOT, file), "utf8").split("\n").length > MAX_LINES
  );
}

Deno.test("no import cycles, type-only imports included", () => {
  deepEqual(cycles(), KNOWN.cycles);
});

Deno.test("imports go only the allowed ways between folders", () => {
  deepEqual(layering(), KNOWN.layering);
});

Deno.test("router/core uses no timers, clock, promises or Deno APIs", () => {
  deepEqual(impure(), KNOWN.impure);
});

Deno.test(`source files stay under ${MAX_LINES} lines, codecs and spec tables aside`, () => {
  deepEqual(large(), KNOWN.large);
});

Deno.test("the checks see the whole tree", () => {
  deepEqual(FILES.includes("router/router.ts") && FILES.includes("wamp/messages.ts"), true);
  deepEqual(relative(ROOT, join(ROOT, "mod.ts")), "mod.ts");
});
