import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { ConfigErrors, expandEnv } from "../../config/mod.ts";

const ENV: Record<string, string> = {
  TOKEN: "s3cret",
  REALM: "realm1",
  EMPTY: "",
  lower_1: "low",
  DOLLAR: "${TOKEN}",
};

function lookup(name: string): string | undefined {
  return ENV[name];
}

Deno.test("expandEnv() replaces a whole string", () => {
  deepEqual(expandEnv({ name: "${REALM}" }, lookup), { name: "realm1" });
  deepEqual(expandEnv("${TOKEN}", lookup), "s3cret");
  deepEqual(expandEnv({ v: "${lower_1}" }, lookup), { v: "low" });
});

Deno.test("expandEnv() replaces references embedded in a string", () => {
  deepEqual(expandEnv({ h: "Bearer ${TOKEN}" }, lookup), { h: "Bearer s3cret" });
  deepEqual(expandEnv({ h: "${REALM}.${TOKEN}/${REALM}" }, lookup), { h: "realm1.s3cret/realm1" });
  deepEqual(expandEnv({ h: "a${EMPTY}b" }, lookup), { h: "ab" });
});

Deno.test("expandEnv() does not expand a variable's value again", () => {
  deepEqual(expandEnv({ v: "${DOLLAR}" }, lookup), { v: "${TOKEN}" });
});

Deno.test("expandEnv() keeps $${ as a literal ${", () => {
  deepEqual(expandEnv({ v: "$${TOKEN}" }, lookup), { v: "${TOKEN}" });
  deepEqual(expandEnv({ v: "x$${" }, lookup), { v: "x${" });
  deepEqual(expandEnv({ v: "$${TOKEN} ${TOKEN}" }, lookup), { v: "${TOKEN} s3cret" });
});

Deno.test("expandEnv() leaves strings without ${ alone", () => {
  for (const text of ["pa$$word", "$", "$TOKEN", "{TOKEN}", "$ {TOKEN}", "€100$", ""]) {
    equal(
      expandEnv(text, () => {
        throw new Error("no lookup expected");
      }),
      text,
    );
  }
});

Deno.test("expandEnv() walks arrays and objects, leaves keys and non-strings alone", () => {
  const input = {
    "${TOKEN}": ["${REALM}", 1, true, null, { deep: ["x${TOKEN}"] }],
    n: 8080,
  };
  const out = expandEnv(input, lookup);
  deepEqual(out, { "${TOKEN}": ["realm1", 1, true, null, { deep: ["xs3cret"] }], n: 8080 });
  deepEqual(input["${TOKEN}"][0], "${REALM}", "the input is not modified");
});

Deno.test("expandEnv() names the path and the variable of an unset variable, never a value", () => {
  const input = {
    realms: [{ name: "realm1" }, { auth: { ticket: "Bearer ${TOKEN}:${MISSING}" } }],
  };
  throws(() => expandEnv(input, lookup), (error: Error) => {
    ok(error instanceof TypeError);
    equal(
      error.message,
      'Invalid config "realms[1].auth.ticket": environment variable "MISSING" is not set',
    );
    ok(!error.message.includes("s3cret"));
    return true;
  });
  throws(
    () => expandEnv({ a: "${X} ${Y} ${X}" }, lookup),
    { message: 'Invalid config "a": environment variables "X", "Y" are not set' },
  );
  throws(() => expandEnv(["${X}"], lookup, { path: "listeners" }), /"listeners\[0\]"/);
});

Deno.test("expandEnv() rejects a ${ that starts no reference", () => {
  for (const text of ["${}", "${1A}", "${A-B}", "${A", "a ${ b", "${A:-x}"]) {
    throws(
      () => expandEnv({ k: text }, lookup),
      (error: Error) =>
        error instanceof TypeError &&
        error.message.startsWith('Invalid config "k": expected ${NAME} after "${"') &&
        error.message.includes('write "$${" for a literal "${"'),
      text,
    );
  }
});

Deno.test("expandEnv() in collecting mode records every bad string and leaves it as written", () => {
  const errors = new ConfigErrors();
  const out = expandEnv(
    { a: "${X}", b: ["ok ${TOKEN}", "${Y}"], c: "${", d: "${REALM}" },
    lookup,
    { errors, path: "top" },
  );
  deepEqual(out, { a: "${X}", b: ["ok s3cret", "${Y}"], c: "${", d: "realm1" });
  deepEqual(errors.messages, [
    'Invalid config "top.a": environment variable "X" is not set',
    'Invalid config "top.b[1]": environment variable "Y" is not set',
    'Invalid config "top.c": expected ${NAME} after "${", NAME made of letters, digits and "_" ' +
    '(write "$${" for a literal "${")',
  ]);
});
