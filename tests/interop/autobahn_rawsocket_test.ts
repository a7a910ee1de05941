/**
 * Autobahn|JS (npm `autobahn`) against a Cloverleaf router over RawSocket,
 * TCP and Unix sockets. Autobahn's Node transport
 * (`lib/transport/rawsocket.js`) uses `node:net` and speaks JSON only
 * (its `Protocol.SERIALIZERS` is `{ json: 1 }`), announcing
 * `max_len_exp` 24 (handshake `7F F1 00 00`). Cloverleaf's own client
 * (over RawSocket too) is the other party of each scenario; scenario
 * names follow autobahn-js `packages/autobahn/test/`.
 *
 * When Autobahn cannot be imported, the tests are registered as ignored
 * with the reason in the name.
 *
 * @module
 */

import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import net from "node:net";
import { ApplicationError } from "../../client/errors.ts";
import { Session } from "../../client/session.ts";
import { Router } from "../../router/mod.ts";
import { rawSocketHandler, type RawSocketOptions } from "../../transports/rawsocket/server.ts";
import { FrameType } from "../../transports/rawsocket/framing.ts";
import { connectRawSocket } from "../../transports/rawsocket/client.ts";
import {
  autobahn,
  type AutobahnConnection,
  type AutobahnError,
  type AutobahnEventDetails,
  type AutobahnModule,
  type AutobahnSession,
  type Dict,
  Inbox,
  missingAutobahn,
  REALM,
  TIMEOUT_MS,
  until,
  within,
} from "./_autobahn.ts";

/** A router behind a RawSocket server, plus the sessions opened on it. */
class RawSocketBed implements AsyncDisposable {
  readonly router: Router;
  readonly server: net.Server;
  readonly logs: string[] = [];
  /** What Autobahn connects with: host and port, or a Unix socket path. */
  target: { host: string; port: number } | { path: string } = { path: "" };
  url = "";
  readonly internalErrors: string[] = [];
  #ab: AutobahnModule;
  #connections: { connection: AutobahnConnection; closed: Promise<unknown> }[] = [];
  #sessions: Session[] = [];

  /** PING frames the router wrote. */
  pings = 0;

  private constructor(ab: AutobahnModule, options: RawSocketOptions) {
    this.#ab = ab;
    const log = (level: string, message: string) => this.logs.push(`${level} ${message}`);
    this.router = new Router({ realms: [{ name: REALM }], logger: log });
    const handle = rawSocketHandler(this.router, { ...options, log });
    this.server = net.createServer((socket) => {
      const write = socket.write.bind(socket) as (chunk: Uint8Array, cb?: () => void) => boolean;
      socket.write = ((chunk: Uint8Array, cb?: () => void) => {
        if (chunk[0] === FrameType.PING && chunk.length < 64) this.pings++;
        return write(chunk, cb);
      }) as typeof socket.write;
      handle(socket);
    });
  }

  static async start(
    ab: AutobahnModule,
    path?: string,
    options: RawSocketOptions = {},
  ): Promise<RawSocketBed> {
    const bed = new RawSocketBed(ab, options);
    await new Promise<void>((resolve) => {
      if (path !== undefined) bed.server.listen(path, resolve);
      else bed.server.listen(0, "127.0.0.1", resolve);
    });
    if (path !== undefined) {
      bed.target = { path };
      bed.url = `unix://${path}`;
    } else {
      const { port } = bed.server.address() as net.AddressInfo;
      bed.target = { host: "127.0.0.1", port };
      bed.url = `tcp://127.0.0.1:${port}`;
    }
    return bed;
  }

  /** Opens an Autobahn|JS session over RawSocket and waits for it to join. */
  async autobahn(): Promise<AutobahnSession> {
    const connection = new this.#ab.Connection({
      realm: REALM,
      transports: [{ type: "rawsocket", ...this.target }],
      max_retries: 0,
      retry_if_unreachable: false,
      on_internal_error: (error: unknown, message?: string) =>
        this.internalErrors.push(`${message ?? ""} ${Deno.inspect(error)}`),
    });
    const closed = new Promise<{ reason: string; details: Dict }>((resolve) => {
      connection.onclose = (reason, details) => {
        resolve({ reason, details: details as unknown as Dict });
        return true; // never reconnect
      };
    });
    this.#connections.push({ connection, closed });
    const opened = new Promise<AutobahnSession>((resolve) => {
      connection.onopen = (session) => resolve(session);
    });
    connection.open();
    return await within(
      Promise.race([
        opened,
        closed.then((c) => Promise.reject(new Error(`Autobahn closed: ${Deno.inspect(c)}`))),
      ]),
      "Autobahn joining over RawSocket",
    );
  }

  /** Opens a Cloverleaf session over RawSocket. */
  async cloverleaf(): Promise<Session> {
    const link = await within(connectRawSocket(this.url), "Cloverleaf RawSocket handshake");
    const session = await within(Session.join(link, { realm: REALM, timeout: TIMEOUT_MS }), "join");
    this.#sessions.push(session);
    return session;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const { connection, closed } of this.#connections) {
      if (connection.isConnected) connection.close();
      await within(closed, "Autobahn closing");
    }
    for (const s of this.#sessions) await within(s.close(), "Cloverleaf closing");
    await within(this.router.close(), "router.close()");
    await within(new Promise((resolve) => this.server.close(resolve)), "server.close()");
    const problems = this.logs.filter((l) => /^(warn|error)|protocol violation/.test(l));
    if (problems.length > 0 || this.internalErrors.length > 0) {
      throw new Error(`Problems:\n  ${[...problems, ...this.internalErrors].join("\n  ")}`);
    }
  }
}

