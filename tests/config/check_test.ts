import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { ConfigError, ConfigErrors, ConfigObject, expandEnv } from "../../config/mod.ts";

Deno.test("ConfigObject throws at the first problem without a sink", () => {
  const c = new ConfigObject({ a: "x", b: 1, extra: 1, more: 2 }, "top");
  throws(() => c.boolean("a", false), {
    message: 'Invalid config "top.a": expected a boolean, got "x"',
  });
  throws(() => c.string("b"), /"top\.b": expected a non-empty string, got 1/);
  throws(() => c.done(), { message: 'Invalid config "top.extra": unknown key' });
  throws(() => new ConfigObject([], "top"), /"top": expected an object, got \[\]/);
});

Deno.test("ConfigObject with errors records each problem and returns the fallback", () => {
  const errors = new ConfigErrors();
  const c = new ConfigObject(
    {
      b: "yes",
      s: 1,
      i: -1,
      o: "loud",
      a: {},
      n: [],
      extra: 1,
      more: 2,
    },
    "top",
    { errors },
  );
  equal(c.boolean("b", true), true);
  equal(c.string("s"), "");
  equal(c.string("missing", "dflt"), "dflt");
  equal(c.string("required"), "");
  equal(c.integer("i", 5, 0), 5);
  equal(c.oneOf("o", ["a", "b"], "a"), "a");
  deepEqual(c.array("a"), []);
  const nested = c.object("n")!;
  equal(nested.has("x"), false);
  equal(nested.string("x"), "", "a follow-on error below top.n is dropped");
  c.done();
  deepEqual(errors.messages, [
    'Invalid config "top.b": expected a boolean, got "yes"',
    'Invalid config "top.s": expected a non-empty string, got 1',
    'Invalid config "top.required": expected a non-empty string, got nothing',
    'Invalid config "top.i": expected an integer from 0 to 9007199254740991, got -1',
    'Invalid config "top.o": expected one of "a", "b", got "loud"',
    'Invalid config "top.a": expected an array, got {}',
    'Invalid config "top.n": expected an object, got []',
    'Invalid config "top.extra": unknown key',
    'Invalid config "top.more": unknown key',
  ]);
  equal(errors.size, 9);
});

Deno.test("ConfigObject.object() passes the sink to nested objects", () => {
  const errors = new ConfigErrors();
  const c = new ConfigObject({ out: { x: 1, y: "z" } }, "", { errors });
  const out = c.object("out")!;
  equal(out.integer("y", 3), 3);
  out.done();
  deepEqual(errors.messages, [
    'Invalid config "out.y": expected an integer from 0 to 9007199254740991, got "z"',
    'Invalid config "out.x": unknown key',
  ]);
});

Deno.test("ConfigErrors.add() keeps the first error at a path and drops those below it", () => {
  const errors = new ConfigErrors();
  equal(errors.add("a.b", "first"), true);
  equal(errors.add("a.b", "second"), false);
  equal(errors.add("a.b.c", "below"), false);
  equal(errors.add("a.b[0]", "below"), false);
  equal(errors.add("a.bc", "a sibling"), true);
  equal(errors.add("a", "the parent"), true);
  equal(errors.add("x", "two\nlines"), true);
  equal(errors.add("", "no path"), true);
  equal(errors.add("y", "not below the top"), true);
  deepEqual(errors.messages, [
    "first",
    "a sibling",
    "the parent",
    "two",
    "no path",
    "not below the top",
  ]);
});

Deno.test("ConfigErrors.collect() passes itself to the part, which reads in collecting mode", () => {
  const errors = new ConfigErrors();
  const read = (input: unknown, path: string, options: { errors?: ConfigErrors } = {}) => {
    const c = new ConfigObject(input, path, options);
    const value = { n: c.integer("n", 1), s: c.string("s", "d") };
    c.done();
    return value;
  };
  deepEqual(errors.collect((e) => read({ n: "x", s: 2, z: 0 }, "p[0]", { errors: e }), "p[0]"), {
    n: 1,
    s: "d",
  });
  deepEqual(errors.collect((e) => read("nope", "p[1]", { errors: e }), "p[1]"), { n: 1, s: "d" });
  deepEqual(errors.messages, [
    'Invalid config "p[0].n": expected an integer from 0 to 9007199254740991, got "x"',
    'Invalid config "p[0].s": expected a non-empty string, got 2',
    'Invalid config "p[0].z": unknown key',
    'Invalid config "p[1]": expected an object, got "nope"',
  ]);
  // Without a context a ConfigObject throws, inside collect() or not.
  throws(() => read({ n: "x" }, "q"), /"q\.n"/);
  errors.collect(() => read({ n: "x" }, "q"), "q");
  equal(
    errors.messages.at(-1),
    'Invalid config "q.n": expected an integer from 0 to 9007199254740991, got "x"',
  );
  equal(errors.errors.at(-1)?.path, "q.n");
});

