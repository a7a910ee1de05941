import { deepEqual, equal, throws } from "node:assert/strict";
import { testPki } from "../_helpers/tls.ts";
import { ConfigError, ConfigErrors } from "../../config/mod.ts";
import { parseAddress, resolveListenerOptions, toListenOptions } from "../../transports/config.ts";

const DEFAULTS = {
  type: "universal",
  host: "127.0.0.1",
  port: 8080,
  serializers: ["json", "msgpack", "cbor"],
  batched: true,
  maxMessageSize: 16777216,
  maxConnections: 0,
  acceptCheckInterval: 5000,
  handshakeTimeout: 10000,
  http: { bodyTimeout: 60000, idleTimeout: 60000 },
  helloTimeout: 10000,
  pingInterval: 30000,
  pingTimeout: 10000,
  outbound: { maxBacklog: 2097152, maxBacklogMessages: 32768, slowConsumer: "drop" },
  paths: ["/ws", "/"],
  compression: { enabled: false, threshold: 256, level: 6 },
  allowedOrigins: [],
  longpoll: { path: "/lp", pollTimeout: 10000, sessionTimeout: 60000, maxTransportsPerSource: 16 },
};

Deno.test("resolveListenerOptions() fills in every default", () => {
  deepEqual(resolveListenerOptions({ type: "universal" }, "listeners[0]"), DEFAULTS);
  equal(resolveListenerOptions({ type: "websocket" }, "l").type, "websocket");
});

Deno.test("resolveListenerOptions() keeps every key given", () => {
  const input = {
    type: "universal",
    host: "::",
    port: 0,
    serializers: ["cbor"],
    batched: false,
    maxMessageSize: 1024,
    maxConnections: 100,
    acceptCheckInterval: 0,
    handshakeTimeout: 500,
    http: { bodyTimeout: 700, idleTimeout: 800 },
    helloTimeout: 0,
    pingInterval: 0,
    pingTimeout: 2000,
    outbound: { maxBacklog: 0, maxBacklogMessages: 10, slowConsumer: "close" },
    paths: ["/wamp"],
    compression: { enabled: true, threshold: 0, level: 1 },
    allowedOrigins: ["https://*.example.com"],
    cookie: { name: "sid", maxAge: 60 },
    longpoll: { path: "/poll", pollTimeout: 1000, sessionTimeout: 2000, maxTransportsPerSource: 0 },
  };
  deepEqual(resolveListenerOptions(input, "l"), input);
  deepEqual(
    resolveListenerOptions({ type: "websocket", outbound: {} }, "l").outbound,
    DEFAULTS.outbound,
  );
  deepEqual(
    resolveListenerOptions({ type: "websocket", compression: {} }, "l").compression,
    { enabled: true, threshold: 256, level: 6 },
    "a compression object turns it on",
  );
  equal(
    resolveListenerOptions({ type: "rawsocket", unix: "/tmp/w.sock" }, "l").unix,
    "/tmp/w.sock",
  );
});

Deno.test("resolveListenerOptions() reads TLS files and names a missing one", async () => {
  const pki = await testPki();
  const tls = resolveListenerOptions({
    type: "universal",
    tls: {
      cert: `${pki.dir}/server.pem`,
      key: `${pki.dir}/server.key`,
      ca: `${pki.dir}/ca.pem`,
      clientCertificates: "request",
    },
  }, "l").tls!;
  equal(tls.cert, pki.cert);
  equal(tls.key, pki.key);
  deepEqual(tls.ca, [pki.ca]);
  equal(tls.clientCertificates, "request");
  throws(
    () =>
      resolveListenerOptions({ type: "universal", tls: { cert: "/nope.pem", key: "/nope" } }, "l"),
    /"l\.tls\.cert": cannot read "\/nope\.pem"/,
  );
  throws(
    () =>
      resolveListenerOptions({
        type: "universal",
        tls: {
          cert: `${pki.dir}/server.pem`,
          key: `${pki.dir}/server.key`,
          clientCertificates: "require",
        },
      }, "l"),
    /"l\.tls\.clientCertificates": needs "ca"/,
  );
});

Deno.test("toListenOptions() turns off the protocols a listener type does not serve", () => {
  const only = (type: string) => toListenOptions(resolveListenerOptions({ type }, "l"));
  equal(only("rawsocket").websocket, false);
  equal(only("rawsocket").longpoll, false);
  equal(only("websocket").rawsocket, false);
  equal(only("longpoll").websocket, false);
  const all = only("universal");
  equal(typeof all.websocket, "object");
  equal(typeof all.rawsocket, "object");
  equal(typeof all.longpoll, "object");
  deepEqual(all.attach, { ...DEFAULTS.outbound, helloTimeout: 10000 });
});

