/**
 * Credentials that cannot be used are found before any connection is made:
 * a cryptosign seed that is not 32 bytes of hex, or a platform whose
 * WebCrypto has no Ed25519 (simulated by refusing the algorithm). `connect()`
 * rejects with a `CredentialsError`; a `Connection` stops at once with
 * `closed` (`wamp.error.cannot_authenticate`) instead of retrying as if the
 * router were unreachable. A listener on 127.0.0.1 counts the connections.
 */

import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import {
  connect,
  Connection,
  type ConnectionCloseDetails,
  type ConnectionCloseReason,
  CredentialsError,
  cryptosignKeyPair,
  ErrorUri,
  NotConnectedError,
} from "../../client/mod.ts";
import { listen, Router } from "../../mod.ts";
import { within } from "../_helpers/router.ts";

/** A TCP listener that counts (and drops) the connections made to it. */
function counting() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let accepted = 0;
  const serving = (async () => {
    for await (const conn of listener) {
      accepted++;
      conn.close();
    }
  })().catch(() => {});
  return {
    url: `ws://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    accepted: () => accepted,
    async close() {
      listener.close();
      await serving;
    },
  };
}

/** Runs `body` with WebCrypto refusing Ed25519, as a platform without it does. */
async function withoutEd25519(body: () => Promise<void>): Promise<void> {
  const subtle = crypto.subtle as SubtleCrypto & { importKey: SubtleCrypto["importKey"] };
  const original = subtle.importKey;
  const refusing = function (this: SubtleCrypto, ...args: Parameters<typeof original>) {
    const algorithm = args[2];
    const name = typeof algorithm === "string" ? algorithm : algorithm.name;
    if (name === "Ed25519") {
      return Promise.reject(new DOMException("Unrecognized algorithm name", "NotSupportedError"));
    }
    return (original as (...a: unknown[]) => Promise<CryptoKey>).apply(this, args);
  };
  Object.defineProperty(subtle, "importKey", { value: refusing, configurable: true });
  try {
    await body();
  } finally {
    delete (subtle as { importKey?: unknown }).importKey; // back to the prototype's
  }
}

/** A connection that records its `onclose` calls. */
function recorded(url: string, seed: string) {
  const closes: [ConnectionCloseReason, ConnectionCloseDetails][] = [];
  const connection = new Connection(url, {
    realm: "realm1",
    cryptosign: { seed },
    initialRetryDelay: 10,
    retryDelayJitter: 0,
    onclose: (reason, details) => void closes.push([reason, details]),
  });
  return { connection, closes };
}

const cases: [string, () => string, RegExp, ((body: () => Promise<void>) => Promise<void>)?][] = [
  ["a bad seed", () => "not hex", /"cryptosign" seed: not 32 bytes of hex/],
  ["no Ed25519", () => cryptosignKeyPair().seed, /no Ed25519.*Unrecognized/, withoutEd25519],
];

for (const [name, seed, message, around] of cases) {
  Deno.test(`connect() and Connection: ${name} fails before connecting, and is not retried`, async () => {
    const server = counting();
    try {
      await (around ?? ((body) => body()))(async () => {
        await rejects(
          connect(server.url, { realm: "realm1", cryptosign: { seed: seed() } }),
          (e: Error) => e instanceof CredentialsError && message.test(e.message),
        );
        const { connection, closes } = recorded(server.url, seed());
        await rejects(within(connection.open(), 5000, "open"), (e: Error) => {
          ok(e instanceof NotConnectedError, String(e));
          ok(/the connection has stopped: closed/.test(e.message), e.message);
          return true;
        });
        equal(await connection.closed, "closed");
        deepEqual(closes.map(([reason, d]) => [reason, d.reason, d.willRetry]), [
          ["closed", ErrorUri.CANNOT_AUTHENTICATE, false],
        ]);
        ok(message.test(closes[0]![1].message ?? ""), closes[0]![1].message);
      });
      equal(server.accepted(), 0, "no connection was made");
    } finally {
      await server.close();
    }
  });
}

Deno.test("Connection with a cryptosign key joins, and joins again after a restart", async () => {
  const key = cryptosignKeyPair();
  const realms = [{
    name: "realm1",
    auth: {
      cryptosign: { principals: { carol: { role: "device", authorizedKeys: [key.publicKey] } } },
    },
  }];
  let router = new Router({ realms, logger: () => {} });
  let listener = await listen(router, { port: 0, hostname: "127.0.0.1" });
  const url = listener.urls.websocket!;
  const connection = new Connection(url, {
    realm: "realm1",
    cryptosign: { seed: key.seed },
    initialRetryDelay: 10,
  });
  try {
    equal((await within(connection.open(), 5000, "join")).details.authid, "carol");
    const again = new Promise<void>((resolve) => connection.onopen = () => resolve());
    await listener.close();
    await router.close();
    router = new Router({ realms, logger: () => {} });
    listener = await listen(router, { port: Number(new URL(url).port), hostname: "127.0.0.1" });
    await within(again, 5000, "join again");
    equal(connection.session?.details.authid, "carol");
  } finally {
    await connection.close();
    await listener.close();
    await router.close();
  }
});
