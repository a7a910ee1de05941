/**
 * The body of `dashboard_test.ts`, run by it as `deno run -A` (playwright-core
 * reads /proc paths at load, which Deno grants only with --allow-all, more
 * than `deno task test` gives): the service started with `--admin` serves
 * the dashboard; in Debian's headless Chromium, while traffic runs, its
 * sessions table and rate figures change without a reload (the stream from
 * `/events`). A screenshot goes to a temp folder removed at the end. Exits
 * 0 and prints "dashboard ok" when every check passed.
 */

import { equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { connect, type Session } from "../../mod.ts";
import { launchChromium } from "../_helpers/browser.ts";
import { until } from "../_helpers/router.ts";
import { DENO_RUN, startService } from "../cli/_service.ts";

/** The page's DOM, as far as the checks below use it (they run in the page). */
declare const document: {
  getElementById(id: string): { textContent: string | null } | null;
  querySelectorAll(selector: string): { length: number };
};
/** The page's window, where the test leaves a mark a reload would wipe. */
declare const window: { loaded?: number };

const ADMIN_LINE = /Admin listener on (http:\/\/[^\s]+) /;

async function main(): Promise<void> {
  await using service = await startService(Deno.execPath(), [
    ...DENO_RUN,
    "--listen",
    "127.0.0.1:0",
    "--admin",
    "127.0.0.1:0",
  ]);
  await until(() => service.lines.some((l) => ADMIN_LINE.test(l)), 10_000, "the admin line");
  const adminUrl = ADMIN_LINE.exec(service.lines.find((l) => ADMIN_LINE.test(l))!)![1]!;
  const browser = await launchChromium();
  const shots = await Deno.makeTempDir({ prefix: "cloverleaf_dashboard_" });
  const sessions: Session[] = [];
  let traffic: ReturnType<typeof setInterval> | undefined;
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(adminUrl, { timeout: 15_000 });
    await page.evaluate(() => {
      window.loaded = 1;
    });
    const waitFor = (check: (arg: string) => boolean | undefined, arg = "") =>
      page.waitForFunction(check, arg, { timeout: 10_000 });
    await waitFor(() => document.getElementById("status")?.textContent?.includes("live"));
    const text = (id: string) => page.$eval(`#${id}`, (e) => e.textContent ?? "");
    const rows = () => page.$$eval("#sessions tr[data-session]", (r) => r.length);
    equal(await rows(), 0);
    equal(await text("kpi-sessions"), "0");
    equal(await text("kpi-realms"), "1 realm");

    // Traffic: a callee, a subscriber and a publisher-caller.
    for (let i = 0; i < 3; i++) sessions.push(await connect(service.urls[0]!, { realm: "realm1" }));
    const [callee, subscriber, client] = sessions as [Session, Session, Session];
    await callee.register("com.example.echo", (args) => ({ args }));
    await subscriber.subscribe("com.example.ticks", () => {});
    traffic = setInterval(() => {
      for (let i = 0; i < 20; i++) client.publish("com.example.ticks", { args: [i] });
      client.call("com.example.echo", { args: [1] }).catch(() => {});
    }, 20);

    await waitFor(() => document.querySelectorAll("#sessions tr[data-session]").length === 3);
    equal(await text("kpi-sessions"), "3");
    const authids = await page.$$eval(
      "#sessions tr[data-session] td:nth-child(3)",
      (cells) => cells.map((c) => c.textContent),
    );
    equal(new Set(authids).size, 3);
    // The rates move: read them twice while traffic flows.
    await waitFor(() =>
      Number(document.getElementById("rate-in")?.textContent?.replace("k", "e3")) > 100
    );
    const first = await text("rate-out");
    await waitFor((before) => document.getElementById("rate-out")?.textContent !== before, first);
    ok(Number((await text("rate-events")).replace("k", "e3")) > 0, "events per second");
    await waitFor(() =>
      document.getElementById("topics")?.textContent?.includes("com.example.ticks")
    );
    ok((await text("procedures")).includes("com.example.echo"));

    // A session leaves: its row goes, still without a reload.
    clearInterval(traffic);
    traffic = undefined;
    await sessions.pop()!.close();
    await waitFor(() => document.querySelectorAll("#sessions tr[data-session]").length === 2);
    equal(
      await page.evaluate(() => window.loaded),
      1,
      "the page was not reloaded",
    );
    const file = join(shots, "dashboard.png");
    await page.screenshot({ path: file, fullPage: true });
    ok((await Deno.stat(file)).size > 10_000, "a screenshot was saved");
  } finally {
    if (traffic !== undefined) clearInterval(traffic);
    for (const session of sessions) await session.close().catch(() => {});
    await browser.close();
    await Deno.remove(shots, { recursive: true });
  }
}

await main();
console.log("dashboard ok");
