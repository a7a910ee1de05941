/**
 * One HTTP connection could take every long-poll transport slot (attack
 * review A, finding 5): transports outlive their HTTP connections and the
 * listener's maxConnections counts connections. `open` now gets 429 once a
 * source address holds `longpoll.maxTransportsPerSource` (16) transports;
 * other addresses still open theirs, and a closed transport frees its slot.
 */

import { deepEqual, equal } from "node:assert/strict";
import net from "node:net";
import { startRouter, within } from "../_helpers/router.ts";
import { Router } from "../../mod.ts";
import { LongPollService } from "../../transports/longpoll/server.ts";

const OPEN = '{"protocols":["wamp.2.json"]}';

/** Pipelines `requests` on one connection from `localAddress`; returns each answer's status and body. */
async function pipeline(
  port: number,
  localAddress: string,
  requests: { path: string; body: string }[],
): Promise<{ status: number; body: string }[]> {
  const socket = net.connect({ host: "127.0.0.1", port, localAddress });
  let text = "";
  const answers: { status: number; body: string }[] = [];
  const done = new Promise<void>((resolve, reject) => {
    socket.on("error", reject);
    socket.on("close", () => resolve());
    socket.on("data", (chunk: Uint8Array) => {
      text += new TextDecoder().decode(chunk);
      for (;;) {
        const end = text.indexOf("\r\n\r\n");
        if (end < 0) break;
        const length = Number(/content-length: (\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
        if (text.length < end + 4 + length) break;
        answers.push({
          status: Number(text.slice(9, 12)),
          body: text.slice(end + 4, end + 4 + length),
        });
        text = text.slice(end + 4 + length);
      }
      if (answers.length === requests.length) socket.end();
    });
  });
  socket.write(
    requests.map(({ path, body }) =>
      `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${body.length}\r\n\r\n${body}`
    ).join(""),
  );
  await within(done, 5000, "pipelined answers");
  return answers;
}

Deno.test("long-poll: one address holds at most 16 transports; another address still opens", async () => {
  await using t = await startRouter();
  const port = Number(new URL(t.url).port);
  const opens = Array.from({ length: 40 }, () => ({ path: "/lp/open", body: OPEN }));
  const first = await pipeline(port, "127.0.0.1", opens);
  deepEqual(first.map((a) => a.status), [...Array(16).fill(200), ...Array(24).fill(429)]);
  // Another client, another address: not refused.
  const other = await pipeline(port, "127.0.0.2", [{ path: "/lp/open", body: OPEN }]);
  equal(other[0]!.status, 200, other[0]!.body);
  // A closed transport frees its address's slot.
  const id = JSON.parse(first[0]!.body).transport;
  const [closed, reopened, refused] = await pipeline(port, "127.0.0.1", [
    { path: `/lp/${id}/close`, body: "" },
    { path: "/lp/open", body: OPEN },
    { path: "/lp/open", body: OPEN },
  ]);
  deepEqual([closed!.status, reopened!.status, refused!.status], [204, 200, 429]);
});

Deno.test("long-poll: maxTransportsPerSource 0 lifts the per-address limit", async () => {
  await using t = await startRouter({ listener: { longpoll: { maxTransportsPerSource: 0 } } });
  const port = Number(new URL(t.url).port);
  const opens = Array.from({ length: 20 }, () => ({ path: "/lp/open", body: OPEN }));
  deepEqual((await pipeline(port, "127.0.0.1", opens)).map((a) => a.status), Array(20).fill(200));
});

Deno.test('long-poll: a program\'s own server that gives no address ("") is not counted per source', async () => {
  const router = new Router({ realms: [{ name: "realm1" }], logger: () => {} });
  const service = new LongPollService(router, { maxTransportsPerSource: 1 });
  const open = (peer?: string) =>
    service.handle(new Request("http://x/lp/open", { method: "POST", body: OPEN }), peer);
  const statuses: number[] = [];
  for (const peer of ["", "", undefined, undefined]) {
    const response = await open(peer);
    await response.body?.cancel();
    statuses.push(response.status);
  }
  deepEqual(statuses, [200, 200, 200, 200]);
  // A named address is counted: its second transport is refused.
  const named = [await open("tcp4:192.0.2.7:1000"), await open("tcp4:192.0.2.7:2000")];
  for (const response of named) await response.body?.cancel();
  deepEqual(named.map((r) => r.status), [200, 429]);
  service.close();
  await router.close();
});
