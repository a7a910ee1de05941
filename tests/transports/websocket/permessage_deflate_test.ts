import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { deflateRawSync } from "node:zlib";
import {
  acceptDeflateResponse,
  DEFLATE_OFFER,
  deflateMessage,
  inflateMessage,
  negotiateDeflate,
  parseExtensions,
} from "../../../transports/websocket/permessage_deflate.ts";

const BASE = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";

Deno.test("parseExtensions() reads tokens, quoted values and several extensions", () => {
  deepEqual(parseExtensions("permessage-deflate"), [{ name: "permessage-deflate", params: [] }]);
  deepEqual(
    parseExtensions(
      'permessage-deflate ; client_max_window_bits ; server_max_window_bits="10",permessage-deflate',
    ),
    [
      {
        name: "permessage-deflate",
        params: [["client_max_window_bits", true], ["server_max_window_bits", "10"]],
      },
      { name: "permessage-deflate", params: [] },
    ],
  );
  for (const bad of ["", ",", "a;", "a;=1", "a; b=", "a b", 'a; b="x', "a,"]) {
    equal(parseExtensions(bad), undefined, bad);
  }
});

Deno.test("negotiateDeflate() answers offers per RFC 7692", () => {
  const table: [string | null, string | undefined][] = [
    [null, undefined],
    ["", undefined],
    ["x-webkit-deflate-frame", undefined],
    ["permessage-deflate", BASE],
    ["permessage-deflate; client_max_window_bits", BASE], // Chrome and Firefox
    ["permessage-deflate; client_max_window_bits=10", BASE],
    ["permessage-deflate; client_no_context_takeover", BASE],
    ["permessage-deflate; server_no_context_takeover", BASE],
    ["permessage-deflate; server_max_window_bits=10", `${BASE}; server_max_window_bits=10`],
    ['permessage-deflate; server_max_window_bits="12"', `${BASE}; server_max_window_bits=12`],
    ["permessage-deflate; server_max_window_bits=15", BASE],
    ["permessage-deflate; server_max_window_bits=8", `${BASE}; server_max_window_bits=8`],
    // Declined: invalid values, values where none are allowed, unknown or repeated parameters.
    ["permessage-deflate; server_max_window_bits", undefined],
    ["permessage-deflate; server_max_window_bits=7", undefined],
    ["permessage-deflate; server_max_window_bits=16", undefined],
    ["permessage-deflate; server_max_window_bits=010", undefined],
    ["permessage-deflate; client_max_window_bits=16", undefined],
    ["permessage-deflate; server_no_context_takeover=1", undefined],
    ["permessage-deflate; client_no_context_takeover=yes", undefined],
    ["permessage-deflate; foo", undefined],
    ["permessage-deflate; client_max_window_bits; client_max_window_bits", undefined],
    // A declined offer falls back to the next one.
    ["permessage-deflate; foo, permessage-deflate; client_max_window_bits", BASE],
    ["x-other, permessage-deflate", BASE],
  ];
  for (const [offer, response] of table) {
    equal(negotiateDeflate(offer)?.response, response, String(offer));
  }
});

Deno.test("negotiateDeflate() compresses within the window the client allows", () => {
  deepEqual(negotiateDeflate("permessage-deflate", { threshold: 10, level: 1 })?.deflate, {
    threshold: 10,
    level: 1,
    windowBits: 15,
  });
  equal(negotiateDeflate("permessage-deflate; server_max_window_bits=10")?.deflate.windowBits, 10);
  // zlib cannot deflate raw with an 8-bit window: such a server sends uncompressed.
  equal(
    negotiateDeflate("permessage-deflate; server_max_window_bits=8")?.deflate.threshold,
    Infinity,
  );
});

Deno.test("acceptDeflateResponse() checks the server's answer to the client's offer", () => {
  equal(
    DEFLATE_OFFER,
    "permessage-deflate; client_no_context_takeover; server_no_context_takeover",
  );
  deepEqual(acceptDeflateResponse(null), {});
  deepEqual(acceptDeflateResponse(""), {});
  deepEqual(acceptDeflateResponse(BASE, { threshold: 5 }).deflate, {
    threshold: 5,
    level: 6,
    windowBits: 15,
  });
  ok(acceptDeflateResponse("permessage-deflate; server_no_context_takeover").deflate);
  ok(acceptDeflateResponse(`${BASE}; server_max_window_bits=9`).deflate);
  for (
    const bad of [
      "permessage-deflate", // context takeover on the server side
      "permessage-deflate; client_no_context_takeover",
      `${BASE}; client_max_window_bits=10`, // not offered
      `${BASE}; server_max_window_bits=20`,
      `${BASE}; foo`,
      `${BASE}; server_no_context_takeover`,
      `${BASE}, ${BASE}`,
      "x-other",
      "permessage-deflate;",
    ]
  ) ok(acceptDeflateResponse(bad).error, bad);
});

Deno.test("deflateMessage() and inflateMessage() round-trip, each message on its own", () => {
  const settings = { threshold: 0, level: 6, windowBits: 15 };
  const inputs = [
    new Uint8Array(0),
    new TextEncoder().encode("x"),
    new TextEncoder().encode(JSON.stringify([36, 1, 2, {}, ["hello".repeat(200)]])),
    crypto.getRandomValues(new Uint8Array(50_000)),
  ];
  for (const data of inputs) {
    const packed = deflateMessage(data, settings);
    const back = inflateMessage(packed, 1 << 20);
    deepEqual(new Uint8Array(back), data);
    // No context takeover: the same message compresses to the same bytes every time.
    deepEqual(deflateMessage(data, settings), packed);
  }
  // Smaller windows still inflate with the default one.
  const text = new TextEncoder().encode("abcdefgh".repeat(1000));
  deepEqual(
    new Uint8Array(inflateMessage(deflateMessage(text, { ...settings, windowBits: 9 }), 1 << 20)),
    text,
  );
  // Compressed by a peer that ended its data with a final block (not a sync flush).
  deepEqual(new Uint8Array(inflateMessage(deflateRawSync(text), 1 << 20)), text);
});

Deno.test("inflateMessage() stops a zip bomb at the size limit", () => {
  const bomb = deflateMessage(new Uint8Array(20_000_000), {
    threshold: 0,
    level: 9,
    windowBits: 15,
  });
  ok(bomb.length < 30_000);
  throws(() => inflateMessage(bomb, 1_000_000), RangeError);
  equal(inflateMessage(bomb, 20_000_000).length, 20_000_000);
  throws(
    () => inflateMessage(new Uint8Array([1, 2, 3, 4, 5, 6, 7]), 100),
    (e) => !(e instanceof RangeError),
  );
});

Deno.test("inflateMessage() and deflateMessage() match the RFC 7692 §7.2.3 examples", () => {
  const hello = new TextEncoder().encode("Hello");
  const examples = {
    "7.2.3.1 one compressed block": "f248cdc9c90700",
    "7.2.3.3 a block with no compression": "000500faff48656c6c6f00",
    "7.2.3.4 a block with BFINAL set": "f348cdc9c90700 00",
    "7.2.3.5 two blocks": "f2480500 0000ffff cac9c90700",
  };
  for (const [name, hex] of Object.entries(examples)) {
    const data = Uint8Array.fromHex(hex.replaceAll(" ", ""));
    deepEqual(new Uint8Array(inflateMessage(data, 100)), hello, name);
  }
  deepEqual(
    new Uint8Array(deflateMessage(hello, { threshold: 0, level: 6, windowBits: 15 })),
    Uint8Array.fromHex("f248cdc9c90700"),
  );
});
