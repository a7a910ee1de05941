import { equal } from "node:assert/strict";
import {
  isReservedUri,
  isValidUri,
  type MatchPolicy,
  prefixMatch,
  wildcardMatch,
} from "../../wamp/uri.ts";

type UriCase = [uri: string, loose: boolean, strict: boolean];

/** Exact URIs: no empty components allowed. */
const EXACT: UriCase[] = [
  ["com.myapp.topic1", true, true],
  ["com", true, true],
  ["com.myapp.my_topic_2", true, true],
  ["0.1.2", true, true],
  ["com.MyApp.Topic", true, false],
  ["com.my-app.topic", true, false],
  ["com.myapp.tópico", true, false],
  ["com.myapp.話題", true, false],
  ["com.myapp.topic!", true, false],
  ["", false, false],
  [".", false, false],
  ["com..topic", false, false],
  [".com.myapp", false, false],
  ["com.myapp.", false, false],
  ["com.my app", false, false],
  ["com.myapp.topic ", false, false],
  [" com.myapp", false, false],
  ["com.my\tapp", false, false],
  ["com.my\napp", false, false],
  ["com.my\u00a0app", false, false],
  ["com.my#app", false, false],
  ["com.myapp.#", false, false],
  ["#", false, false],
];

/** Prefix and wildcard patterns: empty components allowed. */
const PATTERN: UriCase[] = [
  ["com.myapp.topic1", true, true],
  ["com.myapp.", true, true],
  ["com..topic", true, true],
  ["..topic", true, true],
  ["com.myapp..", true, true],
  [".", true, true],
  ["com.MyApp.", true, false],
  ["com..Topic", true, false],
  ["com.my-app..x", true, false],
  ["", false, false],
  ["com..my topic", false, false],
  ["com.\t.x", false, false],
  ["com.#.", false, false],
  ["com..#", false, false],
];

Deno.test("isValidUri() checks exact URIs", async (t) => {
  for (const [uri, loose, strict] of EXACT) {
    await t.step(JSON.stringify(uri), () => {
      equal(isValidUri(uri), loose, "loose, default match");
      equal(isValidUri(uri, { match: "exact" }), loose, "loose, exact");
      equal(isValidUri(uri, { strict: false }), loose, "strict: false");
      equal(isValidUri(uri, { strict: true }), strict, "strict");
      equal(
        isValidUri(uri, { strict: true, match: "exact" }),
        strict,
        "strict, exact",
      );
    });
  }
});

Deno.test("isValidUri() checks prefix and wildcard patterns", async (t) => {
  for (const [uri, loose, strict] of PATTERN) {
    await t.step(JSON.stringify(uri), () => {
      for (const match of ["prefix", "wildcard"] satisfies MatchPolicy[]) {
        equal(isValidUri(uri, { match }), loose, `loose, ${match}`);
        equal(
          isValidUri(uri, { strict: true, match }),
          strict,
          `strict, ${match}`,
        );
      }
    });
  }
});

Deno.test("isValidUri() allows empty components only in patterns", () => {
  equal(isValidUri("com..update"), false);
  equal(isValidUri("com..update", { match: "exact" }), false);
  equal(isValidUri("com..update", { match: "prefix" }), true);
  equal(isValidUri("com..update", { match: "wildcard" }), true);
});

Deno.test("isValidUri() refuses a URI that starts with U+0000 (WAMP's JSON would read it as binary)", () => {
  for (const match of ["exact", "prefix", "wildcard"] as const) {
    equal(isValidUri("\0abc", { match }), false, match);
    equal(isValidUri("a\0bc", { match }), true, match);
  }
});

type MatchCase = [pattern: string, uri: string, expected: boolean];

const PREFIX: MatchCase[] = [
  ["com.myapp", "com.myapp", true],
  ["com.myapp", "com.myapp.topic", true],
  ["com.myapp", "com.myapp2", true],
  ["com.myapp.obj1", "com.myapp.obj1-sub1", true],
  ["com.myapp.", "com.myapp.topic", true],
  ["com.myapp.", "com.myapp2", false],
  ["com.myapp.", "com.myapp", false],
  ["com.myapp.topic", "com.myapp", false],
  ["com.myapp", "org.myapp", false],
  ["com.myapp", "COM.MYAPP", false],
  ["", "com.myapp", true],
];

Deno.test("prefixMatch() matches string prefixes", async (t) => {
  for (const [pattern, uri, expected] of PREFIX) {
    await t.step(`${JSON.stringify(pattern)} ~ ${JSON.stringify(uri)}`, () => {
      equal(prefixMatch(pattern, uri), expected);
    });
  }
});

const WILDCARD: MatchCase[] = [
  ["com..update", "com.user.update", true],
  ["com..update", "com.order.update", true],
  ["com..update", "com.user.x.update", false],
  ["com..update", "com.update", false],
  ["com..update", "com.user.create", false],
  ["com.myapp..", "com.myapp.a.b", true],
  ["com.myapp..", "com.myapp.a", false],
  ["..", "a.b.c", true],
  ["..", "a.b", false],
  [".myapp.", "com.myapp.topic", true],
  [".myapp.", "com.other.topic", false],
  ["com.myapp.topic", "com.myapp.topic", true],
  ["com.myapp.topic", "com.myapp.topic2", false],
  ["com.myapp.topic", "com.myapp", false],
];

Deno.test("wildcardMatch() matches component by component", async (t) => {
  for (const [pattern, uri, expected] of WILDCARD) {
    await t.step(`${JSON.stringify(pattern)} ~ ${JSON.stringify(uri)}`, () => {
      equal(wildcardMatch(pattern, uri), expected);
    });
  }
});

Deno.test("wildcardMatch() compares long components (compared as slices) as short ones", () => {
  for (const n of [15, 16, 17, 40, 4000]) {
    const long = "a".repeat(n);
    for (const at of [0, n >> 1, n - 1]) {
      const other = long.slice(0, at) + "b" + long.slice(at + 1);
      equal(wildcardMatch(`x.${long}.`, `x.${long}.y`), true, `${n}`);
      equal(wildcardMatch(`.${long}`, `x.${other}`), false, `${n} differing at ${at}`);
      equal(wildcardMatch(`${other}.`, `${long}.y`), false, `${n} differing at ${at}`);
    }
    equal(wildcardMatch(`.${long}`, `x.${long}a`), false, "longer");
    equal(wildcardMatch(`.${long}.z`, `x.${long}`), false, "fewer components");
  }
});

const RESERVED: [uri: string, expected: boolean][] = [
  ["wamp", true],
  ["wamp.session.count", true],
  ["wamp.error.not_authorized", true],
  ["wamp.", true],
  ["wampy.topic", false],
  ["wamp_x.topic", false],
  ["com.wamp.topic", false],
  ["com.myapp.wamp", false],
  ["WAMP.session.count", false],
  ["", false],
];

Deno.test("isReservedUri() recognizes the wamp namespace", async (t) => {
  for (const [uri, expected] of RESERVED) {
    await t.step(JSON.stringify(uri), () => {
      equal(isReservedUri(uri), expected);
    });
  }
});
