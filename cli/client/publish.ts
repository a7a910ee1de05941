/**
 * `cloverleaf publish`: publishes an event; or, with `--repeat`, N
 * acknowledged events and a summary.
 *
 * @module
 */

import type { Dict, PublishOptions } from "../../client/mod.ts";
import { type ClientCommand, parsePairs, printJson, UsageError } from "./common.ts";
import { type ConnectFlags, join } from "./connect.ts";
import { loadFlags, PAYLOAD_OPTIONS, payloadFrom } from "./call.ts";
import { repeat, summaryLine } from "./load.ts";

/** `cloverleaf publish <topic> [arg...]`. */
export const publishCommand: ClientCommand = {
  name: "publish",
  usage: `Usage: cloverleaf publish <topic> [arg...] [options]

Publishes an event. With --option acknowledge=true it waits for the broker
and prints {"publication":<id>}; a refusal prints its URI on stderr and
exits 1. Arguments are JSON when they parse, else strings.

Options:
  --kw <key=value>       A keyword argument, the value JSON when it parses; repeatable
  --option <key=value>   A PUBLISH option (acknowledge=true, exclude_me=false,
                         retain=true, eligible=[123], ...); repeatable
  --repeat <n>           Publish n times, each acknowledged (unless
                         --option acknowledge=false), and print one summary
                         line: count, time, rate, p50 and p99 latency
  --parallel <p>         With --repeat: at most p publications in flight (default 1)`,
  options: PAYLOAD_OPTIONS,
  async run(values, positionals) {
    const [topic, ...rest] = positionals;
    if (topic === undefined) throw new UsageError("Missing <topic>");
    const payload = payloadFrom(rest, values.kw as string[] | undefined);
    const options: Dict = parsePairs("option", values.option as string[] | undefined);
    const load = loadFlags(values);
    const session = await join(values as ConnectFlags);
    try {
      if (values.repeat !== undefined) {
        // Latency means something only when the broker answers.
        const acknowledged = { acknowledge: true, ...options } as PublishOptions;
        const summary = await repeat(() => session.publish(topic, payload, acknowledged), load);
        console.log(summaryLine("publications", summary));
        return 0;
      }
      const publication = await session.publish(topic, payload, options as PublishOptions);
      if (publication !== undefined) printJson({ publication });
      return 0;
    } finally {
      await session.close();
    }
  },
};