type Where = "tcp" | "unix";

/** Registers a scenario for TCP and Unix sockets, or ignores it saying why. */
function scenario(
  name: string,
  fn: (bed: RawSocketBed, ab: AutobahnModule) => Promise<void>,
  options: RawSocketOptions = {},
) {
  for (const where of ["tcp", "unix"] as Where[]) {
    const title = `Autobahn|JS ${autobahn?.version ?? ""} [rawsocket ${where} json] ${name}`;
    if (autobahn === undefined) {
      missingAutobahn(title);
      continue;
    }
    const ab = autobahn;
    Deno.test(title, async () => {
      const dir = where === "unix" ? await Deno.makeTempDir() : undefined;
      try {
        await using bed = await RawSocketBed.start(ab, dir && `${dir}/wamp.sock`, options);
        await fn(bed, ab);
      } finally {
        if (dir !== undefined) await Deno.remove(dir, { recursive: true });
      }
    });
  }
}

const ARGS = [1, -2.5, "ünïcode ☘", null, true, { nested: [1, { deep: "x" }] }, 2 ** 53 - 1];
const KWARGS = { a: 1, b: ["two"], c: { d: false } };

scenario("rpc_basic: calls cross both ways with args and kwargs", async (bed) => {
  const ab = await bed.autobahn();
  const cl = await bed.cloverleaf();
  await within(
    ab.register("com.example.ab.echo", (args, kwargs) => new autobahn!.Result(args, kwargs)),
    "register",
  );
  const viaAb = await within(
    cl.call("com.example.ab.echo", { args: ARGS, kwargs: KWARGS }),
    "call",
  );
  deepEqual(viaAb.args, ARGS);
  deepEqual(viaAb.kwargs, KWARGS);

  await cl.register(
    "com.example.cl.add",
    (args) => ({ args: [(args[0] as number) + (args[1] as number)] }),
  );
  equal(await within(ab.call("com.example.cl.add", [2, 3]), "Autobahn call"), 5);
});

scenario("rpc_error: an ApplicationError reaches Autobahn as autobahn.Error", async (bed, abm) => {
  const ab = await bed.autobahn();
  const cl = await bed.cloverleaf();
  await cl.register("com.example.fail", () => {
    throw new ApplicationError("com.example.error.failed", { args: ["no"], kwargs: { code: 7 } });
  });
  await rejects(within(ab.call("com.example.fail"), "Autobahn call"), (e: unknown) => {
    ok(e instanceof abm.Error);
    const error = e as AutobahnError;
    equal(error.error, "com.example.error.failed");
    deepEqual(error.args, ["no"]);
    deepEqual(error.kwargs, { code: 7 });
    return true;
  });
});

scenario("pubsub_basic: events cross both ways", async (bed) => {
  const ab = await bed.autobahn();
  const cl = await bed.cloverleaf();
  const abInbox = new Inbox<{ args: unknown[]; kwargs: Dict; details: AutobahnEventDetails }>();
  await within(
    ab.subscribe(
      "com.example.topic",
      (args, kwargs, details) => abInbox.push({ args, kwargs, details }),
    ),
    "subscribe",
  );
  const publication = await cl.publish("com.example.topic", { args: ARGS, kwargs: KWARGS }, {
    acknowledge: true,
  });
  const [event] = await abInbox.take(1, "event at Autobahn");
  deepEqual(event!.args, ARGS);
  deepEqual(event!.kwargs, KWARGS);
  equal(event!.details.publication, publication);

  const clInbox = new Inbox<unknown[]>();
  await cl.subscribe("com.example.back", (e) => clInbox.push(e.args));
  const published = await within(
    ab.publish("com.example.back", ["hi"], {}, { acknowledge: true })!,
    "Autobahn publish",
  );
  ok(published.id > 0);
  deepEqual(await clInbox.take(1, "event at Cloverleaf"), [["hi"]]);
});

scenario("session_meta: the router sees Autobahn on rawsocket with json", async (bed) => {
  const ab = await bed.autobahn();
  const cl = await bed.cloverleaf();
  const details = (await within(cl.call("wamp.session.get", { args: [ab.id] }), "session.get"))
    .args[0] as Dict;
  const transport = details.transport as Dict;
  equal(transport.type, "rawsocket");
  equal(transport.serializer, "json");
  ok(typeof transport.peer === "string" && /^(tcp4:127\.0\.0\.1:\d+|unix)$/.test(transport.peer));
});

scenario("rawsocket_ping: Autobahn answers the router's PINGs", async (bed) => {
  const ab = await bed.autobahn();
  const cl = await bed.cloverleaf();
  // Idle: the router PINGs every 20 ms and closes after 200 ms without an answer.
  await until(() => bed.pings >= 10, "ten PINGs");
  ok(!bed.logs.some((l) => /no answer to PING/.test(l)), bed.logs.join("\n"));
  await cl.register("com.example.alive", () => ({ args: ["yes"] }));
  equal(await within(ab.call("com.example.alive"), "call after the PINGs"), "yes");
}, { pingInterval: 20, pingTimeout: 200 });