Deno.test("toListenOptions() gives long-poll the listener's allowedOrigins and the HTTP timeouts", () => {
  const options = toListenOptions(
    resolveListenerOptions({
      type: "longpoll",
      allowedOrigins: ["https://app.example.com"],
      http: { bodyTimeout: 5000 },
    }, "l"),
  );
  deepEqual(options.longpoll && options.longpoll.allowedOrigins, ["https://app.example.com"]);
  deepEqual(options.http, { bodyTimeout: 5000, idleTimeout: 60000 });
  throws(
    () => resolveListenerOptions({ type: "rawsocket", http: {} }, "l"),
    /"l\.http": only for "universal", "websocket", "longpoll" listeners/,
  );
  throws(
    () => resolveListenerOptions({ type: "universal", http: { idleTimeout: 0 } }, "l"),
    /"l\.http\.idleTimeout"/,
  );
});

Deno.test("resolveListenerOptions() accepts IPv4, IPv6 and hostnames", () => {
  for (
    const host of [
      "0.0.0.0",
      "192.168.1.255",
      "::",
      "::1",
      "fe80::1",
      "2001:db8::8a2e:370:7334",
      "::ffff:10.0.0.1",
      "localhost",
      "router.example.com",
      "router.example.com.",
      "a-1.b2",
    ]
  ) {
    equal(resolveListenerOptions({ type: "websocket", host }, "l").host, host);
  }
});

Deno.test("resolveListenerOptions() rejects bad values, naming the full key path", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{}, /"listeners\[3\]\.type": expected a non-empty string, got nothing/],
    [
      { type: "mqtt" },
      /"listeners\[3\]\.type": expected one of "universal", "websocket", "rawsocket", "longpoll"/,
    ],
    [
      { type: "rawsocket", paths: ["/ws"] },
      /"listeners\[3\]\.paths": only for "universal", "websocket" listeners/,
    ],
    [{ type: "websocket", longpoll: {} }, /"listeners\[3\]\.longpoll": only for/],
    [{ unix: "/tmp/x", port: 1 }, /"listeners\[3\]\.unix": a listener has either/],
    [{ compression: { level: 10 } }, /"listeners\[3\]\.compression\.level"/],
    [{ longpoll: { path: "lp" } }, /"listeners\[3\]\.longpoll\.path"/],
    [{ pingInterval: -1 }, /"listeners\[3\]\.pingInterval"/],
    [{ tls: { cert: "/x" } }, /"listeners\[3\]\.tls\.cert": cannot read/],
    [{ host: "256.0.0.1" }, /"listeners\[3\]\.host": expected an IPv4 or IPv6/],
    [{ host: "1.2.3" }, /"listeners\[3\]\.host"/],
    [{ host: "[::1]" }, /"listeners\[3\]\.host"/],
    [{ host: "1::2::3" }, /"listeners\[3\]\.host"/],
    [{ host: "-bad.example" }, /"listeners\[3\]\.host"/],
    [{ host: "under_score" }, /"listeners\[3\]\.host"/],
    [{ host: "" }, /"listeners\[3\]\.host"/],
    [
      { port: -1 },
      /"listeners\[3\]\.port": expected an integer from 0 to 65535, got -1/,
    ],
    [{ port: 65536 }, /"listeners\[3\]\.port"/],
    [{ port: 80.5 }, /"listeners\[3\]\.port"/],
    [{ port: "80" }, /"listeners\[3\]\.port"/],
    [{ paths: "/ws" }, /"listeners\[3\]\.paths": expected an array/],
    [{ paths: [] }, /"listeners\[3\]\.paths": expected a non-empty array/],
    [
      { paths: ["/ws", "ws"] },
      /"listeners\[3\]\.paths\[1\]": expected a path, got "ws"/,
    ],
    [{ paths: ["/ws", "/ws"] }, /"listeners\[3\]\.paths\[1\]": "\/ws" repeats/],
    [
      { serializers: ["json", "xml"] },
      /"listeners\[3\]\.serializers\[1\]": expected one of/,
    ],
    [{ serializers: [1] }, /"listeners\[3\]\.serializers\[0\]"/],
    [{ maxMessageSize: 511 }, /"listeners\[3\]\.maxMessageSize"/],
    [{ maxMessageSize: 2 ** 27 }, /"listeners\[3\]\.maxMessageSize"/],
    [{ outbound: 1 }, /"listeners\[3\]\.outbound": expected an object/],
    [
      { outbound: { maxBacklog: -1 } },
      /"listeners\[3\]\.outbound\.maxBacklog"/,
    ],
    [
      { outbound: { slowConsumer: "queue" } },
      /"listeners\[3\]\.outbound\.slowConsumer"/,
    ],
    [
      { outbound: { extra: 1 } },
      /"listeners\[3\]\.outbound\.extra": unknown key/,
    ],
    [{ tls: true }, /"listeners\[3\]\.tls": expected an object/],
  ];
  for (const [patch, pattern] of cases) {
    const input = "type" in patch || Object.keys(patch).length === 0
      ? patch
      : { type: "universal", ...patch };
    throws(
      () => resolveListenerOptions(input, "listeners[3]"),
      (error: unknown) => {
        equal((error as Error).name, "TypeError");
        equal((error as Error).message.includes("\n"), false);
        return pattern.test((error as Error).message);
      },
      JSON.stringify(patch),
    );
  }
  throws(
    () => resolveListenerOptions("websocket", "listeners[0]"),
    /"listeners\[0\]": expected an object/,
  );
});

