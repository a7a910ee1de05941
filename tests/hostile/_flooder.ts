/**
 * A joined peer in a process of its own that floods the router with
 * frames carrying no WAMP message, reading what comes back:
 * `deno run -A _flooder.ts <ws://…|tcp://…> <ping|fragment> <MiB>`.
 * Prints `joined` once welcomed, then `done` once all is written.
 *
 * @module
 */

import net from "node:net";

const [address, kind = "ping", mib = "16"] = Deno.args;
const url = new URL(address!);
const ws = url.protocol === "ws:";
const EMPTY = new Uint8Array(0);

function wsFrame(payload: Uint8Array, opcode: number, fin = true): Uint8Array {
  const out = new Uint8Array(6 + payload.length); // masked with a zero key, under 126 bytes
  out[0] = (fin ? 0x80 : 0) | opcode;
  out[1] = 0x80 | payload.length;
  out.set(payload, 6);
  return out;
}

function rawFrame(payload: Uint8Array, type: number): Uint8Array {
  const out = new Uint8Array(4 + payload.length);
  out.set([type, 0, payload.length >> 8, payload.length & 0xff]);
  out.set(payload, 4);
  return out;
}

const socket = net.connect({ host: url.hostname, port: Number(url.port) });
await new Promise((resolve) => socket.once("connect", resolve));
let text = "";
socket.on("data", (chunk: Buffer) => void (text = (text + chunk.toString("latin1")).slice(-4000)));
socket.on("error", () => {});
const hello = new TextEncoder().encode('[1,"realm1",{"roles":{"publisher":{}}}]');
if (ws) {
  socket.write(
    "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
      "Sec-WebSocket-Protocol: wamp.2.json\r\n\r\n",
  );
  socket.write(wsFrame(hello, 1));
} else {
  socket.write(Uint8Array.of(0x7f, 0xf1, 0, 0));
  socket.write(rawFrame(hello, 0));
}
const deadline = Date.now() + 5000;
while (!text.includes("[2,") && Date.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, 5));
}
if (!text.includes("[2,")) throw new Error("not welcomed");
console.log("joined");
let unit = ws ? wsFrame(EMPTY, 9) : rawFrame(EMPTY, 1);
if (kind === "fragment") {
  socket.write(wsFrame(EMPTY, 1, false)); // the message the fragments continue
  unit = wsFrame(EMPTY, 0, false);
}
const gone = new Promise((resolve) => socket.once("close", resolve));
const per = Math.floor((1 << 20) / unit.length);
const block = new Uint8Array(per * unit.length);
for (let i = 0; i < per; i++) block.set(unit, i * unit.length);
for (let i = 0; i < Number(mib) && !socket.destroyed; i++) {
  if (!socket.write(block)) {
    await Promise.race([new Promise((resolve) => socket.once("drain", resolve)), gone]);
  }
}
console.log("done");
await new Promise((resolve) => setTimeout(resolve, 500)); // the last of it read
socket.destroy();
