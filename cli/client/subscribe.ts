/**
 * `cloverleaf subscribe`: prints one JSON line per event until `--count`
 * events arrived, SIGINT or SIGTERM.
 *
 * @module
 */

import type { SubscribeOptions } from "../../client/mod.ts";
import {
  type ClientCommand,
  integerFlag,
  parsePairs,
  printJson,
  serveUntilDone,
  UsageError,
} from "./common.ts";
import { type ConnectFlags, join } from "./connect.ts";

/** `cloverleaf subscribe <topic>`. */
export const subscribeCommand: ClientCommand = {
  name: "subscribe",
  usage: `Usage: cloverleaf subscribe <topic> [options]

Subscribes and prints one JSON line per event,
{"args":[...],"kwargs":{...},"details":{...}}, until --count events
arrived (then exits 0), or SIGINT or SIGTERM (exits 0), or the router
closes the session (prints the reason, exits 1). Once subscribed, prints
'Subscribed to "<topic>"' on stderr.

Options:
  --option <key=value>   A SUBSCRIBE option (match=prefix, match=wildcard,
                         get_retained=true, ...); repeatable
  --count <n>            Exit after n events`,
  options: {
    option: { type: "string", multiple: true },
    count: { type: "string" },
  },
  async run(values, positionals) {
    const [topic, extra] = positionals;
    if (topic === undefined) throw new UsageError("Missing <topic>");
    if (extra !== undefined) throw new UsageError(`Unexpected argument "${extra}"`);
    const options = parsePairs("option", values.option as string[] | undefined);
    const count = integerFlag("count", values.count as string | undefined, Infinity);
    const session = await join(values as ConnectFlags);
    const done = Promise.withResolvers<void>();
    let seen = 0;
    try {
      await session.subscribe(topic, ({ args, kwargs, details }) => {
        if (seen >= count) return;
        printJson({ args, kwargs, details });
        if (++seen >= count) done.resolve();
      }, options as SubscribeOptions);
    } catch (error) {
      await session.close();
      throw error;
    }
    return await serveUntilDone(session, done.promise, `Subscribed to "${topic}"`);
  },
};
