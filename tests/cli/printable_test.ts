/**
 * What the CLI client prints from the router to a terminal: control
 * characters (escape sequences that clear the screen, retitle the window
 * or write the clipboard) come out as JSON escapes.
 */

import { deepEqual, equal } from "node:assert/strict";
import { jsonLine, printable, reportError } from "../../cli/client/common.ts";
import { ApplicationError, SessionClosedError } from "../../mod.ts";

Deno.test("cli printable() writes control characters as \\u escapes, the rest as it is", () => {
  equal(printable("a.b\u001b[2J\u0007\u009bé"), "a.b\\u001b[2J\\u0007\\u009bé");
  equal(printable("wamp.error.no_such_procedure"), "wamp.error.no_such_procedure");
});

Deno.test("cli reportError() prints a router's error URI and close reason without escape sequences", () => {
  const printed: string[] = [];
  const error = console.error;
  console.error = (line: string) => void printed.push(line);
  try {
    reportError("call", new ApplicationError("com.x\u001b]52;c;bad\u0007", { args: ["\u001b"] }));
    reportError("call", new SessionClosedError("wamp.close.\u001b[2J", "bye\u001b[2J"));
  } finally {
    console.error = error;
  }
  deepEqual(
    // deno-lint-ignore no-control-regex
    printed.map((line) => /[\u0000-\u001f]/.test(line)),
    [false, false],
    printed.join("\n"),
  );
});

Deno.test("cli jsonLine() escapes DEL and C1 controls too, and stays the same JSON", () => {
  const value = { a: "\u009b[2J\u007f", b: ["\u001b"] };
  const line = jsonLine(value);
  equal(/[\u007f-\u009f]/.test(line), false, line);
  deepEqual(JSON.parse(line), value);
  equal(jsonLine(undefined), "undefined", "as before: a RESULT without args prints so");
});
