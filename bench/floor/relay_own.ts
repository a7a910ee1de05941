/**
 * The floor on Cloverleaf's own WebSocket stack: the same relay as
 * `relay.ts` (no WAMP logic, see {@linkcode Switchboard}), but over
 * `node:net` with Nagle off, our RFC 6455 framing and writes batched per
 * turn of the event loop, as the router's listener does. The router
 * against this relay is the cost of the WAMP logic alone.
 *
 * Run: `deno task floor:own [port]`; prints `listening on <port>`.
 *
 * @module
 */

import net from "node:net";
import { concat } from "../../transports/stream/bytes.ts";
import { parseRequestHead, responseHead } from "../../transports/stream/http.ts";
import { acceptKey, encodeFrame, FrameParser, Opcode } from "../../transports/websocket/framing.ts";
import { Wire } from "../../transports/stream/wire.ts";
import { announce, type Line, Switchboard } from "./switchboard.ts";

/** A message: its opcode and payload, framed once for every line it goes to. */
interface Message {
  opcode: number;
  payload: Uint8Array;
  frame?: Uint8Array;
}

const board = new Switchboard<Message>();

function accept(wire: Wire): void {
  let head = new Uint8Array(0);
  wire.bind({
    data(chunk) {
      head = concat([head, chunk]);
      const parsed = parseRequestHead(head);
      if ("incomplete" in parsed) return;
      if ("error" in parsed) return wire.destroy();
      const h = parsed.head.headers;
      const protocol = h.get("sec-websocket-protocol")?.split(",")[0]?.trim();
      wire.write(responseHead(101, {
        upgrade: "websocket",
        connection: "Upgrade",
        "sec-websocket-accept": acceptKey(h.get("sec-websocket-key") ?? ""),
        ...(protocol ? { "sec-websocket-protocol": protocol } : {}),
      }));
      open(wire, parsed.head.path.slice(1), head.subarray(parsed.length));
    },
    closed() {},
  });
}

function open(wire: Wire, role: string, rest: Uint8Array): void {
  const line: Line<Message> = {
    send(message) {
      message.frame ??= encodeFrame(message.opcode, message.payload);
      wire.write(message.frame, 1);
    },
    get open() {
      return !wire.closed;
    },
  };
  const parser = new FrameParser({
    message(text, payload) {
      // The payload is a view into the chunk: copy it, it may be queued.
      board.message(role, line, {
        opcode: text ? Opcode.TEXT : Opcode.BINARY,
        payload: payload.slice(),
      });
    },
    control(opcode, payload) {
      if (opcode === Opcode.PING) wire.write(encodeFrame(Opcode.PONG, payload));
      else if (opcode === Opcode.CLOSE) wire.end();
    },
    error: () => wire.destroy(),
  }, { masked: true, maxMessageSize: 16 * 1024 * 1024 });
  board.open(role, line);
  wire.bind({ data: (chunk) => parser.push(chunk), closed: () => board.close(line) });
  if (rest.length > 0) parser.push(rest);
}

const server = net.createServer((socket) => accept(new Wire(socket)));
server.listen(Number(Deno.args[0] ?? 0), "127.0.0.1", () => {
  announce((server.address() as net.AddressInfo).port);
});
