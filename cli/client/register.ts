/**
 * `cloverleaf register`: registers a procedure, prints each invocation as
 * one JSON line and answers it with a fixed result (`--result`) or with
 * what a command prints (`--exec`).
 *
 * @module
 */

import { MAX_TIMER } from "../../client/limits.ts";
import {
  ApplicationError,
  ErrorUri,
  type Invocation,
  type RegisterRequestOptions,
  type YieldArguments,
} from "../../client/mod.ts";
import {
  type ClientCommand,
  integerFlag,
  jsonLine,
  parsePairs,
  parseValue,
  printJson,
  serveUntilDone,
  UsageError,
} from "./common.ts";
import { type ConnectFlags, join } from "./connect.ts";

/** The most `--exec` commands running at once; invocations past it fail with `wamp.error.runtime_error`. */
export const MAX_EXEC = 8;

/** Milliseconds an `--exec` command may run (`--exec-timeout`) before it is killed. */
export const DEFAULT_EXEC_TIMEOUT = 60_000;

/** The shell that runs `--exec`, and its "run this" flag. */
function shell(): [string, string] {
  return Deno.build.os === "windows" ? ["cmd", "/c"] : ["sh", "-c"];
}

/**
 * Runs `--exec`'s command with the invocation as JSON on stdin, and reads
 * its stdout as the result: a JSON value (or, if it is no JSON, the text)
 * becomes the one positional result; no output, no result. A non-zero exit
 * fails the invocation with `wamp.error.runtime_error` and the command's
 * last stderr line. The command (its whole process group) is killed when
 * the call is canceled, or when it runs past `timeout`: then the
 * invocation fails with `wamp.error.timeout`.
 *
 * @param command The shell command.
 * @param input The invocation, as printed.
 * @param signal Aborts the command.
 * @param timeout Milliseconds it may run.
 * @returns The YIELD's arguments.
 * @throws {ApplicationError} `wamp.error.timeout` when it ran past `timeout`.
 * @throws {Error} When the command fails.
 */
export async function execAnswer(
  command: string,
  input: unknown,
  signal: AbortSignal,
  timeout: number = DEFAULT_EXEC_TIMEOUT,
): Promise<YieldArguments> {
  const [sh, flag] = shell();
  // Its own process group: a cancel kills the command, not only the shell that started it (whose
  // orphans would hold stdout open, the call unanswered and its --exec slot taken for good).
  const child = new Deno.Command(sh, {
    args: [flag, command],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    detached: true,
  }).spawn();
  const kill = () => {
    try {
      if (Deno.build.os === "windows") child.kill("SIGKILL");
      else Deno.kill(-child.pid, "SIGKILL");
    } catch {
      // Gone already.
    }
  };
  if (signal.aborted) kill();
  else signal.addEventListener("abort", kill, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, timeout);
  // stdin is written while stdout is read: a command that echoes as it reads cannot stall on a
  // full pipe.
  const feed = (async () => {
    const writer = child.stdin.getWriter();
    try {
      await writer.write(new TextEncoder().encode(jsonLine(input) + "\n"));
    } catch {
      // The command does not read its stdin: fine.
    } finally {
      await writer.close().catch(() => {});
    }
  })();
  let out: Deno.CommandOutput;
  try {
    [out] = await Promise.all([child.output(), feed]);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", kill);
  }
  if (timedOut) {
    throw new ApplicationError(ErrorUri.TIMEOUT, {
      args: [`--exec command still running after ${timeout} ms: killed`],
    });
  }
  const decoder = new TextDecoder();
  if (!out.success) {
    const why = decoder.decode(out.stderr).trim().split("\n").at(-1);
    throw new Error(`--exec command exited with ${out.code}${why ? `: ${why}` : ""}`);
  }
  const text = decoder.decode(out.stdout).trim();
  return text === "" ? {} : { args: [parseValue(text)] };
}

/** `cloverleaf register <procedure>`. */
export const registerCommand: ClientCommand = {
  name: "register",
  usage: `Usage: cloverleaf register <procedure> [options]

Registers a procedure and prints each invocation as one JSON line,
{"procedure":"...","args":[...],"kwargs":{...},"details":{...}}, then
answers it: with the --result values, or with what --exec's command prints,
or with no result. Runs until --count invocations were answered (then exits
0), SIGINT or SIGTERM (exits 0), or the router closes the session (exits 1).
Once registered, prints 'Registered "<procedure>"' on stderr.

Options:
  --result <json>        A positional result, JSON when it parses, else a
                         string; repeatable for several
  --exec <command>       Run this shell command per invocation, the invocation
                         (as printed) as JSON on its stdin; its stdout, JSON
                         when it parses, else the text, is the one result
                         (none when empty). A non-zero exit answers
                         wamp.error.runtime_error with its last stderr line.
                         At most 8 run at once (more invocations get
                         wamp.error.runtime_error). Needs --allow-run
  --exec-timeout <ms>    Kill an --exec command (its process group) still
                         running after this long and answer wamp.error.timeout
                         (default 60000)
  --option <key=value>   A REGISTER option (match=prefix, invoke=roundrobin, ...);
                         repeatable
  --count <n>            Exit after answering n invocations`,
  options: {
    result: { type: "string", multiple: true },
    exec: { type: "string" },
    "exec-timeout": { type: "string" },
    option: { type: "string", multiple: true },
    count: { type: "string" },
  },
  async run(values, positionals) {
    const [procedure, extra] = positionals;
    if (procedure === undefined) throw new UsageError("Missing <procedure>");
    if (extra !== undefined) throw new UsageError(`Unexpected argument "${extra}"`);
    const results = values.result as string[] | undefined;
    const exec = values.exec as string | undefined;
    if (results !== undefined && exec !== undefined) {
      throw new UsageError("Give --result or --exec, not both");
    }
    const execTimeout = values["exec-timeout"] as string | undefined;
    if (execTimeout !== undefined && exec === undefined) {
      throw new UsageError("Invalid --exec-timeout: only with --exec");
    }
    const timeout = integerFlag("exec-timeout", execTimeout, DEFAULT_EXEC_TIMEOUT, 1, MAX_TIMER);
    const options = parsePairs("option", values.option as string[] | undefined);
    const count = integerFlag("count", values.count as string | undefined, Infinity);
    const fixed: YieldArguments = results === undefined ? {} : { args: results.map(parseValue) };
    const session = await join(values as ConnectFlags);
    const done = Promise.withResolvers<void>();
    let answered = 0;
    let running = 0;
    const endpoint = async (
      args: unknown[],
      kwargs: Record<string, unknown>,
      details: Record<string, unknown>,
      invocation: Invocation,
    ): Promise<YieldArguments> => {
      const printed = { procedure: invocation.procedure, args, kwargs, details };
      printJson(printed);
      if (exec !== undefined && running >= MAX_EXEC) {
        throw new Error(`${MAX_EXEC} --exec commands are already running`);
      }
      running++;
      try {
        return exec === undefined
          ? fixed
          : await execAnswer(exec, printed, invocation.signal, timeout);
      } finally {
        running--;
        // After the answer went out (the callee sends it once this returns).
        if (++answered >= count) setTimeout(done.resolve, 0);
      }
    };
    try {
      await session.register(procedure, endpoint, options as RegisterRequestOptions);
    } catch (error) {
      await session.close();
      throw error;
    }
    return await serveUntilDone(session, done.promise, `Registered "${procedure}"`);
  },
};
