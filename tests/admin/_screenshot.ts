/**
 * Takes docs/dashboard.png: a router with three realms, two dozen sessions
 * over WebSocket and RawSocket (JSON, MessagePack, CBOR; anonymous, ticket
 * and WAMP-CRA), PubSub and RPC at varying rates, some failing calls, a
 * failed login and a slow consumer, then the dashboard in headless
 * Chromium after a minute of it. Not a test: run it by hand.
 *
 * ```sh
 * deno run -A tests/admin/_screenshot.ts [seconds=75]
 * ```
 */

import { ApplicationError, connect, listen, Router, type Session } from "../../mod.ts";
import { serveAdmin } from "../../router/mod.ts";
import type { SerializerName } from "../../wamp/mod.ts";
import { launchChromium } from "../_helpers/browser.ts";
import { stalledSubscriber } from "../_helpers/raw_rawsocket.ts";

const seconds = Number(Deno.args[0] ?? 75);
const principals = {
  "sensor-gw-1": { ticket: "gw-ticket-0001", role: "device" },
  "sensor-gw-2": { ticket: "gw-ticket-0002", role: "device" },
  "sensor-gw-3": { ticket: "gw-ticket-0003", role: "device" },
};
const router = new Router({
  logger: () => {},
  realms: [
    { name: "realm1" },
    { name: "iot", auth: { ticket: { principals } }, anonymous: false },
    {
      name: "ops",
      anonymous: false,
      auth: { wampcra: { users: { "ops-console": { secret: "s3cret-ops", role: "admin" } } } },
    },
  ],
});
const listener = await listen(router, {
  port: 0,
  attach: { maxBacklog: 256 * 1024, slowConsumer: "drop" },
});
const admin = await serveAdmin(router, { port: 0, listeners: [listener] });
const { websocket, rawsocket } = listener.urls;
const sessions: Session[] = [];
const open = async (
  realm: string,
  url: string,
  serializer: SerializerName,
  auth: Record<string, string> = {},
) => {
  const s = await connect(url, { realm, serializers: [serializer], ...auth });
  sessions.push(s);
  return s;
};

// realm1: a web shop.
const inventory = await open("realm1", rawsocket!, "msgpack");
await inventory.register(
  "com.acme.inventory.lookup",
  (args) => ({ args: [{ sku: args[0], stock: 12 }] }),
);
const pricing = await open("realm1", rawsocket!, "msgpack");
await pricing.register("com.acme.pricing.quote", (args) => {
  if (Math.random() < 0.04) {
    throw new ApplicationError("com.acme.error.no_price", { args: ["unknown SKU"] });
  }
  return { args: [Number(args[0]) * 1.2] };
});
await pricing.register("com.acme.payments.authorize", async () => {
  await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 30));
  return { args: [true] };
});
const browsers: Session[] = [];
for (let i = 0; i < 9; i++) {
  const serializer = (["json", "json", "cbor"] as const)[i % 3];
  const s = await open("realm1", websocket!, serializer!);
  await s.subscribe("com.acme.orders.created", () => {});
  await s.subscribe("com.acme.chat.message", () => {});
  browsers.push(s);
}
// iot: gateways publishing telemetry with tickets, dashboards subscribing.
const gateways: Session[] = [];
for (const [authid, { ticket }] of Object.entries(principals)) {
  gateways.push(await open("iot", rawsocket!, "cbor", { authid, ticket }));
}
for (let i = 0; i < 5; i++) {
  const s = await open("iot", websocket!, "msgpack", {
    authid: "sensor-gw-1",
    ticket: "gw-ticket-0001",
  });
  await s.subscribe("com.acme.sensors.", () => {}, { match: "prefix" });
}
// ops: a console over WAMP-CRA.
const ops = await open("ops", websocket!, "json", { authid: "ops-console", secret: "s3cret-ops" });
await ops.subscribe("wamp.session.on_join", () => {});
// A slow consumer on realm1's busiest topic.
const stalled = await stalledSubscriber(rawsocket!, "com.acme.orders.created");

let t = 0;
const timer = setInterval(() => {
  t += 0.05;
  const wave = 1 + 0.6 * Math.sin(t / 3) + 0.25 * Math.sin(t * 1.7);
  const shop = browsers[Math.floor(Math.random() * browsers.length)]!;
  for (let i = 0; i < Math.round(6 * wave); i++) {
    shop.call("com.acme.inventory.lookup", { args: [`SKU-${i}`] }).catch(() => {});
    shop.call("com.acme.pricing.quote", { args: [i] }).catch(() => {});
  }
  if (Math.random() < 0.5 * wave) shop.call("com.acme.payments.authorize").catch(() => {});
  for (let i = 0; i < Math.round(4 * wave); i++) {
    shop.publish("com.acme.orders.created", {
      args: [{ id: i, total: 42, items: "x".repeat(6000) }],
    });
  }
  if (Math.random() < 0.3) shop.publish("com.acme.chat.message", { args: ["hello"] });
  for (const g of gateways) {
    g.publish("com.acme.sensors.temperature", { args: [20 + Math.random()] });
    if (Math.random() < 0.6 * wave) {
      g.publish("com.acme.sensors.humidity", { args: [40 + Math.random()] });
    }
    if (Math.random() < 0.2) g.publish("com.acme.sensors.vibration", { args: [Math.random()] });
  }
  if (Math.random() < 0.01) shop.call("com.acme.missing.procedure").catch(() => {});
}, 50);
// Two failed logins along the way.
setTimeout(
  () =>
    connect(rawsocket!, { realm: "iot", authid: "sensor-gw-9", ticket: "nope" }).catch(() => {}),
  3000,
);
setTimeout(
  () =>
    connect(websocket!, { realm: "ops", authid: "ops-console", secret: "wrong" }).catch(() => {}),
  9000,
);

const browser = await launchChromium();
const page = await browser.newPage({
  viewport: { width: 1440, height: 1180 },
  deviceScaleFactor: 1,
});
await page.goto(admin.url);
await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
await page.screenshot({
  path: new URL("../../docs/dashboard.png", import.meta.url).pathname,
  fullPage: false,
});
await page.emulateMedia({ colorScheme: "dark" });
await new Promise((resolve) => setTimeout(resolve, 1500));
await page.screenshot({ path: "/tmp/dashboard-dark.png", fullPage: true });
await page.emulateMedia({ colorScheme: "light" });
await page.setViewportSize({ width: 420, height: 900 });
await new Promise((resolve) => setTimeout(resolve, 1500));
await page.screenshot({ path: "/tmp/dashboard-narrow.png", fullPage: false });
clearInterval(timer);
await browser.close();
stalled.destroy();
for (const s of sessions) await s.close().catch(() => {});
await admin.close();
await router.close();
await listener.close();
console.log("wrote docs/dashboard.png");
