/**
 * Finds documentation sections by heading, in README.md and docs/*.md, so
 * that tests reading a section's examples keep working when it moves
 * between those files.
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/** The repository root (where README.md is). */
export const DOCS_ROOT: string = fileURLToPath(new URL("../../", import.meta.url));

/** A fenced code block: its language tag and its text (up to the closing fence). */
export interface CodeBlock {
  lang: string;
  text: string;
  /** The last non-blank line before the opening fence (for markers such as `<!-- not a config -->`). */
  before: string;
  /** The opening fence's line number (from 1) in the text given to {@linkcode codeBlocks}. */
  line: number;
}

/** A section: its file (relative to the root), heading and text, heading included. */
export interface DocSection {
  file: string;
  heading: string;
  text: string;
}

/** README.md and every docs/*.md, relative to the root, README first. */
export async function docFiles(): Promise<string[]> {
  const docs: string[] = [];
  for await (const entry of Deno.readDir(`${DOCS_ROOT}docs`)) {
    if (entry.isFile && entry.name.endsWith(".md")) docs.push(`docs/${entry.name}`);
  }
  return ["README.md", ...docs.sort()];
}

/** The lines of `text` that are headings (outside code fences), with their level. */
function headings(lines: string[]): { index: number; level: number; title: string }[] {
  const out: { index: number; level: number; title: string }[] = [];
  let fenced = false;
  lines.forEach((line, index) => {
    if (line.startsWith("```")) fenced = !fenced;
    const m = fenced ? null : /^(#{1,6}) (.*)$/.exec(line);
    if (m) out.push({ index, level: m[1]!.length, title: m[2]!.trim() });
  });
  return out;
}

/**
 * The section whose heading (any level) is `title`: from that heading to
 * the next heading of the same or a higher level. Searches README.md,
 * then docs/*.md; exactly one section may have that title.
 *
 * @throws {Error} When no section, or more than one, has that title.
 */
export async function docSection(title: string): Promise<DocSection> {
  const found: DocSection[] = [];
  for (const file of await docFiles()) {
    const lines = (await Deno.readTextFile(`${DOCS_ROOT}${file}`)).split("\n");
    const all = headings(lines);
    all.forEach((h, i) => {
      if (h.title !== title) return;
      const end = all.slice(i + 1).find((next) => next.level <= h.level);
      found.push({
        file,
        heading: lines[h.index]!,
        text: lines.slice(h.index, end?.index).join("\n"),
      });
    });
  }
  if (found.length !== 1) {
    throw new Error(
      found.length === 0
        ? `No section "${title}" in README.md or docs/*.md`
        : `Section "${title}" is in ${found.map((s) => s.file).join(" and ")}: expected one`,
    );
  }
  return found[0]!;
}

/** The fenced code blocks of a markdown text, in order. */
export function codeBlocks(text: string): CodeBlock[] {
  const out: CodeBlock[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const close = lines.findIndex((line, j) => j > i && line.startsWith("```"));
    if (close < 0) break;
    const before = lines.slice(0, i).filter((line) => line.trim() !== "").at(-1) ?? "";
    out.push({
      lang: open[1]!,
      text: lines.slice(i + 1, close).join("\n") + "\n",
      before,
      line: i + 1,
    });
    i = close;
  }
  return out;
}

/** The code blocks of the section titled `title` (see {@linkcode docSection}). */
export async function sectionBlocks(title: string): Promise<CodeBlock[]> {
  return codeBlocks((await docSection(title)).text);
}
