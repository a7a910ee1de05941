/**
 * The floor: a bare Deno WebSocket relay with no WAMP logic, the fastest a
 * router on Deno's native WebSocket could be. The load tool's peers
 * connect to `/<role>`:
 *
 * - every message from a `/pub` peer goes to every `/sub` peer, as it is;
 * - every message from a `/caller` peer goes to the `/callee` peer (the
 *   most recent one), and each message from the callee goes back to the
 *   caller whose message it answers (first in, first out: the load tool's
 *   callee answers in order);
 * - `/idle` peers are only held open.
 *
 * The subprotocol the client asks for first is accepted.
 *
 * Run: `deno run --allow-net bench/floor/relay.ts [port]`; prints `listening on <port>`.
 *
 * @module
 */

type Socket = WebSocket;

const subs = new Set<Socket>();
let callee: Socket | undefined;
const waiting: Socket[] = []; // callers, one entry per forwarded call, oldest first
let head = 0;

function accept(request: Request): Response {
  const role = new URL(request.url).pathname.slice(1);
  const protocol = request.headers.get("sec-websocket-protocol")?.split(",")[0]?.trim();
  const { socket, response } = Deno.upgradeWebSocket(request, protocol ? { protocol } : {});
  socket.binaryType = "arraybuffer";
  if (role === "sub") {
    socket.onopen = () => subs.add(socket);
    socket.onclose = () => subs.delete(socket);
  } else if (role === "pub") {
    socket.onmessage = (e) => {
      for (const sub of subs) sub.send(e.data);
    };
  } else if (role === "callee") {
    socket.onopen = () => callee = socket;
    socket.onmessage = (e) => {
      const caller = waiting[head++];
      if (head > 4096 && head * 2 > waiting.length) {
        waiting.splice(0, head);
        head = 0;
      }
      if (caller?.readyState === WebSocket.OPEN) caller.send(e.data);
    };
  } else if (role === "caller") {
    socket.onmessage = (e) => {
      if (callee === undefined) return;
      waiting.push(socket);
      callee.send(e.data);
    };
  }
  return response;
}

const port = Number(Deno.args[0] ?? 0);
const server = Deno.serve(
  {
    hostname: "127.0.0.1",
    port,
    onListen: (addr) => console.log(`listening on ${addr.port}`),
  },
  (request) =>
    request.headers.get("upgrade")?.toLowerCase() === "websocket"
      ? accept(request)
      : new Response("a WebSocket relay\n"),
);
await server.finished;
