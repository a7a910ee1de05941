/**
 * The command-line client: `cloverleaf call|publish|subscribe|register|meta`
 * connect to a router as a WAMP client, do one thing and print JSON lines.
 * Exit codes: 0 ok, 1 a WAMP error (its URI on stderr), 2 bad usage.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { callCommand } from "./call.ts";
import { type ClientCommand, reportError, UsageError } from "./common.ts";
import { CONNECT_OPTIONS, CONNECT_USAGE } from "./connect.ts";
import { metaCommand } from "./meta.ts";
import { publishCommand } from "./publish.ts";
import { registerCommand } from "./register.ts";
import { subscribeCommand } from "./subscribe.ts";

/** The client commands by name. */
export const CLIENT_COMMANDS: ReadonlyMap<string, ClientCommand> = new Map(
  [callCommand, publishCommand, subscribeCommand, registerCommand, metaCommand].map((
    c,
  ) => [c.name, c]),
);

/**
 * Runs a client command: parses its flags (its own and the connection
 * flags), prints `--help`, or connects and runs it.
 *
 * @param command The command's name, one of {@linkcode CLIENT_COMMANDS}.
 * @param args The arguments after the command.
 * @returns The exit code: 0 ok, 1 a WAMP or connection error, 2 bad usage.
 */
export async function runClientCommand(command: string, args: string[]): Promise<number> {
  const spec = CLIENT_COMMANDS.get(command);
  try {
    if (spec === undefined) throw new UsageError(`Unknown command "${command}"`);
    const { values, positionals } = parseArgs({
      args,
      options: { ...CONNECT_OPTIONS, ...spec.options },
      strict: true,
      allowPositionals: true,
    });
    if (values.help === true) {
      console.log(`${spec.usage}\n\n${CONNECT_USAGE}\n
Exit codes: 0 ok, 1 a WAMP error (its URI on stderr) or no connection, 2 bad usage.`);
      return 0;
    }
    return await spec.run(values, positionals);
  } catch (error) {
    return reportError(command, error);
  }
}
