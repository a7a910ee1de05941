/**
 * The floor: a bare relay on Deno's native WebSocket (`Deno.serve` and
 * `Deno.upgradeWebSocket`), with no WAMP logic: what a router built on
 * that stack could at best do. Peers connect to `/<role>`; see
 * {@linkcode Switchboard} for who gets what. The subprotocol the client
 * asks for first is accepted.
 *
 * Run: `deno task floor [port]`; prints `listening on <port>`.
 *
 * @module
 */

import { announce, type Line, Switchboard } from "./switchboard.ts";

const board = new Switchboard<string | ArrayBuffer>();

function accept(request: Request): Response {
  const role = new URL(request.url).pathname.slice(1);
  const protocol = request.headers.get("sec-websocket-protocol")?.split(",")[0]?.trim();
  const { socket, response } = Deno.upgradeWebSocket(request, protocol ? { protocol } : {});
  socket.binaryType = "arraybuffer";
  const line: Line<string | ArrayBuffer> = {
    send: (message) => socket.send(message),
    get open() {
      return socket.readyState === WebSocket.OPEN;
    },
  };
  socket.onopen = () => board.open(role, line);
  socket.onclose = () => board.close(line);
  socket.onmessage = (e) => board.message(role, line, e.data);
  return response;
}

const server = Deno.serve(
  {
    hostname: "127.0.0.1",
    port: Number(Deno.args[0] ?? 0),
    onListen: (addr) => announce(addr.port),
  },
  (request) =>
    request.headers.get("upgrade")?.toLowerCase() === "websocket"
      ? accept(request)
      : new Response("a WebSocket relay\n"),
);
await server.finished;
