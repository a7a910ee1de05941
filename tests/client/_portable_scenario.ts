/**
 * The scenario each runtime (Deno, headless Chromium, Node 20) runs with
 * `./client` against the router of `_portable.ts`. It takes the client
 * module as a parameter and imports nothing else, so it bundles on its own
 * and runs wherever the client is loaded.
 *
 * @module
 */

import type * as Client from "../../client/mod.ts";

/** What the scenario needs to know: where to connect and with what. */
export interface ScenarioConfig {
  /** The router's URL (WebSocket or RawSocket). */
  url: string;
  /** The cryptosign seed of `carol`, hex. */
  seed: string;
  /** Serializers for the two anonymous sessions. */
  serializers: [Client.SerializerName, Client.SerializerName];
  /** Connect with the global WebSocket. */
  globalWebSocket?: boolean;
}

/** What the scenario reports, compared with {@linkcode EXPECTED}. */
export interface ScenarioResult {
  sum: unknown;
  event: unknown;
  cra: unknown;
  cryptosign: unknown;
  scram: unknown;
  secureCall: unknown;
  publicKey: unknown;
  refused: unknown;
}

/**
 * Joins, registers, calls, subscribes, publishes, and logs in with each
 * authentication method, through the client module given.
 *
 * @param client The client module (`./client`, bundled or not).
 * @param config Where and how.
 * @returns What happened.
 */
export async function scenario(
  client: typeof Client,
  config: ScenarioConfig,
): Promise<ScenarioResult> {
  const { url, seed, serializers } = config;
  const transport = config.globalWebSocket === undefined
    ? {}
    : { globalWebSocket: config.globalWebSocket };
  const open = (serializer: Client.SerializerName, extra: Partial<Client.ConnectOptions> = {}) =>
    client.connect(url, { realm: "realm1", serializers: [serializer], ...transport, ...extra });
  const within = <T>(promise: Promise<T>, what: string): Promise<T> =>
    Promise.race([
      promise,
      new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: timeout`)), 5000)),
    ]);
  const callee = await open(serializers[0]);
  const caller = await open(serializers[1]);
  await callee.register("com.example.add", (args) => ({
    args: [Number(args[0]) + Number(args[1])],
  }));
  const sum = (await caller.call("com.example.add", { args: [2, 3] })).args[0];
  let received: (value: unknown) => void = () => {};
  const arrived = new Promise((resolve) => received = resolve);
  await callee.subscribe("com.example.topic", (event) => received([...event.args]));
  await caller.publish("com.example.topic", { args: ["hello", { n: 1 }] }, { acknowledge: true });
  const event = await within(arrived, "event");
  await caller.close();
  await callee.close();

  const joined = (
    s: Client.Session,
  ) => [s.details.authid, s.details.authmethod, s.details.authrole];
  const secure = (extra: Partial<Client.ConnectOptions>) =>
    client.connect(url, { realm: "secure", serializers: ["json"], ...transport, ...extra });
  const bob = await secure({ authid: "bob", secret: "pa55" });
  const carol = await secure({ cryptosign: { seed } });
  const dave = await secure({ authid: "dave", password: "pencil" });
  await carol.register("com.example.ping", () => ({ args: [`pong from ${carol.details.authid}`] }));
  const secureCall = (await bob.call("com.example.ping")).args;
  const result = { cra: joined(bob), cryptosign: joined(carol), scram: joined(dave) };
  for (const session of [bob, carol, dave]) await session.close();
  let refused: unknown = "joined";
  try {
    (await secure({ authid: "bob", secret: "wrong" })).close();
  } catch (error) {
    refused = (error as Client.SessionClosedError).reason;
  }
  const publicKey = (await client.createCryptosignKeyPair(seed)).publicKey;
  return { sum, event, ...result, secureCall, publicKey, refused };
}
