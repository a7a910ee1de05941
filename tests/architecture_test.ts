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
const SOURCE_DIRS = ["wamp", "config", "router", "cluster", "transports", "client", "cli", "admin"];

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

/** Source text without comments (JSDoc examples import the package by name). */
function stripComments(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

function code(file: string): string {
  return stripComments(readFileSync(join(ROOT, file), "utf8"));
}

/** The repository files `text`, the source of `file`, imports (relative specifiers, type-only included). */
function importsIn(file: string, text: string): string[] {
  const found: string[] = [];
  const pattern = /(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\.{1,2}\/[^"']+)["']/g;
  for (const match of stripComments(text).matchAll(pattern)) {
    found.push(normalize(join(dirname(file), match[1]!)));
  }
  return found;
}

type Graph = ReadonlyMap<string, readonly string[]>;

const FILES = sourceFiles();
const GRAPH: Graph = new Map(
  FILES.map((file) => [file, importsIn(file, readFileSync(join(ROOT, file), "utf8"))]),
);

/** Every cycle, each named by its files in order from the smallest name. */
function cycles(graph: Graph = GRAPH): string[] {
  const found = new Set<string>();
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, "open");
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === "open") {
        const loop = stack.slice(stack.indexOf(next));
        const start = loop.indexOf([...loop].sort()[0]!);
        found.add([...loop.slice(start), ...loop.slice(0, start)].join(" -> "));
      } else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return [...found].sort();
}

/** Which folders each folder may import (besides itself). */
const ALLOWED: Record<string, readonly string[]> = {
  wamp: [],
  config: ["wamp"],
  "router/core": ["wamp", "config"],
  // "admin": router/mod.ts re-exports serveAdmin (admin/ never imports router/mod.ts).
  router: ["wamp", "config", "router/core", "cluster", "admin"],
  cluster: ["wamp", "config", "router/core"],
  transports: ["wamp", "config", "router", "router/core"],
  client: ["wamp", "transports"],
  bridge: ["wamp", "config", "router", "router/core", "transports", "client"],
  admin: ["wamp", "config", "router/core", "router", "cluster", "transports"],
};

/** The server side of transports, which the client never imports. */
const SERVER_SIDE = /(server|deno_serve|listener|negotiate|http_server|origin|config)\.ts$/;

function layer(file: string): string {
  if (file.startsWith("router/core/")) return "router/core";
  return file.split("/")[0]!;
}

function layering(graph: Graph = GRAPH): string[] {
  const wrong: string[] = [];
  for (const [file, targets] of graph) {
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

Deno.test("each rule catches what it forbids", () => {
  // Imports: every form, comments ignored, a URL in a string kept.
  const text = [
    `import { a } from "./a.ts";`,
    `import type { B } from '../core/b.ts';`,
    `export { c } from "./c.ts";`,
    `import "./d.ts";`,
    `const e = await import("./e.ts");`,
    `import {`,
    `  f,`,
    `} from "./f.ts";`,
    `const url = "http://x"; import { g } from "./g.ts";`,
    `/* import { h } from "./h.ts"; */ import { i } from "./i.ts";`,
    `// import { j } from "./j.ts";`,
    `import { k } from "npm:k@1";`,
  ].join("\n");
  deepEqual(importsIn("router/x.ts", text), [
    "router/a.ts",
    "core/b.ts",
    "router/c.ts",
    "router/d.ts",
    "router/e.ts",
    "router/f.ts",
    "router/g.ts",
    "router/i.ts",
  ]);
  // Cycles, type-only ones included: the graph does not know the difference.
  deepEqual(
    cycles(
      new Map([["b.ts", ["c.ts"]], ["c.ts", ["a.ts"]], ["a.ts", ["b.ts"]], ["d.ts", ["a.ts"]]]),
    ),
    ["a.ts -> b.ts -> c.ts"],
  );
  // Layering: upwards, into cli/ or mod.ts, and the client into server-side transports.
  deepEqual(
    layering(
      new Map([
        ["wamp/x.ts", ["config/errors.ts", "wamp/y.ts"]],
        ["router/core/x.ts", ["router/router.ts", "config/check.ts"]],
        ["cluster/x.ts", ["router/connection.ts", "router/core/realm.ts", "mod.ts"]],
        ["client/x.ts", ["transports/websocket/server.ts", "transports/websocket/client.ts"]],
        ["cli/x.ts", ["router/router.ts"]],
      ]),
    ),
    [
      "client/x.ts -> transports/websocket/server.ts",
      "cluster/x.ts -> mod.ts",
      "cluster/x.ts -> router/connection.ts",
      "router/core/x.ts -> router/router.ts",
      "wamp/x.ts -> config/errors.ts",
    ],
  );
  // Purity: each form, in code and not in a comment.
  for (
    const impure of [
      "setTimeout(f, 1)",
      "clearTimeout(t)",
      "setInterval(f, 1)",
      "Date.now()",
      "performance.now()",
      "new Date()",
      "Deno.env.get(x)",
      "new Promise(r)",
      "Promise.resolve()",
      "p.then(f)",
      "async function f() {}",
      "await f()",
    ]
  ) {
    deepEqual(IMPURE.test(stripComments(`const x = 1;\n${impure};`)), true, impure);
    deepEqual(IMPURE.test(stripComments(`// ${impure}\n/* ${impure} */`)), false, impure);
  }
});
