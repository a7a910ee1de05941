/**
 * Test harness for the client commands: runs `deno run -A cli.ts <cmd>`
 * to completion (optionally feeding stdin), or starts a long-running one
 * (`subscribe`, `register`) and waits for its "Subscribed"/"Registered"
 * line on stderr. Children are always reaped.
 */

import { equal, match } from "node:assert/strict";
import { within } from "../_helpers/router.ts";
import { sectionBlocks } from "../docs/_sections.ts";
import { type Output, ROOT } from "./_service.ts";

/** `deno run -A cli.ts`, as the README runs the client commands. */
export const CLIENT_RUN: readonly string[] = ["run", "-A", "cli.ts"];

/**
 * Runs `cli.ts args` to completion (killed after `ms`), with `stdin` as its
 * input and `env` added to its environment.
 */
export async function runClient(
  args: string[],
  options: { stdin?: string; ms?: number; env?: Record<string, string> } = {},
): Promise<Output> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.ms ?? 30_000);
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: [...CLIENT_RUN, ...args],
      cwd: ROOT,
      env: options.env ?? {},
      stdin: options.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
      signal: controller.signal,
    }).spawn();
    if (options.stdin !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(options.stdin));
      await writer.close();
    }
    const out = await child.output();
    const decoder = new TextDecoder();
    return {
      code: out.code,
      signal: out.signal,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** The JSON lines of an output's stdout. */
export function jsonLines(out: Output): unknown[] {
  return out.stdout.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line));
}

/** A client command still running. Dispose it to kill (if needed) and reap it. */
export interface RunningClient extends AsyncDisposable {
  /** Waits (bounded) for it to exit and returns what it printed. */
  finished(ms?: number): Promise<Output>;
  /** Sends a signal. */
  kill(signal: Deno.Signal): void;
}

/**
 * Starts `cli.ts args` and waits until its stderr holds `ready`
 * (e.g. `Subscribed to`), or fails with what it printed.
 */
export async function startClient(args: string[], ready: string): Promise<RunningClient> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [...CLIENT_RUN, ...args],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = new Response(child.stdout).text();
  let stderr = "";
  let wake = () => {};
  const pump = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      stderr += chunk;
      wake();
    }
  })();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    wake();
    return s;
  });
  const output = async (ms: number): Promise<Output> => {
    const [s, out] = await within(Promise.all([status, stdout, pump]), ms, "client exit");
    return { code: s.code, signal: s.signal, stdout: out, stderr };
  };
  const reap = async () => {
    if (!exited) {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
    }
    await output(10_000);
  };
  try {
    await within(
      new Promise<void>((resolve, reject) => {
        wake = () => {
          if (stderr.includes(ready)) resolve();
          else if (exited) reject(new Error(`exited before "${ready}"`));
        };
        wake();
      }),
      30_000,
      `waiting for "${ready}"`,
    );
  } catch (error) {
    await reap();
    throw new Error(`${(error as Error).message}\nstderr:\n${stderr}`);
  }
  wake = () => {};
  return {
    finished: (ms = 15_000) => output(ms),
    kill: (signal) => child.kill(signal),
    [Symbol.asyncDispose]: reap,
  };
}

/**
 * The code blocks of a documentation section (README.md or docs/*.md, found
 * by its heading at any level), in order.
 */
export async function readmeBlocks(
  title: string,
): Promise<{ lang: string; text: string }[]> {
  return await sectionBlocks(title);
}

/** One `cloverleaf …` line of a README sh block. */
export interface ReadmeCommand {
  /** The arguments after `cloverleaf`, split as sh would (quotes removed). */
  args: string[];
  /** Whether it ends with `&` (runs in the background). */
  background: boolean;
  /** The `# …` comment after it, if any. */
  comment: string;
}

/** Splits the `cloverleaf …` lines of a sh block (single and double quotes, no escapes). */
export function readmeCommands(block: string): ReadmeCommand[] {
  const out: ReadmeCommand[] = [];
  for (const line of block.split("\n")) {
    if (!line.startsWith("cloverleaf ")) continue;
    const [command = "", ...comment] = line.split(/\s+#\s/);
    const words: string[] = [];
    for (const m of command.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)) {
      words.push(m[1] ?? m[2] ?? m[3]!);
    }
    const background = words.at(-1) === "&";
    if (background) words.pop();
    out.push({ args: words.slice(1), background, comment: comment.join(" # ").trim() });
  }
  return out;
}

/** Asserts a client usage error: exit 2, nothing on stdout, one stderr line pointing to --help. */
export function assertUsage(out: Output, pattern: RegExp): void {
  equal(out.code, 2, `exit code (stderr: ${out.stderr})`);
  equal(out.stdout, "");
  const lines = out.stderr.trimEnd().split("\n");
  equal(lines.length, 1, `one stderr line, got:\n${out.stderr}`);
  match(lines[0]!, /^cloverleaf: .*\(see cloverleaf [a-z-]+ --help\)$/);
  match(lines[0]!, pattern);
}
