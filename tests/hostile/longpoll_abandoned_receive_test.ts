/**
 * A held long-poll `receive` whose connection closes ends there, taking
 * nothing from the transport's queue. Before, it took the next message and
 * wrote it to the dead connection: an acknowledged EVENT or a RESULT was
 * lost, and with `pollTimeout: 0` a vanished client's transport lived on
 * for ever (a held receive counts as activity).
 */

import { deepEqual, equal } from "node:assert/strict";
import { connectLocal } from "../../mod.ts";
import { jsonMessages, RawHttp, rawJoin, rawPost } from "../_helpers/raw_longpoll.ts";
import { startRouter, until, within } from "../_helpers/router.ts";

/** Holds a receive on a connection of its own, then closes it; resolves once the listener saw it go. */
async function abandonReceive(
  listener: { connections(): number },
  port: number,
  id: string,
): Promise<void> {
  await until(() => listener.connections() === 0, 5000, "earlier connections gone");
  const held = await RawHttp.open(port);
  await held.post(`/lp/${id}/receive`, 0);
  await until(() => listener.connections() === 1, 5000, "the receive's connection");
  await new Promise((resolve) => setTimeout(resolve, 50)); // parked
  held[Symbol.dispose]();
  await until(() => listener.connections() === 0, 5000, "the receive's connection gone");
}

Deno.test("long-poll: a receive whose connection closed takes no message; the next receive gets it", async () => {
  await using t = await startRouter({
    listener: { websocket: false, rawsocket: false, longpoll: { pollTimeout: 2000 } },
  });
  const { port } = t.listener.addr as Deno.NetAddr;
  const id = await rawJoin(port, { subscriber: {} });
  await rawPost(port, `/lp/${id}/send`, '[32,1,{},"com.example.t"]');
  equal(jsonMessages((await rawPost(port, `/lp/${id}/receive`)).body, false).length, 1);
  await abandonReceive(t.listener, port, id);
  const publisher = await connectLocal(t.router, "realm1");
  await publisher.publish("com.example.t", { args: ["kept"] }, { acknowledge: true });
  const next = await within(rawPost(port, `/lp/${id}/receive`), 10_000, "the next receive");
  equal(next.status, 200);
  deepEqual((jsonMessages(next.body, false)[0] as unknown[])[4], ["kept"]);
  await publisher.close();
});

Deno.test("long-poll with pollTimeout 0: a client gone while its receive was held is closed after sessionTimeout", async () => {
  await using t = await startRouter({
    listener: {
      websocket: false,
      rawsocket: false,
      longpoll: { pollTimeout: 0, sessionTimeout: 300 },
    },
  });
  const { port } = t.listener.addr as Deno.NetAddr;
  const id = await rawJoin(port, { subscriber: {} });
  equal(t.router.connectionCount, 1);
  await abandonReceive(t.listener, port, id);
  await until(() => t.router.connectionCount === 0, 5000, "the transport closed");
});
