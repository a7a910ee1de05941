/**
 * Opens a page in headless Chromium and prints, as JSON, what its script
 * left in `globalThis.outcome` and the page's uncaught errors. Run by
 * `browser_test.ts` with `deno run -A`: loading playwright-core needs
 * `--allow-all`, which `deno task test` does not grant.
 *
 * Usage: `deno run -A tests/client/_chromium.ts <url>`
 *
 * @module
 */

import { launchChromium } from "../_helpers/browser.ts";

const url = Deno.args[0];
if (url === undefined) throw new Error("usage: _chromium.ts <url>");
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.goto(url);
  await page.waitForFunction(() => "outcome" in globalThis, undefined, { timeout: 30_000 });
  const outcome = await page.evaluate(() => (globalThis as { outcome?: unknown }).outcome);
  const deno = await page.evaluate(() => typeof (globalThis as { Deno?: unknown }).Deno);
  const userAgent = await page.evaluate(() => navigator.userAgent);
  console.log(JSON.stringify({ outcome, errors, deno, userAgent }));
} finally {
  await browser.close();
}