Deno.test("ConfigErrors.collect() records a thrown error and ends the part", () => {
  const errors = new ConfigErrors();
  const fail = (message: string) => () => {
    throw new TypeError(message);
  };
  equal(
    errors.collect(fail('Invalid config "r[0].name": "a b" is not a valid URI'), "r[0]"),
    undefined,
  );
  errors.collect(fail('Invalid config "r[0].name": a follow-on error'), "r[0]");
  errors.collect(fail('Cannot add realm "x": realm already exists'), "r[1]");
  errors.collect(fail('Invalid --ws address "h": expected host:port'), "--ws");
  errors.collect(fail("URI is bad"), "r[2]");
  equal(errors.collect(() => 42, "r[3]"), 42);
  deepEqual(errors.messages, [
    'Invalid config "r[0].name": "a b" is not a valid URI',
    'Invalid config "r[1]": cannot add realm "x": realm already exists',
    'Invalid --ws address "h": expected host:port',
    'Invalid config "r[2]": URI is bad',
  ]);
});

Deno.test("ConfigErrors contexts are independent: no state outside them", () => {
  const outer = new ConfigErrors();
  const inner = new ConfigErrors();
  outer.collect((errors) => {
    inner.collect((errors) => new ConfigObject(1, "in", { errors }), "in");
    new ConfigObject(2, "out", { errors });
  }, "");
  deepEqual(inner.messages, ['Invalid config "in": expected an object, got 1']);
  deepEqual(outer.messages, ['Invalid config "out": expected an object, got 2']);
  throws(() => new ConfigObject(3, "after"), TypeError);
  throws(() => new ConfigObject(3, "after"), ConfigError);
});

Deno.test("ConfigErrors.hide() hides a value in the errors of its own context only", () => {
  const errors = new ConfigErrors();
  expandEnv({ a: "${TOKEN}" }, (name) => name === "TOKEN" ? "t0ps3cret" : undefined, { errors });
  const fresh = new ConfigErrors();
  const d = new ConfigObject({ a: "t0ps3cret" }, "top", { errors: fresh });
  d.integer("a", 0);
  deepEqual(fresh.messages, [
    'Invalid config "top.a": expected an integer from 0 to 9007199254740991, got "t0ps3cret"',
  ]);
  const e = new ConfigObject({ a: "t0ps3cret", b: ["x t0ps3cret"] }, "other", { errors });
  e.integer("a", 0);
  e.boolean("b", false);
  deepEqual(errors.messages, [
    'Invalid config "other.a": expected an integer from 0 to 9007199254740991, got "${TOKEN}"',
    'Invalid config "other.b": expected a boolean, got ["x ${TOKEN}"]',
  ]);
});

Deno.test("ConfigError carries the path of the offending key", () => {
  const c = new ConfigObject({ n: -1 }, "realms[0].limits");
  throws(() => c.integer("n", 1, 1), (error: unknown) => {
    ok(error instanceof ConfigError);
    equal(error.path, "realms[0].limits.n");
    equal(error.name, "TypeError");
    return true;
  });
  const semantic = c.error("name", '"a b" is not a valid URI');
  equal(semantic.path, "realms[0].limits.name");
  equal(semantic.message, 'Invalid config "realms[0].limits.name": "a b" is not a valid URI');
  const errors = new ConfigErrors();
  errors.collect(() => {
    throw semantic;
  }, "realms[0]");
  deepEqual(errors.errors.map((e) => [e.path, e.message]), [[semantic.path, semantic.message]]);
});

Deno.test("ConfigObject.secret: 16 characters or more, a shorter one rejected without showing it", () => {
  const c = new ConfigObject({ token: "sixteen-chars-xx", short: "s3cret" }, "admin");
  equal(c.secret("token"), "sixteen-chars-xx");
  throws(
    () => c.secret("short"),
    /^TypeError: Invalid config "admin\.short": expected at least 16 characters$/,
  );
  const errors = new ConfigErrors();
  new ConfigObject({ short: "s3cret" }, "admin", { errors }).secret("short");
  deepEqual(errors.messages, ['Invalid config "admin.short": expected at least 16 characters']);
});
