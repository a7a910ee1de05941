/**
 * Reading and writing the hottest messages: a JSON PUBLISH decoded and
 * parsed (against `JSON.parse` alone), an EVENT's head written (`toWire`
 * without the payload, as the JSON splice writes it).
 *
 * Run: `deno bench bench/messages_bench.ts`.
 */

import { json, MessageType, toWire, type WampMessage } from "../wamp/mod.ts";

const text = JSON.stringify([16, 1, {}, "com.example.topic", [1733390000000.25, "x".repeat(32)]]);
const event: WampMessage = {
  type: MessageType.EVENT,
  subscription: 2 ** 52 + 5,
  publication: 2 ** 50 + 7,
  details: {},
  args: [1, "x"],
};

Deno.bench("JSON.parse alone", { group: "read a JSON PUBLISH" }, () => {
  JSON.parse(text);
});

Deno.bench("json.decode (parse and check)", { group: "read a JSON PUBLISH" }, () => {
  json.decode(text);
});

Deno.bench("toWire, head only", { group: "write an EVENT's head" }, () => {
  toWire(event, false);
});
