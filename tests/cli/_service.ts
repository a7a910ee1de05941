/**
 * Test harness for the router service: runs `cli.ts` (or a compiled
 * binary) as a child process, finds its URLs in the "Listening on" lines,
 * and always reaps the process.
 */

import { equal, match } from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { within } from "../_helpers/router.ts";

/** The repository root (where deno.json is), the children's cwd. */
export const ROOT: string = fileURLToPath(new URL("../../", import.meta.url));

/** `deno run` with the permissions of the deno.json "start" task. */
export const DENO_RUN: readonly string[] = [
  "run",
  "--allow-net",
  "--allow-read",
  "--allow-env",
  "cli.ts",
];

/** What a finished run printed. */
export interface Output {
  code: number;
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
}

/** Options for {@linkcode run} and {@linkcode runCli}. */
export interface RunOptions {
  /** Kill the child after this long. @default {30000} */
  ms?: number;
  /** Variables to add to the child's environment. @default {{}} */
  env?: Record<string, string>;
}

/** Runs the CLI (`deno run … cli.ts args`) to completion, killing it after `ms`. */
export function runCli(args: string[], options: RunOptions | number = {}): Promise<Output> {
  return run(Deno.execPath(), [...DENO_RUN, ...args], options);
}

/** Runs `command args` to completion, killing it after `ms`. */
export async function run(
  command: string,
  args: string[],
  options: RunOptions | number = {},
): Promise<Output> {
  const { ms = 30_000, env = {} } = typeof options === "number" ? { ms: options } : options;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  try {
    const out = await new Deno.Command(command, {
      args,
      env,
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: controller.signal,
    }).output();
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

/** Writes `content` to a temp file for the duration of `fn`. */
export async function withConfig<T>(
  content: string,
  fn: (file: string) => Promise<T>,
): Promise<T> {
  const file = await Deno.makeTempFile({
    prefix: "cloverleaf_",
    suffix: ".json",
  });
  try {
    await Deno.writeTextFile(file, content);
    return await fn(file);
  } finally {
    await Deno.remove(file);
  }
}

/** Asserts a usage error: exit 2, nothing on stdout, ONE stderr line. */
export function assertUsageError(out: Output, pattern: RegExp): string {
  equal(out.code, 2, `exit code (stderr: ${out.stderr})`);
  equal(out.stdout, "");
  const lines = out.stderr.trimEnd().split("\n");
  equal(lines.length, 1, `one stderr line, got:\n${out.stderr}`);
  const line = lines[0]!;
  match(line, /^cloverleaf: /);
  match(line, pattern);
  return line;
}

/** A running service. Dispose it to kill it (if still running) and reap it. */
export interface Service extends AsyncDisposable {
  /** The ws:// URLs from the "Listening on" lines, in order. */
  readonly urls: string[];
  /** The "Listening on" lines themselves. */
  readonly listening: string[];
  /** Every stdout line so far. */
  readonly lines: string[];
  /** Sends `signal` and waits (bounded) for the exit status. */
  stop(signal: Deno.Signal): Promise<Deno.CommandStatus>;
  /** All of stderr, once the process has exited. */
  stderr(): Promise<string>;
}

const LISTENING = /Listening on ((?:wss?|tcps?|https?|unix):\/\/[^\s,]+)[^(]*\(realms: ([^)]*)\)/;

/**
 * Starts `command args` and waits until it has printed `listeners`
 * "Listening on" lines.
 */
export async function startService(
  command: string,
  args: string[],
  options: { listeners?: number; timeout?: number; env?: Record<string, string> } = {},
): Promise<Service> {
  const child = new Deno.Command(command, {
    args,
    env: options.env ?? {},
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderrText = new Response(child.stderr).text();
  const lines: string[] = [];
  const listening: string[] = [];
  const urls: string[] = [];
  let wake = () => {};
  const pump = (async () => {
    let rest = "";
    for await (
      const chunk of child.stdout.pipeThrough(new TextDecoderStream())
    ) {
      rest += chunk;
      let nl: number;
      while ((nl = rest.indexOf("\n")) >= 0) {
        const line = rest.slice(0, nl);
        rest = rest.slice(nl + 1);
        lines.push(line);
        const match = LISTENING.exec(line);
        if (match !== null) {
          listening.push(line);
          urls.push(match[1]!);
        }
        wake();
      }
    }
    if (rest !== "") lines.push(rest);
    wake();
  })();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    wake();
    return s;
  });

  const reap = async (): Promise<void> => {
    if (!exited) {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    }
    await within(
      Promise.all([status, pump, stderrText]),
      10_000,
      "reaping the service",
    );
  };

  const want = options.listeners ?? 1;
  try {
    await within(
      new Promise<void>((resolve, reject) => {
        wake = () => {
          if (urls.length >= want) resolve();
          else if (exited) reject(new Error("service exited before listening"));
        };
        wake();
      }),
      options.timeout ?? 30_000,
      "waiting for the Listening on line",
    );
  } catch (error) {
    await reap();
    const code = exited ? `exit code ${(await status).code}` : "killed";
    throw new Error(
      `${(error as Error).message} (${code})\nstdout:\n${
        lines.join("\n")
      }\nstderr:\n${await stderrText}`,
    );
  }
  wake = () => {};

  return {
    urls,
    listening,
    lines,
    async stop(signal) {
      child.kill(signal);
      return await within(status, 10_000, `exit after ${signal}`);
    },
    stderr: () => stderrText,
    [Symbol.asyncDispose]: reap,
  };
}
