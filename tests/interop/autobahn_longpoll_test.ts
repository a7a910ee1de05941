/**
 * Autobahn|JS (npm `autobahn`) over its HTTP long-poll transport against a
 * Cloverleaf router's {@linkcode LongPollService}, with a Cloverleaf client
 * on long-poll too: a call and a publication each way.
 *
 * Autobahn's long-poll transport (`lib/transport/longpoll.js`, via
 * `util.http_post`) is written for browsers and needs `XMLHttpRequest`,
 * which Deno does not have. The test installs a minimal `XMLHttpRequest`
 * made of `fetch` (only what `http_post` uses) while it runs, so Autobahn's
 * own transport code drives real HTTP requests against the router. It only
 * speaks `wamp.2.json`, unbatched, and posts each message in its own
 * request without waiting for the previous one.
 *
 * @module
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { Router } from "../../router/mod.ts";
import { Session } from "../../client/session.ts";
import { LongPollService } from "../../transports/longpoll/server.ts";
import { connectLongPoll } from "../../transports/longpoll/client.ts";
import {
  autobahn,
  type AutobahnClose,
  type AutobahnConnection,
  type AutobahnEventDetails,
  type AutobahnModule,
  type AutobahnSession,
  type Dict,
  Inbox,
  missingAutobahn,
  until,
  within,
} from "./_autobahn.ts";

/** The part of `XMLHttpRequest` Autobahn's `util.http_post` uses, over `fetch`. */
class FetchXMLHttpRequest {
  readyState = 0;
  status = 0;
  statusText = "";
  responseText = "";
  timeout = 0;
  withCredentials = false;
  onreadystatechange: (() => void) | null = null;
  ontimeout: (() => void) | null = null;
  #method = "GET";
  #url = "";
  #headers = new Headers();

  open(method: string, url: string): void {
    this.#method = method;
    this.#url = url;
    this.readyState = 1;
  }

  setRequestHeader(name: string, value: string): void {
    this.#headers.set(name, value);
  }

  send(body?: string): void {
    const abort = new AbortController();
    let timedOut = false;
    const timer = this.timeout > 0
      ? setTimeout(() => {
        timedOut = true;
        abort.abort();
      }, this.timeout)
      : undefined;
    fetch(this.#url, {
      method: this.#method,
      headers: this.#headers,
      body: body ?? null,
      signal: abort.signal,
    })
      .then(async (res) => {
        this.responseText = await res.text();
        this.status = res.status;
        this.statusText = res.statusText;
      })
      .catch(() => this.status = 0)
      .finally(() => {
        clearTimeout(timer);
        this.readyState = 4;
        this.onreadystatechange?.();
        if (timedOut) this.ontimeout?.();
      });
  }
}

/** Runs `fn` with `XMLHttpRequest` defined (shimmed when Deno has none). */
async function withXMLHttpRequest(fn: () => Promise<void>): Promise<void> {
  const g = globalThis as { XMLHttpRequest?: unknown };
  const had = "XMLHttpRequest" in g;
  if (!had) g.XMLHttpRequest = FetchXMLHttpRequest;
  try {
    await fn();
  } finally {
    if (!had) delete g.XMLHttpRequest;
  }
}

/** Opens an Autobahn connection over long-poll and waits for the session. */
async function openAutobahn(
  ab: AutobahnModule,
  url: string,
): Promise<
  { connection: AutobahnConnection; session: AutobahnSession; closed: Promise<AutobahnClose> }
> {
  const connection = new ab.Connection({
    realm: "realm1",
    transports: [{ type: "longpoll", url }],
    max_retries: 0,
    retry_if_unreachable: false,
  });
  const closed = new Promise<AutobahnClose>((resolve) => {
    connection.onclose = (reason, details) => {
      resolve({ reason, details });
      return true; // never reconnect
    };
  });
  const opened = new Promise<AutobahnSession>((resolve) => {
    connection.onopen = (session) => resolve(session);
  });
  connection.open();
  const session = await within(
    Promise.race([
      opened,
      closed.then((c) => Promise.reject(new Error(`Autobahn closed: ${c.reason}`))),
    ]),
    "Autobahn joining over long-poll",
  );
  return { connection, session, closed };
}