Deno.test("parseAddress() reads host:port and [ipv6]:port", () => {
  deepEqual(parseAddress("0.0.0.0:8888", "--ws"), {
    host: "0.0.0.0",
    port: 8888,
  });
  deepEqual(parseAddress("127.0.0.1:0", "--ws"), {
    host: "127.0.0.1",
    port: 0,
  });
  deepEqual(parseAddress("localhost:65535", "--ws"), {
    host: "localhost",
    port: 65535,
  });
  deepEqual(parseAddress("[::1]:8080", "--ws"), { host: "::1", port: 8080 });
  deepEqual(parseAddress("[::]:1", "--ws"), { host: "::", port: 1 });
});

Deno.test("parseAddress() rejects bad addresses with one line naming the flag", () => {
  const cases: [string, RegExp][] = [
    ["localhost", /expected host:port/],
    ["8080", /expected host:port/],
    [":8080", /expected an IPv4 address or a hostname/],
    ["1.2.3:80", /expected an IPv4 address or a hostname/],
    ["bad host:80", /expected an IPv4 address or a hostname/],
    ["127.0.0.1:", /expected a port/],
    ["127.0.0.1:65536", /expected a port/],
    ["127.0.0.1:-1", /expected a port/],
    ["127.0.0.1:80x", /expected a port/],
    ["::1:8080", /in brackets/],
    ["[::1]", /expected \[ipv6\]:port/],
    ["[::1]:", /expected a port/],
    ["[1.2.3.4]:80", /expected an IPv6 address in brackets/],
    ["[::1]:80:80", /expected a port/],
  ];
  for (const [text, pattern] of cases) {
    throws(() => parseAddress(text, "--ws"), (error: unknown) => {
      const message = (error as Error).message;
      equal((error as Error).name, "TypeError");
      equal(
        message.startsWith(`Invalid --ws address ${JSON.stringify(text)}: `),
        true,
        message,
      );
      equal(message.includes("\n"), false);
      return pattern.test(message);
    }, text);
  }
});

Deno.test("resolveListenerOptions() with a ConfigErrors context records every type error", () => {
  const errors = new ConfigErrors();
  const listener = resolveListenerOptions(
    {
      type: "websocket",
      port: "80",
      outbound: { maxBacklog: -1, backlog: 1 },
      compression: { level: 10 },
      cookie: { name: "" },
      http: { idleTimeout: 0 },
    },
    "listeners[0]",
    { errors },
  );
  deepEqual(errors.messages, [
    'Invalid config "listeners[0].port": expected an integer from 0 to 65535, got "80"',
    'Invalid config "listeners[0].outbound.maxBacklog": expected an integer from 0 to 9007199254740991, got -1',
    'Invalid config "listeners[0].outbound.backlog": unknown key',
    'Invalid config "listeners[0].compression.level": expected an integer from 0 to 9, got 10',
    'Invalid config "listeners[0].cookie.name": expected a non-empty string, got ""',
    'Invalid config "listeners[0].http.idleTimeout": expected an integer from 1 to 9007199254740991, got 0',
  ]);
  equal(listener.port, 8080);
  deepEqual(listener.outbound, DEFAULTS.outbound);
});

Deno.test("parseAddress() throws a ConfigError whose path is the flag", () => {
  throws(
    () => parseAddress("localhost", "--ws"),
    (error: unknown) =>
      error instanceof ConfigError && error.path === "--ws" &&
      error.message === 'Invalid --ws address "localhost": expected host:port, or [ipv6]:port',
  );
});
