/**
 * Debian's headless Chromium, driven by `playwright-core`, and esbuild
 * bundles, for the tests that run our code in a browser. A missing
 * `chromium` fails the test that asks for one: `.ci/run` installs it from
 * Debian's packages.
 *
 * @module
 */

import { existsSync } from "node:fs";
import { type Browser, importEsbuild, importPlaywright } from "../_deps.ts";

/** Where Debian's `chromium` package puts the browser. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/**
 * Launches headless Chromium. Close it with `browser.close()`.
 *
 * @returns The browser.
 * @throws {Error} When Chromium is not installed.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `${CHROMIUM_PATH} is missing: install Debian's chromium package (.ci/run does)`,
    );
  }
  const { chromium } = await importPlaywright();
  return await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    timeout: 30_000,
  });
}

/** What {@linkcode bundle} makes. */
export interface Bundle {
  /** The bundled JavaScript. */
  readonly code: string;
  /** Its size in bytes. */
  readonly bytes: number;
}

/**
 * Bundles one module and everything it imports into one ES module, as
 * esbuild does for a web page (`platform: "browser"`) or for Node
 * (`platform: "node"`).
 *
 * @param entry A path to the entry module.
 * @param options `minify`, and the platform (default `browser`).
 * @returns The bundle.
 */
export async function bundle(
  entry: string,
  options: { minify?: boolean; platform?: "browser" | "node" } = {},
): Promise<Bundle> {
  const esbuild = await importEsbuild();
  try {
    const result = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      format: "esm",
      platform: options.platform ?? "browser",
      minify: options.minify ?? false,
      logLevel: "silent",
    });
    const file = result.outputFiles[0];
    if (file === undefined) throw new Error(`esbuild wrote nothing for ${entry}`);
    return { code: file.text, bytes: file.contents.byteLength };
  } finally {
    await esbuild.stop();
  }
}
