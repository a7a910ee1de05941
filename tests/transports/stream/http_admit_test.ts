/**
 * The HTTP request loop (`transports/stream/http_server.ts`) with an
 * admission decided later (`HttpRoutes.admit` returning a promise, as the
 * long-poll relay's owner query does): nothing of the body is taken past
 * 64 KiB while it is pending, the decision then applies as if it had been
 * made at once, and an admission decided after the client left is
 * abandoned. Over real sockets.
 */

import { equal, ok } from "node:assert/strict";
import net from "node:net";
import { serveHttp } from "../../../transports/stream/http_server.ts";
import type { Admitted, HttpRoutes } from "../../../transports/stream/http_routes.ts";
import { Wire } from "../../../transports/stream/wire.ts";
import { until } from "../../_helpers/router.ts";

interface Bed extends AsyncDisposable {
  port: number;
  /** Resolves the pending decision. */
  decide(admitted: Admitted): void;
  /** How many admissions were asked for. */
  asked(): number;
  handled: string[];
  /** Bytes the server's wire has read so far. */
  bytesRead(): number;
}

async function startBed(): Promise<Bed> {
  let decide: ((admitted: Admitted) => void) | undefined;
  let asked = 0;
  const handled: string[] = [];
  const wires: Wire[] = [];
  const routes: HttpRoutes = {
    upgrade: () => false,
    admit: () => new Promise<Admitted>((resolve) => (asked++, decide = resolve)),
    async handle(request) {
      const text = await request.text();
      handled.push(text);
      return new Response(`got ${text.length}`);
    },
  };
  const server = net.createServer((socket) => {
    const wire = new Wire(socket);
    wires.push(wire);
    serveHttp(wire, new Uint8Array(0), routes, { maxBodySize: 1 << 30, origin: "http://x" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    decide: (admitted) => decide!(admitted),
    asked: () => asked,
    handled,
    bytesRead: () => wires.reduce((sum, wire) => sum + wire.bytesRead, 0),
    async [Symbol.asyncDispose]() {
      for (const wire of wires) wire.socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Connects and writes a request head announcing `size` bytes, then `sent` bytes of the body. */
async function request(port: number, size: number, sent: number) {
  const socket = net.connect({ host: "127.0.0.1", port });
  await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  let got = "";
  socket.on("data", (chunk: Buffer) => void (got += chunk.toString("latin1")));
  socket.on("error", () => {});
  socket.write(`POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\n\r\n`);
  socket.write(new Uint8Array(sent).fill(0x61));
  return { socket, got: () => got };
}

Deno.test("http: while an admission is pending, reading stops past 64 KiB; admitted, the request is answered", async () => {
  await using bed = await startBed();
  const size = 4 << 20;
  const { socket, got } = await request(bed.port, size, size);
  try {
    await until(() => bed.asked() === 1, 3000, "the admission asked");
    await new Promise((resolve) => setTimeout(resolve, 200));
    ok(bed.bytesRead() < 1 << 20, `read ${bed.bytesRead()} bytes before the decision`);
    bed.decide(size);
    await until(() => got().includes(`got ${size}`), 5000, "the answer");
    equal(bed.handled.length, 1);
  } finally {
    socket.destroy();
  }
});

Deno.test("http: an admission decided as a refusal answers it, and one over the limit gets 413", async () => {
  await using bed = await startBed();
  const refused = await request(bed.port, 10, 0);
  await until(() => bed.asked() === 1, 3000, "the admission asked");
  bed.decide(new Response("no\n", { status: 404 }));
  await until(() => /^HTTP\/1\.1 404/.test(refused.got()), 3000, "the 404");
  refused.socket.destroy();
  const large = await request(bed.port, 100, 0);
  await until(() => bed.asked() === 2, 3000, "asked again");
  bed.decide(10);
  await until(() => /^HTTP\/1\.1 413/.test(large.got()), 3000, "the 413");
  large.socket.destroy();
  equal(bed.handled.length, 0);
});

Deno.test("http: an admission decided after the client left is abandoned, not handled", async () => {
  await using bed = await startBed();
  const { socket } = await request(bed.port, 10, 10);
  await until(() => bed.asked() === 1, 3000, "the admission asked");
  socket.destroy();
  await new Promise((resolve) => setTimeout(resolve, 100));
  let abandoned = 0;
  bed.decide({ maxBodySize: 10, abandon: () => void abandoned++ });
  await until(() => abandoned === 1, 3000, "abandoned");
  equal(bed.handled.length, 0);
});
