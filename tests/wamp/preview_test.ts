/**
 * `preview`: a peer's value in an error message, bounded whatever its
 * size, and what the parser and the meta API say about such values.
 */

import { equal, match, throws } from "node:assert/strict";
import { parseMessage } from "../../wamp/mod.ts";
import { preview } from "../../wamp/preview.ts";

Deno.test("preview: short values whole, long ones cut, bytes counted, not spelled", () => {
  equal(preview("a.b"), '"a.b"');
  equal(preview({ a: 1, b: [true, null, "c"] }), '{"a":1,"b":[true,null,"c"]}');
  equal(preview(undefined), "undefined");
  equal(preview(new Uint8Array(3)), "<3 bytes>");
  equal(preview(new ArrayBuffer(5)), "<5 bytes>");
  equal(preview("x".repeat(100), 10), '"xxxxxxxxx...');
  equal(preview(Array.from({ length: 1e6 }, () => 1), 9), "[1,1,1,1,...");
  let deep: unknown = [];
  for (let i = 0; i < 20; i++) deep = [deep];
  equal(preview(deep, 100), "[[[[[[[[[[...]]]]]]]]]]");
});

Deno.test("a message field of the wrong type is shown short, however large", () => {
  const bytes = new Uint8Array(4 << 20);
  throws(() => parseMessage([1, bytes, {}]), (error: Error) => {
    equal(error.message, "Cannot parse HELLO: invalid realm <4194304 bytes>");
    return true;
  });
  throws(() => parseMessage([bytes]), (error: Error) => {
    match(error.message, /^Cannot parse message: unknown message type <4194304 bytes>$/);
    return true;
  });
  throws(() => parseMessage([1, "x".repeat(1 << 20).split(""), {}]), (error: Error) => {
    equal(error.message.length < 100, true, error.message.slice(0, 200));
    return true;
  });
});
