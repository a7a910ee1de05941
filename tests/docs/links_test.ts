/**
 * Every relative link in README.md and docs/*.md leads somewhere: the file
 * exists and, for `#anchor` links into markdown, a heading has that anchor
 * (GitHub's slugs). Sections move between these files; this catches the
 * links a move leaves behind.
 *
 * @module
 */

import { deepEqual } from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import { docFiles, DOCS_ROOT } from "./_sections.ts";

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to `-`. */
export function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/`/g, "").replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** The anchors of a markdown text's headings (outside code fences). */
function anchors(text: string): Set<string> {
  const out = new Set<string>();
  let fenced = false;
  for (const line of text.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    const m = fenced ? null : /^#{1,6} (.*)$/.exec(line);
    if (m) out.add(slug(m[1]!.replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")));
  }
  return out;
}

/** The link targets of a markdown text, outside code fences and inline code. */
function links(text: string): string[] {
  const out: string[] = [];
  let fenced = false;
  for (const line of text.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    if (fenced) continue;
    for (const m of line.replace(/`[^`]*`/g, "").matchAll(/\]\(([^)\s]+)\)/g)) out.push(m[1]!);
  }
  return out;
}

Deno.test("docs: slug() makes GitHub's anchors", () => {
  deepEqual(
    ["Transports × serializers", "Workers: all cores", "The `tls` method"].map(slug),
    ["transports--serializers", "workers-all-cores", "the-tls-method"],
  );
});

Deno.test("docs: every relative link in README.md and docs/*.md resolves", async () => {
  const broken: string[] = [];
  const texts = new Map<string, string>();
  const read = async (file: string) => {
    if (!texts.has(file)) texts.set(file, await Deno.readTextFile(join(DOCS_ROOT, file)));
    return texts.get(file)!;
  };
  for (const file of await docFiles()) {
    for (const target of links(await read(file))) {
      if (/^[a-z]+:/.test(target)) continue; // https:, mailto:
      const [path = "", anchor] = target.split("#");
      const to = path === "" ? file : relative(DOCS_ROOT, join(DOCS_ROOT, dirname(file), path));
      const exists = await Deno.stat(join(DOCS_ROOT, to)).then(() => true, () => false);
      if (!exists) broken.push(`${file}: ${target} (no ${to})`);
      else if (anchor !== undefined && to.endsWith(".md") && !anchors(await read(to)).has(anchor)) {
        broken.push(`${file}: ${target} (no heading #${anchor} in ${to})`);
      }
    }
  }
  deepEqual(broken, []);
});
