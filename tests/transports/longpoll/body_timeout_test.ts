/**
 * A program's own server hands `LongPollService.handle()` requests whose
 * bodies may still be coming: nothing else times them (a listener reads a
 * body within its `bodyTimeout` before). A body that does not arrive whole
 * within the service's `bodyTimeout` gets 408, and the transport's turn
 * passes to its next `send`. Before, an `open` or a `send` whose client
 * sent half a body waited for the rest for ever, holding the transport's
 * only turn: its later sends waited behind it.
 */

import { deepEqual, equal } from "node:assert/strict";
import { Router } from "../../../router/mod.ts";
import { LongPollService } from "../../../transports/longpoll/server.ts";
import { within } from "../../_helpers/router.ts";

const PEER = "tcp4:127.0.0.1:5000";

/** A POST whose body sends `first` and then nothing more, never ending. */
function stalled(url: string, first: string): Request {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(first));
    },
    pull: () => new Promise(() => {}),
  });
  return new Request(url, { method: "POST", body, duplex: "half" } as RequestInit);
}

const post = (url: string, body: string) => new Request(url, { method: "POST", body });

Deno.test("LongPollService.handle(): a body not whole within bodyTimeout gets 408; the transport's next send goes on", async () => {
  const router = new Router({ realms: [{ name: "realm1" }], logger: () => {} });
  const service = new LongPollService(router, { bodyTimeout: 200 });
  const base = "http://127.0.0.1/lp";
  try {
    const opening = await within(service.handle(stalled(`${base}/open`, "{"), PEER), 5000, "open");
    equal(opening.status, 408);
    equal(await opening.text(), "Request body timeout\n");
    equal(service.size, 0);

    const opened = await service.handle(
      post(`${base}/open`, `{"protocols":["wamp.2.json"]}`),
      PEER,
    );
    const { transport } = await opened.json();
    const send = (body: string) => service.handle(post(`${base}/${transport}/send`, body), PEER);
    equal((await send(JSON.stringify([1, "realm1", { roles: { publisher: {} } }]))).status, 204);
    const welcome = await service.handle(post(`${base}/${transport}/receive`, ""), PEER);
    equal((await welcome.json())[0], 2);

    const held = service.handle(stalled(`${base}/${transport}/send`, "[16,"), PEER);
    const next = send(JSON.stringify([16, 1, { acknowledge: true }, "com.example.t"]));
    equal((await within(held, 5000, "the stalled send")).status, 408);
    equal((await within(next, 5000, "the send behind it")).status, 204);
    const published = await service.handle(post(`${base}/${transport}/receive`, ""), PEER);
    deepEqual((await published.json()).slice(0, 2), [17, 1], "PUBLISHED");
  } finally {
    service.close();
    await router.close();
  }
});
