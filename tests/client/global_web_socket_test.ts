/**
 * The client's link over the platform's global `WebSocket` (what browsers
 * use), against a WebSocket server on 127.0.0.1 that sends what a router
 * should not: after the first frame that does not decode, is over the size
 * limit or is of the wrong kind, the handler gets that failure and nothing
 * more, and the link closes the socket with the protocol-violation reason.
 */

import { deepEqual, equal, match, ok } from "node:assert/strict";
import { connectGlobalWebSocket } from "../../client/links/web_socket.ts";
import { connect, ErrorUri, SessionClosedError } from "../../mod.ts";
import type { PeerHandler } from "../../wamp/mod.ts";
import { until, within } from "../_helpers/router.ts";

/** A WebSocket server speaking `wamp.2.json` that sends `frames` as soon as a client opens. */
function misbehaving(frames: (string | Uint8Array)[]) {
  const closes: { code: number; reason: string }[] = [];
  const received: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request, { protocol: "wamp.2.json" });
    socket.onopen = () => {
      for (const frame of frames) socket.send(frame);
    };
    socket.onmessage = (event) => received.push(String(event.data));
    socket.onclose = (event) => closes.push({ code: event.code, reason: event.reason });
    return response;
  });
  return { url: `ws://127.0.0.1:${server.addr.port}`, server, closes, received };
}

/** A handler that records and never closes the link itself. */
function recording() {
  const got: string[] = [];
  const handler: PeerHandler = {
    receive: (msg) => void got.push(`receive ${msg.type}`),
    fail: (error) => void got.push(`fail ${error.message}`),
    closed: () => void got.push("closed"),
  };
  return { got, handler };
}

const WELCOME = JSON.stringify([2, 1, { roles: { broker: {} } }]);

Deno.test("global WebSocket link: nothing is delivered after a frame that does not decode, and the socket closes", async () => {
  const cases: [string, (string | Uint8Array)[], RegExp][] = [
    ["not JSON", ["{not json", WELCOME, WELCOME], /^fail Cannot decode json message/],
    ["not WAMP", ['["hello"]', WELCOME], /^fail /],
    ["binary on json", [new Uint8Array([1, 2]), WELCOME], /text\/binary frame/],
    ["too big", [`[2,1,{"x":"${"a".repeat(2000)}"}]`, WELCOME], /message over 1000 bytes/],
  ];
  for (const [name, frames, failure] of cases) {
    const peer = misbehaving(frames);
    try {
      const link = await connectGlobalWebSocket(peer.url, { maxMessageSize: 1000 });
      // Bound late: what arrived early (the failure, and what followed) is handed on at bind.
      await new Promise((resolve) => setTimeout(resolve, 50));
      const { got, handler } = recording();
      link.bind(handler);
      await until(() => got.includes("closed"), 5000, `${name}: the link closes`);
      equal(got.length, 2, `${name}: ${JSON.stringify(got)}`);
      match(got[0]!, failure, name);
      equal(got[1], "closed", name);
      await until(() => peer.closes.length === 1, 5000, `${name}: the server sees the close`);
      deepEqual(peer.closes, [{ code: 1000, reason: ErrorUri.PROTOCOL_VIOLATION }], name);
    } finally {
      await peer.server.shutdown();
    }
  }
});

Deno.test("global WebSocket link: a session that gets a bad frame aborts with protocol_violation and reads no further", async () => {
  // The router would answer HELLO with WELCOME; this one sends garbage first, then a WELCOME.
  const peer = misbehaving(["[2,", WELCOME]);
  try {
    let error: unknown;
    await within(
      connect(peer.url, { realm: "realm1", globalWebSocket: true }).then(
        () => ok(false, "joined after a bad frame"),
        (e) => error = e,
      ),
      5000,
      "the join fails",
    );
    ok(error instanceof SessionClosedError, String(error));
    equal(error.reason, ErrorUri.PROTOCOL_VIOLATION);
    await until(() => peer.closes.length === 1, 5000, "the server sees the close");
    equal(peer.closes[0]!.code, 1000);
    // The ABORT the client sent on the bad frame (after its HELLO, when that went out first).
    const abort = peer.received.at(-1)!;
    match(
      abort,
      /^\[3,\{"message":"Cannot decode json message.*"wamp\.error\.protocol_violation"\]$/,
    );
    ok(peer.received.slice(0, -1).every((m) => m.startsWith("[1,")), String(peer.received));
  } finally {
    await peer.server.shutdown();
  }
});
