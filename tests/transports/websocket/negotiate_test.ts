/**
 * The one WebSocket negotiation (`transports/websocket/negotiate.ts`) and
 * the two servers that use it: the listener's upgrade and the `Deno.serve`
 * handler refuse and accept alike.
 *
 * @module
 */

import { deepEqual, equal, match, ok } from "node:assert/strict";
import {
  negotiateSubprotocol,
  negotiateWebSocket,
  pickSubprotocol,
  supportedSubprotocols,
} from "../../../transports/websocket/negotiate.ts";
import { webSocketHandler } from "../../../transports/websocket/deno_serve.ts";
import { Router } from "../../../router/mod.ts";
import { cbor, json, msgpack } from "../../../wamp/mod.ts";

const plain = { secure: false };

Deno.test("negotiateWebSocket() checks the origin first, then the subprotocol", () => {
  const headers = new Headers({
    origin: "https://evil.net",
    "sec-websocket-protocol": "wamp.2.foo",
  });
  deepEqual(
    negotiateWebSocket({ ...plain, headers }, {}, { allowedOrigins: ["https://*.example.com"] }),
    { status: 403, text: "Origin not allowed: https://evil.net" },
  );
  deepEqual(negotiateWebSocket({ ...plain, headers }, {}, { batched: false }), {
    status: 400,
    text:
      "No supported WAMP subprotocol offered: use one of wamp.2.json, wamp.2.msgpack, wamp.2.cbor",
  });
});

Deno.test("negotiateWebSocket() takes the client's first supported subprotocol, batched or not", () => {
  const headers = new Headers({
    origin: "https://app.example.com",
    "sec-websocket-protocol": "wamp.2.foo, wamp.2.msgpack.batched , wamp.2.json",
  });
  const allowedOrigins = ["https://*.example.com"];
  const batched = negotiateWebSocket({ ...plain, headers }, {}, { allowedOrigins });
  ok("serializer" in batched);
  equal(batched.subprotocol, "wamp.2.msgpack.batched");
  equal(batched.serializer, msgpack);
  equal(batched.batched, true);
  equal(batched.cookie, undefined);
  const unbatched = negotiateWebSocket({ ...plain, headers }, {}, { batched: false });
  ok("serializer" in unbatched);
  equal(unbatched.subprotocol, "wamp.2.json");
  equal(unbatched.batched, false);
});

Deno.test("negotiateWebSocket() makes a fresh tracking cookie and renews a presented one", () => {
  const renewed: [string, string][] = [];
  const acceptor = { renewCookie: (old: string, fresh: string) => void renewed.push([old, fresh]) };
  const headers = new Headers({
    "sec-websocket-protocol": "wamp.2.cbor",
    cookie: "other=1; cbtid=abcdefghijklmnopqrst",
  });
  const chosen = negotiateWebSocket({ headers, secure: true }, acceptor, { cookie: {} });
  ok("cookie" in chosen && chosen.cookie !== undefined);
  equal(chosen.serializer, cbor);
  deepEqual(renewed, [["abcdefghijklmnopqrst", chosen.cookie.value]]);
  match(
    chosen.cookie.setCookie,
    /^cbtid=[\w-]{32}; Max-Age=86400; Path=\/; HttpOnly; SameSite=Lax; Secure$/,
  );
  // A refused upgrade renews nothing.
  const refused = negotiateWebSocket(
    { headers: new Headers({ cookie: "cbtid=abcdefghijklmnopqrst" }), secure: true },
    acceptor,
    { cookie: {} },
  );
  equal("status" in refused && refused.status, 400);
  equal(renewed.length, 1);
});

Deno.test("pickSubprotocol(), negotiateSubprotocol() and supportedSubprotocols() agree", () => {
  equal(negotiateSubprotocol(" wamp.2.cbor , wamp.2.json", [json, cbor]), cbor);
  equal(negotiateSubprotocol("wamp.2.json.batched", [json]), undefined);
  equal(pickSubprotocol("wamp.2.json.batched", [json], true)?.serializer, json);
  deepEqual(supportedSubprotocols([json, cbor], true), [
    "wamp.2.json",
    "wamp.2.json.batched",
    "wamp.2.cbor",
    "wamp.2.cbor.batched",
  ]);
  deepEqual(supportedSubprotocols([json], false), ["wamp.2.json"]);
});

Deno.test("webSocketHandler() refuses through the same negotiation: origin 403, subprotocol 400", async () => {
  const router = new Router({ realms: [{ name: "realm1" }] });
  const handle = webSocketHandler(router, { allowedOrigins: ["https://*.example.com"] });
  const upgrade = (headers: Record<string, string>) =>
    handle(
      new Request("http://localhost/ws", {
        headers: { upgrade: "websocket", connection: "upgrade", ...headers },
      }),
    );
  const forbidden = upgrade({
    origin: "https://evil.net",
    "sec-websocket-protocol": "wamp.2.json",
  });
  equal(forbidden.status, 403);
  equal(await forbidden.text(), "Origin not allowed: https://evil.net\n");
  const unsupported = upgrade({ "sec-websocket-protocol": "wamp.2.json.batched" });
  equal(unsupported.status, 400);
  equal(
    await unsupported.text(),
    "No supported WAMP subprotocol offered: use one of wamp.2.json, wamp.2.msgpack, wamp.2.cbor\n",
  );
  await router.close();
});
