/**
 * The transports' send path in memory: one EVENT fanned out to N server-side
 * WebSocket and RawSocket links per serializer, encoded and framed once per
 * serializer and written to sockets that discard the bytes. Run:
 * `deno bench --allow-net bench/transport_bench.ts`
 *
 * @module
 */

import type { Socket } from "node:net";
import { MessageType, serializers, type WampMessage } from "../mod.ts";
import { WebSocketPeer } from "../transports/websocket/link.ts";
import { RawSocketConnection } from "../transports/rawsocket/link.ts";
import { Wire } from "../transports/stream/wire.ts";

/** A connected socket that accepts every write and never reads. */
function nullSocket(): Socket {
  return {
    on() {},
    once() {},
    setNoDelay() {},
    write(_chunk: Uint8Array, done?: () => void) {
      done?.();
      return true;
    },
    writableLength: 0,
  } as unknown as Socket;
}

interface Sender {
  send(msg: WampMessage): void;
}

function links(kind: "websocket" | "rawsocket", n: number): Sender[] {
  const senders: Sender[] = [];
  for (let i = 0; i < n; i++) {
    const serializer = [serializers.json, serializers.msgpack, serializers.cbor][i % 3]!;
    const wire = new Wire(nullSocket());
    const info = { type: kind, serializer: serializer.name } as const;
    if (kind === "websocket") {
      senders.push(new WebSocketPeer(wire, { role: "server", serializer, info }));
    } else {
      senders.push(
        new RawSocketConnection(wire, {
          info,
          serializer,
          receiveLimit: 16 * 1024 * 1024,
          sendLimit: 16 * 1024 * 1024 - 1,
          pingInterval: 0,
          pingTimeout: 0,
        }),
      );
    }
  }
  return senders;
}

for (const kind of ["websocket", "rawsocket"] as const) {
  for (const n of [1, 300]) {
    const senders = links(kind, n);
    let publication = 0;
    Deno.bench({
      name: `${kind}: one EVENT to ${n} links (json, msgpack, cbor)`,
      group: `${kind} fan-out`,
      baseline: n === 1,
      async fn() {
        const event: WampMessage = {
          type: MessageType.EVENT,
          subscription: 1,
          publication: ++publication,
          details: {},
          args: ["hello", { n: publication }],
        };
        for (const sender of senders) sender.send(event);
        await undefined; // the wires write at the end of the turn
      },
    });
  }
}
