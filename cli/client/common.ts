/**
 * What every client command shares (the connection and login flags are in
 * `connect.ts`): the parsing of payload values (`42`, `'{"a":1}'`, `--kw key=value`), JSON
 * output and the mapping of errors to exit codes (0 ok, 1 a WAMP error,
 * 2 bad usage).
 *
 * @module
 */

import type { parseArgs } from "node:util";
import { ApplicationError, type Dict, type Session } from "../../client/mod.ts";
import { interrupted } from "../process.ts";
import { toBase64 } from "../../wamp/bytes.ts";

/** Exit code of a command that ended with a WAMP error. */
export const EXIT_WAMP = 1;
/** Exit code of a command given bad flags or arguments. */
export const EXIT_USAGE = 2;

/** The router URL when `--url` is not given: the service's default listener. */
export const DEFAULT_URL = "ws://127.0.0.1:8080/ws";

/** Bad flags or arguments: exit 2 with one line and a pointer to `--help`. */
export class UsageError extends Error {
  /**
   * Creates the error.
   *
   * @param message What is wrong, naming the flag.
   */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The `parseArgs` option table of a command. */
export type OptionTable = NonNullable<Parameters<typeof parseArgs>[0]>["options"];

/**
 * Parses a non-negative integer flag.
 *
 * @param flag The flag's name, for the error.
 * @param value Its value, if given.
 * @param fallback The value when it is not given.
 * @param min The smallest value accepted.
 * @param max The largest value accepted.
 * @returns The number.
 * @throws {UsageError} When it is not an integer from `min` to `max`.
 */
export function integerFlag(
  flag: string,
  value: string | undefined,
  fallback: number,
  min = 1,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`Invalid --${flag} "${value}": expected an integer ${range}`);
  }
  return n;
}

/**
 * Parses a value from the command line: JSON when it parses
 * (`42`, `true`, `"x"`, `[1,2]`, `{"a":1}`), else the text as a string.
 *
 * @param text The text.
 * @returns The value.
 */
export function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Parses repeated `key=value` flags into a dictionary, each value as
 * {@linkcode parseValue} reads it.
 *
 * @param flag The flag's name, for the error.
 * @param pairs The values given.
 * @returns The dictionary.
 * @throws {UsageError} When one has no `=` or an empty key.
 */
export function parsePairs(flag: string, pairs: readonly string[] | undefined): Dict {
  const out: Dict = {};
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`Invalid --${flag} "${pair}": expected key=value`);
    out[pair.slice(0, eq)] = parseValue(pair.slice(eq + 1));
  }
  return out;
}

/** JSON.stringify's replacer for what the binary serializers decode: bigints, bytes. */
function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") {
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  }
  // WAMP's JSON form of binary: "\0" followed by base64.
  // (wamp/bytes.ts: Uint8Array.prototype.toBase64 is not in every runtime.)
  if (value instanceof Uint8Array) return `\0${toBase64(value)}`;
  return value;
}

/**
 * Prints one value as one JSON line on stdout.
 *
 * @param value The value.
 */
export function printJson(value: unknown): void {
  console.log(jsonLine(value));
}

/**
 * A value as the CLI prints it: JSON, binary as WAMP's `"\0" + base64`, a
 * bigint as a number when it is safe, else as its digits.
 *
 * @param value The value.
 * @returns One line of JSON.
 */
export function jsonLine(value: unknown): string {
  const text: string | undefined = JSON.stringify(value, jsonSafe);
  return text === undefined ? String(text) : printable(text);
}

/**
 * Prints why a command failed, one line on stderr, and gives its exit
 * code: 2 for bad usage, 1 for anything else (the error URI first for a
 * WAMP error, the close reason for a refused or closed session).
 *
 * @param command The command, for the pointer to its `--help`.
 * @param error What was thrown.
 * @returns The exit code.
 */
export function reportError(command: string, error: unknown): number {
  if (error instanceof UsageError || isParseArgsError(error)) {
    const message = (error as Error).message.split("\n")[0];
    console.error(`cloverleaf: ${message} (see cloverleaf ${command} --help)`);
    return EXIT_USAGE;
  }
  if (error instanceof ApplicationError) {
    const parts = [printable(error.uri)];
    if (error.args.length > 0) parts.push(jsonLine(error.args));
    if (Object.keys(error.kwargs).length > 0) parts.push(jsonLine(error.kwargs));
    console.error(`cloverleaf: ${parts.join(" ")}`);
    return EXIT_WAMP;
  }
  // A SessionClosedError's message names its reason URI; a TransportError's the URL.
  const message = error instanceof Error ? error.message : String(error);
  console.error(`cloverleaf: ${printable(message.split("\n")[0]!)}`);
  return EXIT_WAMP;
}

/**
 * Text from the router, fit for a terminal: control characters (escape
 * sequences could clear the screen, retitle the window or write the
 * clipboard) are written as JSON escapes.
 *
 * @param text The text.
 * @returns It, with each control character as `\uXXXX`.
 */
export function printable(text: string): string {
  return text.replace(
    // deno-lint-ignore no-control-regex
    /[\u0000-\u001f\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_");
}

/**
 * Waits until a long-running command is done, interrupted (SIGINT or
 * SIGTERM) or its session closed by the router, then leaves its realm.
 *
 * @param session The command's session.
 * @param done Resolves when the command has done what it was asked to.
 * @param ready The line printed (to stderr) once a signal would be handled, so
 *   that a script that waits for it may send one.
 * @returns The exit code: 0, or 1 when the router closed the session.
 */
export async function serveUntilDone(
  session: Session,
  done: Promise<void>,
  ready: string,
): Promise<number> {
  const stop = interrupted();
  try {
    console.error(ready);
    const ended = await Promise.race([done, stop.promise, session.closed]);
    if (ended !== undefined) {
      console.error(`cloverleaf: session closed: ${printable(ended.reason)}`);
      return EXIT_WAMP;
    }
    return 0;
  } finally {
    stop.dispose();
    await session.close();
  }
}

/** One client command: its flags, its `--help` and what it does. */
export interface ClientCommand {
  /** The command's name (`call`). */
  readonly name: string;
  /** Its usage line and description, printed before the shared flags by `--help`. */
  readonly usage: string;
  /** Its own flags, besides {@linkcode CONNECT_OPTIONS}. */
  readonly options: OptionTable;
  /** Runs it, with the parsed flags and positional arguments; resolves with the exit code. */
  run(values: Record<string, unknown>, positionals: string[]): Promise<number>;
}
