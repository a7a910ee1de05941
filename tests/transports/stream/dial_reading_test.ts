/**
 * A dialled (client) wire reads on while what it wrote waits to go out: a
 * router stops reading a client that does not keep up, and a client that
 * stopped too would deadlock with it. Only its replies are bounded.
 */

import { equal, ok } from "node:assert/strict";
import net from "node:net";
import { dial } from "../../../transports/stream/dial.ts";
import type { Wire } from "../../../transports/stream/wire.ts";
import { concat } from "../../../transports/stream/bytes.ts";
import { RawSocketConnection } from "../../../transports/rawsocket/link.ts";
import { encodeFrame, FrameType } from "../../../transports/rawsocket/framing.ts";
import { json } from "../../../wamp/mod.ts";
import { until } from "../../_helpers/router.ts";

/** A dialled wire to a "router" that stops reading it, and that router's end of the socket. */
async function stalled(): Promise<{ wire: Wire; peer: () => net.Socket; close(): Promise<void> }> {
  let peer: net.Socket | undefined;
  const server = net.createServer((socket) => {
    peer = socket;
    socket.pause(); // the "router" stops reading this client
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  const wire = await dial({ host: "127.0.0.1", port }, { maxBacklog: 64 * 1024 });
  await until(() => peer !== undefined, 2000, "the connection");
  return {
    wire,
    peer: () => peer!,
    async close() {
      wire.destroy();
      peer?.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Writes until the kernel buffers are full and the wire counts itself congested. */
async function congest(wire: Wire): Promise<void> {
  for (let i = 0; i < 400 && !wire.congested; i++) {
    wire.write(new Uint8Array(64 * 1024));
    wire.flush();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  ok(wire.congested, "the wire is congested");
}

Deno.test("dial(): a congested client wire still reads what the peer sends", async () => {
  const { wire, peer, close } = await stalled();
  let received = 0;
  wire.bind({ data: (chunk) => void (received += chunk.length), closed: () => {} });
  try {
    await congest(wire);
    peer().write(new Uint8Array(1000));
    await until(() => received === 1000, 3000, "the peer's bytes, read while congested");
    equal(received, 1000);
  } finally {
    await close();
  }
});

Deno.test("a client RawSocket link whose handler is slow reads on while congested: its inbox never stops reading", async () => {
  const { wire, peer, close } = await stalled();
  const link = new RawSocketConnection(wire, {
    info: { type: "rawsocket", serializer: "json" },
    serializer: json,
    receiveLimit: 1 << 24,
    sendLimit: 1 << 24,
    pingInterval: 0,
    pingTimeout: 10_000,
  });
  let heard = 0;
  link.bind({
    receive() {
      const until = Date.now() + 2; // 100 of these run past a turn's time
      while (Date.now() < until) { /* a slow handler */ }
      heard++;
    },
    fail() {},
    closed() {},
  });
  link.start(new Uint8Array());
  try {
    await congest(wire);
    const events = Array.from(
      { length: 100 },
      (_, i) => encodeFrame(FrameType.MESSAGE, new TextEncoder().encode(`[36,1,${i + 1},{}]`)),
    );
    peer().write(concat(events));
    await until(() => heard === 100, 3000, "the EVENTs, handled while congested");
  } finally {
    await close();
  }
});
