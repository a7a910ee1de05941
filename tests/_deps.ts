// deno-lint-ignore-file no-import-prefix
/**
 * The test-only npm packages, each at its exact version, in one place.
 * They are not in deno.json's import map and their lock entries live in
 * deno.dev.lock (`deno task test`, `deno task check`), not deno.lock:
 * Deno installs every package of the lockfile a command uses, so a cold
 * `deno task start` would otherwise fetch them all. Loaders are
 * functions, so a test loads only what it uses.
 *
 * @module
 */

/** A Playwright browser. */
export type { Browser } from "npm:playwright-core@1.65.2";
/** An esbuild plugin. */
export type { Plugin as EsbuildPlugin } from "npm:esbuild@0.28.2";
/** The wampy module. */
export type WampyModule = typeof import("npm:wampy@8.0.2");
/** The thruway.js module. */
export type ThruwayModule = typeof import("npm:thruway.js@2.0.7");

/** Loads playwright-core (tests/_helpers/browser.ts). */
export const importPlaywright = () => import("npm:playwright-core@1.65.2");
/** Loads esbuild (tests/_helpers/browser.ts, cli/bundle.ts). */
export const importEsbuild = () => import("npm:esbuild@0.28.2");
/** Loads Autobahn|JS (tests/interop/_autobahn.ts). */
export const importAutobahn = () => import("npm:autobahn@26.3.1");
/** Loads wampy and its serializers (tests/interop/wampy_test.ts). */
export const importWampy = () =>
  Promise.all([
    import("npm:wampy@8.0.2"),
    import("npm:wampy@8.0.2/JsonSerializer.js"),
    import("npm:wampy@8.0.2/MsgpackSerializer.js"),
    import("npm:wampy@8.0.2/CborSerializer.js"),
  ]);
/**
 * Loads thruway.js, its WampErrorException and its peer rxjs 5's Observable
 * (tests/interop/thruway_test.ts); its peers rxjs 5.5.12 and ws 6 are in
 * deno.dev.lock.
 */
export const importThruway = () =>
  Promise.all([
    import("npm:thruway.js@2.0.7"),
    import("npm:thruway.js@2.0.7/src/Common/WampErrorException.js"),
    import("npm:rxjs@5.5.12/Observable.js"),
  ]);
