/**
 * permessage-deflate bombs (attack review A, finding 4): 16 KB of DEFLATE
 * inflated to 16 MiB, so 640 KiB read made the router parse 640 MiB. A
 * compressed message may now inflate to MAX_INFLATE_RATIO times its size
 * plus INFLATE_SLACK (and never over maxMessageSize); past it the router
 * closes with 1009. Our own peers send a message uncompressed when it would
 * compress past that ratio, so they are never refused.
 */

import { equal, ok } from "node:assert/strict";
import { connect } from "../../mod.ts";
import { encodeFrame, FrameParser, Opcode } from "../../transports/websocket/framing.ts";
import {
  DEFLATE_OFFER,
  deflateMessage,
  INFLATE_SLACK,
  inflateMessage,
  MAX_INFLATE_RATIO,
} from "../../transports/websocket/permessage_deflate.ts";
import { startRouter, within } from "../_helpers/router.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const LEVEL = { threshold: 0, level: 6, windowBits: 15 };

interface Raw extends AsyncDisposable {
  send(text: string, compressed: boolean): Promise<void>;
  next(): Promise<{ opcode: number; payload: Uint8Array }>;
}

/** A raw WebSocket client that negotiated permessage-deflate (JSON). */
async function rawDeflate(url: string): Promise<Raw> {
  const u = new URL(url);
  const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
  const writeAll = async (b: Uint8Array) => {
    for (let at = 0; at < b.length;) at += await conn.write(b.subarray(at));
  };
  await writeAll(enc.encode(
    `GET ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: MDEyMzQ1Njc4OWFiY2RlZg==\r\nSec-WebSocket-Version: 13\r\n` +
      `Sec-WebSocket-Protocol: wamp.2.json\r\nSec-WebSocket-Extensions: ${DEFLATE_OFFER}\r\n\r\n`,
  ));
  const got: { opcode: number; payload: Uint8Array }[] = [];
  let wake = () => {};
  const parser = new FrameParser({
    message: (_text, payload, compressed) =>
      got.push({
        opcode: 1,
        payload: compressed ? inflateMessage(payload, 1 << 24) : payload.slice(),
      }),
    control: (opcode, payload) => got.push({ opcode, payload: payload.slice() }),
    error: (code) => got.push({ opcode: -1, payload: Uint8Array.of(code >> 8, code & 255) }),
  }, { masked: false, maxMessageSize: 1 << 24, compression: true });
  let head: Uint8Array | undefined = new Uint8Array();
  const reading = (async () => {
    const buf = new Uint8Array(65536);
    for (;;) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) break;
      let chunk: Uint8Array = buf.slice(0, n);
      if (head !== undefined) {
        const all: Uint8Array = new Uint8Array(head.length + n);
        all.set(head);
        all.set(chunk, head.length);
        const end = dec.decode(all).indexOf("\r\n\r\n"); // the response head is ASCII
        if (end < 0) {
          head = all;
          continue;
        }
        ok(dec.decode(all.subarray(0, end)).includes("permessage-deflate"));
        chunk = all.subarray(end + 4);
        head = undefined;
      }
      parser.push(chunk);
      wake();
    }
    got.push({ opcode: 0, payload: new Uint8Array() }); // connection closed
    wake();
  })();
  return {
    async send(text, compressed) {
      const data = enc.encode(text);
      const payload = compressed ? deflateMessage(data, LEVEL) : data;
      await writeAll(encodeFrame(Opcode.TEXT, payload, { mask: true, compressed }));
    },
    async next() {
      while (got.length === 0) await within(new Promise<void>((r) => wake = r), 5000, "frame");
      return got.shift()!;
    },
    async [Symbol.asyncDispose]() {
      conn.close();
      await reading;
    },
  };
}

Deno.test(`a compressed message inflating past ${MAX_INFLATE_RATIO}x closes 1009; realistic ratios pass`, async () => {
  await using t = await startRouter({
    listener: { websocket: { compression: { enabled: true } } },
  });
  await using ws = await rawDeflate(t.url);
  await ws.send('[1,"realm1",{"roles":{"publisher":{}}}]', false);
  const welcome = await ws.next();
  ok(dec.decode(welcome.payload).startsWith("[2,"), `${welcome.opcode} ${welcome.payload}`);
  // 1.3 MB of one record repeated compresses about 170 to 1: taken.
  const record = { sensor: "building-7.floor-1.room-100", celsius: 20.5, ok: true };
  const table = JSON.stringify([16, 1, { acknowledge: true }, "t", Array(20_000).fill(record)]);
  const packed = deflateMessage(enc.encode(table), LEVEL).length;
  ok(
    table.length / packed > 100 && table.length / packed < MAX_INFLATE_RATIO,
    `${table.length} / ${packed}`,
  );
  await ws.send(table, true);
  ok(dec.decode((await ws.next()).payload).startsWith("[17,1,"));
  // 2 MiB of one character compresses about 1000 to 1: refused before it is parsed.
  const bomb = `[16,2,{"acknowledge":true},"t",["${"x".repeat(2 * 1024 * 1024)}"]]`;
  ok(
    bomb.length >
      deflateMessage(enc.encode(bomb), LEVEL).length * MAX_INFLATE_RATIO + INFLATE_SLACK,
  );
  await ws.send(bomb, true);
  const close = await ws.next();
  equal(close.opcode, Opcode.CLOSE, dec.decode(close.payload));
  equal((close.payload[0]! << 8) | close.payload[1]!, 1009);
});

Deno.test("our peers send what compresses past the ratio uncompressed, both ways", async () => {
  await using t = await startRouter({
    listener: { websocket: { compression: { enabled: true } } },
  });
  const sub = await connect(t.url, { realm: "realm1", compression: true });
  const pub = await connect(t.url, { realm: "realm1", compression: true });
  const big = "x".repeat(2 * 1024 * 1024);
  let got = "";
  await sub.subscribe("t", (event) => void (got = event.args[0] as string));
  await within(pub.publish("t", { args: [big] }, { acknowledge: true }), 5000, "PUBLISHED");
  await within(
    (async () => {
      while (got.length === 0) await new Promise((r) => setTimeout(r, 10));
    })(),
    5000,
    "EVENT",
  );
  equal(got, big);
  ok(sub.isOpen && pub.isOpen);
  await sub.close();
  await pub.close();
});