const scenario = "longpoll_rpc_pubsub: a call and a publication each way";
if (autobahn === undefined) {
  missingAutobahn(`Autobahn|JS ${scenario}`);
} else {
  const ab = autobahn;
  const shim = "XMLHttpRequest" in globalThis ? "" : " (XMLHttpRequest shimmed over fetch)";
  Deno.test(`Autobahn|JS ${ab.version} ${scenario}${shim}`, () =>
    withXMLHttpRequest(async () => {
      const logs: string[] = [];
      const router = new Router({
        realms: [{ name: "realm1" }],
        logger: (level, message) => logs.push(`${level} ${message}`),
      });
      const service = new LongPollService(router);
      const server = Deno.serve(
        { port: 0, hostname: "127.0.0.1", onListen() {} },
        (req) => service.handle(req),
      );
      const url = `http://127.0.0.1:${server.addr.port}/lp`;
      try {
        const abc = await openAutobahn(ab, url);
        equal(abc.connection.transport.info.type, "longpoll");
        equal(abc.connection.transport.info.protocol, "wamp.2.json");
        const ours = await within(
          connectLongPoll(url).then((link) => Session.join(link, { realm: "realm1" })),
          "Cloverleaf joining over long-poll",
        );

        // Cloverleaf calls Autobahn, then Autobahn calls Cloverleaf.
        await within(
          abc.session.register(
            "com.example.add2",
            (args: unknown[]) => Number(args[0]) + Number(args[1]),
          ),
          "Autobahn register",
        );
        deepEqual((await within(ours.call("com.example.add2", { args: [2, 3] }), "call")).args, [
          5,
        ]);
        await ours.register("com.example.echo", (args, kwargs) => ({ args, kwargs }));
        const echoed = await within(
          abc.session.call("com.example.echo", ["hi", 1], { n: 2 }),
          "Autobahn call",
        ) as { args: unknown[]; kwargs: Dict };
        deepEqual(echoed.args, ["hi", 1]);
        deepEqual(echoed.kwargs, { n: 2 });

        // Cloverleaf publishes to Autobahn, then Autobahn to Cloverleaf.
        const abEvents = new Inbox<{ args: unknown[]; details: AutobahnEventDetails }>();
        await within(
          abc.session.subscribe(
            "com.example.topic",
            (args, _kwargs, details) => abEvents.push({ args, details }),
          ),
          "Autobahn subscribe",
        );
        await ours.publish("com.example.topic", { args: ["to autobahn"] }, { acknowledge: true });
        const [got] = await abEvents.take(1, "event at Autobahn");
        deepEqual(got!.args, ["to autobahn"]);
        equal(got!.details.topic, "com.example.topic");
        const ourEvents: unknown[][] = [];
        await ours.subscribe("com.example.back", (e) => void ourEvents.push(e.args));
        await within(
          abc.session.publish("com.example.back", ["to cloverleaf"], {}, { acknowledge: true })!,
          "Autobahn publish",
        );
        await until(() => ourEvents.length === 1, "event at Cloverleaf");
        deepEqual(ourEvents, [["to cloverleaf"]]);

        // Autobahn leaves: GOODBYE, then POST close; the router forgets it.
        abc.connection.close();
        const close = await within(abc.closed, "Autobahn onclose");
        equal(close.reason, "closed");
        await until(() => router.connectionCount === 1, "Autobahn's session gone");
        await within(ours.close(), "Cloverleaf close");
        await until(() => router.connectionCount === 0, "Cloverleaf's session gone");
        ok(!logs.some((l) => /^(warn|error)|protocol violation/i.test(l)), logs.join("\n"));
      } finally {
        service.close();
        await router.close();
        await server.shutdown();
      }
    }));
}
