import { deepEqual, equal, throws } from "node:assert/strict";
import {
  parseAddress,
  resolveListenerOptions,
  toServeWebSocketOptions,
} from "../../transports/config.ts";

Deno.test("resolveListenerOptions() fills in every default", () => {
  deepEqual(resolveListenerOptions({ type: "websocket" }, "listeners[0]"), {
    type: "websocket",
    host: "127.0.0.1",
    port: 8080,
    paths: ["/ws", "/"],
    serializers: ["json", "msgpack", "cbor"],
    maxMessageSize: 16777216,
    outbound: { maxBacklog: 1048576, slowConsumer: "drop" },
  });
});

Deno.test("resolveListenerOptions() keeps every key given", () => {
  const input = {
    type: "websocket",
    host: "::",
    port: 0,
    paths: ["/wamp"],
    serializers: ["cbor"],
    maxMessageSize: 1024,
    outbound: { maxBacklog: 0, slowConsumer: "close" },
  };
  deepEqual(resolveListenerOptions(input, "l"), input);
  deepEqual(
    resolveListenerOptions({ type: "websocket", outbound: {} }, "l").outbound,
    {
      maxBacklog: 1048576,
      slowConsumer: "drop",
    },
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
      { type: "rawsocket" },
      /"listeners\[3\]\.type": expected one of "websocket"/,
    ],
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
    [{ maxMessageSize: 0 }, /"listeners\[3\]\.maxMessageSize"/],
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
    [{ tls: true }, /"listeners\[3\]\.tls": unknown key/],
  ];
  for (const [patch, pattern] of cases) {
    const input = "type" in patch || Object.keys(patch).length === 0
      ? patch
      : { type: "websocket", ...patch };
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

Deno.test("toServeWebSocketOptions() maps host to hostname and copies the rest", () => {
  const listener = resolveListenerOptions({
    type: "websocket",
    host: "::1",
    port: 0,
  }, "l");
  deepEqual(toServeWebSocketOptions(listener), {
    hostname: "::1",
    port: 0,
    paths: ["/ws", "/"],
    serializers: ["json", "msgpack", "cbor"],
    maxMessageSize: 16777216,
    outbound: { maxBacklog: 1048576, slowConsumer: "drop" },
  });
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
