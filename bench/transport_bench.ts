/**
 * The transports' send path in memory: one EVENT fanned out to N server-side
 * WebSocket and RawSocket links per serializer, encoded and framed once per
 * serializer and written to wires that discard the bytes. Run:
 * `deno bench --allow-net bench/transport_bench.ts`
 *
 * @module
 */

import { MessageType, serializers, type WampMessage } from "../wamp/mod.ts";
import { WebSocketPeer } from "../transports/websocket/link.ts";
import { RawSocketConnection } from "../transports/rawsocket/link.ts";
import type { Wire } from "../transports/stream/wire.ts";

/** A wire that drops what is written: the bench measures the links, not the sockets. */
function nullWire(): Wire {
  let written = 0;
  return {
    closed: false,
    bind() {},
    write(bytes: Uint8Array) {
      written += bytes.length;
    },
    reply() {
      return true;
    },
    queuedBytes: () => written,
    queuedMessages: () => 0,
    end() {},
    destroy() {},
  } as unknown as Wire;
}

interface Sender {
  send(msg: WampMessage): void;
}

type Kind = "websocket" | "websocket+deflate" | "rawsocket";

function links(kind: Kind, n: number): Sender[] {
  const senders: Sender[] = [];
  for (let i = 0; i < n; i++) {
    const serializer = [serializers.json, serializers.msgpack, serializers.cbor][i % 3]!;
    const wire = nullWire();
    const info = { type: kind === "rawsocket" ? kind : "websocket", serializer: serializer.name };
    if (kind !== "rawsocket") {
      const deflate = kind === "websocket" ? undefined : { threshold: 0, level: 6, windowBits: 15 };
      senders.push(new WebSocketPeer(wire, { role: "server", serializer, info, deflate }));
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

for (const kind of ["websocket", "websocket+deflate", "rawsocket"] as const) {
  for (const n of [1, 300]) {
    const senders = links(kind, n);
    let publication = 0;
    Deno.bench({
      name: `${kind}: one EVENT to ${n} links (json, msgpack, cbor)`,
      group: `${kind} fan-out`,
      baseline: n === 1,
      fn() {
        const event: WampMessage = {
          type: MessageType.EVENT,
          subscription: 1,
          publication: ++publication,
          details: {},
          args: ["hello", { n: publication }],
        };
        for (const sender of senders) sender.send(event);
      },
    });
  }
}
