/**
 * `cloverleaf call`: calls a procedure and prints its result, the
 * progressive ones first as they come; or, with `--repeat`, calls it N
 * times and prints a summary.
 *
 * @module
 */

import type { Arguments, CallRequestOptions, Dict } from "../../client/mod.ts";
import {
  type ClientCommand,
  integerFlag,
  parsePairs,
  parseValue,
  printJson,
  UsageError,
} from "./common.ts";
import { type ConnectFlags, join } from "./connect.ts";
import { repeat, summaryLine } from "./load.ts";

/** The payload the positional arguments and `--kw` flags give. */
export function payloadFrom(args: readonly string[], kw: readonly string[] | undefined): Arguments {
  const kwargs = parsePairs("kw", kw);
  return {
    ...(args.length === 0 ? {} : { args: args.map(parseValue) }),
    ...(Object.keys(kwargs).length === 0 ? {} : { kwargs }),
  };
}

/** The flags of `call` and `publish`: payload, options and load. */
export const PAYLOAD_OPTIONS = {
  kw: { type: "string", multiple: true },
  option: { type: "string", multiple: true },
  repeat: { type: "string" },
  parallel: { type: "string" },
} as const;

/** The payload flags, and `--repeat`/`--parallel` read as numbers. */
export function loadFlags(values: Record<string, unknown>): { times: number; parallel: number } {
  const times = integerFlag("repeat", values.repeat as string | undefined, 1);
  const parallel = integerFlag("parallel", values.parallel as string | undefined, 1);
  if (values.parallel !== undefined && values.repeat === undefined) {
    throw new UsageError("--parallel needs --repeat");
  }
  return { times, parallel };
}

/** `cloverleaf call <procedure> [arg...]`. */
export const callCommand: ClientCommand = {
  name: "call",
  usage: `Usage: cloverleaf call <procedure> [arg...] [options]

Calls a procedure and prints its result as one JSON line,
{"args":[...],"kwargs":{...},"details":{...}}. With
--option receive_progress=true, each progressive result is printed first,
as it comes, in the same form. A WAMP error prints its URI (and its args and
kwargs) on stderr and exits 1.

Arguments are JSON when they parse (42, true, '"42"', '[1,2]', '{"a":1}'),
else strings. Use -- before an argument that starts with "-".

Options:
  --kw <key=value>       A keyword argument, the value JSON when it parses; repeatable
  --option <key=value>   A CALL option (timeout=5000, receive_progress=true,
                         disclose_me=true, ...), the value JSON when it parses; repeatable
  --repeat <n>           Call n times and print one summary line instead of the
                         results: count, time, rate, p50 and p99 latency
  --parallel <p>         With --repeat: at most p calls in flight (default 1)`,
  options: PAYLOAD_OPTIONS,
  async run(values, positionals) {
    const [procedure, ...rest] = positionals;
    if (procedure === undefined) throw new UsageError("Missing <procedure>");
    const payload = payloadFrom(rest, values.kw as string[] | undefined);
    const options: Dict = parsePairs("option", values.option as string[] | undefined);
    const load = loadFlags(values);
    const progress = options.receive_progress === true;
    delete options.receive_progress;
    const session = await join(values as ConnectFlags);
    try {
      if (values.repeat !== undefined) {
        const summary = await repeat(
          () => session.call(procedure, payload, options as CallRequestOptions),
          load,
        );
        console.log(summaryLine("calls", summary));
        return 0;
      }
      const callOptions: CallRequestOptions = {
        ...options,
        ...(progress ? { onProgress: (p) => printJson(p) } : {}),
      };
      const { args, kwargs, details } = await session.call(procedure, payload, callOptions);
      printJson({ args, kwargs, details });
      return 0;
    } finally {
      await session.close();
    }
  },
};
