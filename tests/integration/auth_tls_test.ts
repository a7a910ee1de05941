/**
 * TLS-aware authentication end to end, over real TLS connections made with
 * the throwaway test PKI (`testPki()`), once per scheme (`tcps://`
 * RawSocket, `wss://` WebSocket): a client certificate (CN=alice)
 * authenticating with authmethod `tls`, static and dynamic, and
 * WAMP-Cryptosign and WAMP-SCRAM bound to the connection with `tls-unique`
 * (the channel ID both ends read from their `node:tls` socket must agree;
 * one read from another connection must not). Then the client's side of
 * channel binding, without sockets. Without openssl the TLS tests are
 * ignored, not failed.
 *
 * The server is a bare `node:tls` server in front of `rawSocketHandler()`
 * or `upgradeWebSocket()`, asking for client certificates
 * (`requestCert`, not rejecting a client without one). Every test checks
 * that the router's log holds none of the credentials.
 */

import { deepEqual, equal, match, ok, rejects, throws } from "node:assert/strict";
import type net from "node:net";
import tls from "node:tls";
import { ClientAuthenticator } from "../../client/auth/authenticator.ts";
import type { AuthCredentials } from "../../client/auth/credentials.ts";
import {
  type AuthOptions,
  connectLocal,
  ErrorUri,
  type RealmOptions,
  Router,
  Session,
  SessionClosedError,
} from "../../mod.ts";
import type { DynamicAuthRequest } from "../../router/mod.ts";
import { type Dict, type Link, MessageType, type WampMessage } from "../../wamp/mod.ts";
import { parseRequestHead } from "../../transports/stream/http.ts";
import { rawSocketHandler } from "../../transports/rawsocket/server.ts";
import { verifyCryptosign } from "../../wamp/auth/cryptosign.ts";
import { connectRawSocket } from "../../transports/rawsocket/client.ts";
import { connectWebSocket } from "../../transports/websocket/client.ts";
import { upgradeWebSocket } from "../../transports/websocket/server.ts";
import { concat } from "../../transports/stream/bytes.ts";
import { Wire } from "../../transports/stream/wire.ts";
import {
  assertNoSecrets,
  BACKEND,
  CREDENTIALS as C,
  DORA_PUBKEY,
  DORA_SEED,
  KDF,
  trustedRealm,
} from "../_helpers/auth.ts";
import { within } from "../_helpers/router.ts";
import { type TestPki, testPki } from "../_helpers/tls.ts";

const pki: TestPki | string = await testPki().catch((error: Error) =>
  `no test PKI (${error.message.split("\n")[0]})`
);

/**
 * Registers a test per scheme (`tcps`, `wss`) on a fresh router with
 * these auth options; ignored when openssl is missing.
 */
function tlsTest(
  name: string,
  auth: AuthOptions,
  fn: (t: TlsServer, pki: TestPki) => Promise<void>,
  ...realms: RealmOptions[]
): void {
  for (const scheme of SCHEMES) {
    const title = `[${scheme}] auth ${name}`;
    Deno.test({
      name: title,
      async fn() {
        if (typeof pki === "string") throw new Error(`missing: ${pki}`);
        await using t = await TlsServer.start(scheme, pki as TestPki, auth, ...realms);
        await fn(t, pki as TestPki);
      },
    });
  }
}

// ---- a router behind a TLS server ---------------------------------------------

/** How a test connects: RawSocket or WebSocket, both over TLS. */
type Scheme = "tcps" | "wss";
const SCHEMES: readonly Scheme[] = ["tcps", "wss"];

/** The server side of one scheme: RawSocket, or an HTTP upgrade to WebSocket. */
function onSocket(scheme: Scheme, router: Router): (socket: net.Socket) => void {
  if (scheme === "tcps") return rawSocketHandler(router);
  return (socket) => {
    const wire = new Wire(socket);
    let buffered: Uint8Array = new Uint8Array(0);
    wire.bind({
      data(chunk) {
        buffered = concat([buffered, chunk]);
        const parsed = parseRequestHead(buffered);
        if ("incomplete" in parsed) return;
        if ("error" in parsed) return wire.destroy();
        upgradeWebSocket(wire, parsed.head, buffered.subarray(parsed.length), router);
      },
      closed() {},
    });
  };
}

/**
 * A router with realm1 (these auth options) behind a `tcps://` or
 * `wss://` server that asks for client certificates signed by the test CA.
 */
class TlsServer implements AsyncDisposable {
  readonly router: Router;
  readonly logs: string[] = [];
  readonly server: tls.Server;
  readonly sockets = new Set<net.Socket>();
  readonly scheme: Scheme;
  url = "";

  constructor(scheme: Scheme, pki: TestPki, auth: AuthOptions, realms: RealmOptions[]) {
    this.scheme = scheme;
    this.router = new Router({
      realms: [{ name: "realm1", auth }, ...realms],
      logger: (level, message) => this.logs.push(`${level} ${message}`),
    });
    this.server = tls.createServer(
      { cert: pki.cert, key: pki.key, ca: [pki.ca], requestCert: true, rejectUnauthorized: false },
      onSocket(scheme, this.router),
    );
    this.server.on("connection", (s: net.Socket) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
    this.server.on("tlsClientError", () => {});
  }

  static async start(
    scheme: Scheme,
    pki: TestPki,
    auth: AuthOptions,
    ...realms: RealmOptions[]
  ): Promise<TlsServer> {
    const t = new TlsServer(scheme, pki, auth, realms);
    await new Promise<void>((resolve) => t.server.listen(0, "127.0.0.1", resolve));
    const port = (t.server.address() as net.AddressInfo).port;
    t.url = scheme === "tcps" ? `tcps://127.0.0.1:${port}` : `wss://127.0.0.1:${port}/ws`;
    return t;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await within(this.router.close(), 5000, "router.close()");
    for (const s of this.sockets) s.destroy();
    await within(new Promise((resolve) => this.server.close(resolve)), 5000, "server.close()");
    assertNoSecrets(this.logs);
  }
}

/** Connects over TLS trusting the test CA, presenting alice's certificate when asked. */
function dial(t: TlsServer, pki: TestPki, withCertificate: boolean): Promise<Link> {
  const tlsOptions = withCertificate
    ? { caCerts: [pki.ca], cert: pki.clientCert, key: pki.clientKey }
    : { caCerts: [pki.ca] };
  const link = t.scheme === "tcps"
    ? connectRawSocket(t.url, { tls: tlsOptions })
    : connectWebSocket(t.url, { tls: tlsOptions });
  return within(link, 5000, "connecting");
}

async function join(
  t: TlsServer,
  pki: TestPki,
  withCertificate: boolean,
  options: AuthCredentials,
): Promise<Session> {
  const link = await dial(t, pki, withCertificate);
  return await within(Session.join(link, { realm: "realm1", timeout: 5000, ...options }));
}

async function refused(joining: Promise<Session>, reason: string): Promise<void> {
  try {
    await joining;
  } catch (error) {
    ok(error instanceof SessionClosedError, `expected SessionClosedError, got ${error}`);
    equal(error.reason, reason);
    return;
  }
  throw new Error(`the join was not refused with ${reason}`);
}

/**
 * Joins realm1 the way `Session.join()` does, but with a
 * {@linkcode ClientAuthenticator} that sees the link's transport (for
 * channel binding), and returns the router's last answer: WELCOME or
 * ABORT. The link is closed afterwards.
 */
async function handshake(link: Link, credentials: AuthCredentials): Promise<WampMessage> {
  const auth = new ClientAuthenticator(credentials, link.info);
  const inbox: WampMessage[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  link.bind({
    receive: (msg) => {
      inbox.push(msg);
      wake?.();
    },
    fail: () => {},
    closed: () => {
      closed = true;
      wake?.();
    },
  });
  const next = async (): Promise<WampMessage> => {
    while (inbox.length === 0) {
      if (closed) throw new Error("the router closed the connection without an answer");
      await within(new Promise<void>((resolve) => wake = resolve), 5000, "the router's answer");
    }
    return inbox.shift()!;
  };
  try {
    link.send({
      type: MessageType.HELLO,
      realm: "realm1",
      details: { roles: { caller: {} }, ...(await auth.prepare(), auth.hello()) },
    });
    let msg = await next();
    if (msg.type === MessageType.CHALLENGE) {
      const { signature, extra } = await auth.answer(msg.authmethod, msg.extra);
      link.send({ type: MessageType.AUTHENTICATE, signature, extra });
      msg = await next();
    }
    if (msg.type === MessageType.WELCOME) {
      equal(auth.welcome(msg.details), undefined, "the client accepts the WELCOME");
    }
    return msg;
  } finally {
    link.close();
  }
}

function welcomeDetails(msg: WampMessage): Dict {
  ok(msg.type === MessageType.WELCOME, `expected WELCOME, got ${JSON.stringify(msg)}`);
  return msg.details;
}

// ---- authmethod tls ------------------------------------------------------------

const ALICE_BY_SUBJECT: AuthOptions = {
  tls: { principals: { alice: { role: "user", subject: { CN: "alice" } } } },
  ticket: { principals: { bob: { ticket: C.aliceTicket, role: "ticketrole" } } },
};

tlsTest(
  "tls: a client certificate is welcomed with authmethod tls",
  ALICE_BY_SUBJECT,
  async (t, pki) => {
    const session = await join(t, pki, true, { authmethods: ["tls"] });
    equal(session.details.authmethod, "tls");
    equal(session.details.authid, "alice");
    equal(session.details.authrole, "user");
    equal(session.details.authprovider, "static");
    await session.close();
  },
);

tlsTest(
  "tls: without a certificate the next method runs, or none is left",
  ALICE_BY_SUBJECT,
  async (t, pki) => {
    const session = await join(t, pki, false, {
      authmethods: ["tls", "ticket"],
      authid: "bob",
      ticket: C.aliceTicket,
    });
    equal(session.details.authmethod, "ticket");
    await session.close();
    await refused(join(t, pki, false, { authmethods: ["tls"] }), ErrorUri.NO_AUTH_METHOD);
  },
);

tlsTest(
  "tls: a certificate pinned to another fingerprint is refused",
  { tls: { principals: { alice: { role: "user", fingerprint256: "00:".repeat(31) + "00" } } } },
  async (t, pki) => {
    await refused(join(t, pki, true, { authmethods: ["tls"] }), ErrorUri.AUTHENTICATION_FAILED);
    ok(
      t.logs.some((line) => /tls authentication failed: .*CN=alice/.test(line)),
      t.logs.join("\n"),
    );
    // The real fingerprint, as the log and openssl print it, is accepted.
    const printed = /certificate ([0-9A-F:]{95}) /.exec(t.logs.join("\n"))?.[1];
    ok(printed !== undefined);
    t.router.addRealm({
      name: "pinned",
      auth: { tls: { principals: { alice: { role: "user", fingerprint256: printed } } } },
    });
    const link = await dial(t, pki, true);
    const session = await within(
      Session.join(link, { realm: "pinned", authmethods: ["tls"], timeout: 5000 }),
    );
    equal(session.details.authid, "alice");
    await session.close();
  },
);

tlsTest(
  "tls: a dynamic procedure sees peer_cert and channel_id",
  { tls: { authenticator: "com.example.authenticate", authenticatorRealm: "auth" } },
  async (t, pki) => {
    const calls: unknown[][] = [];
    const backend = await within(Session.join(await dial(t, pki, false), {
      realm: "auth",
      ...BACKEND,
    }));
    await backend.register("com.example.authenticate", (args) => {
      calls.push(args);
      const details = args[2] as Dict;
      const cert = (details.transport as Dict).peer_cert as Dict;
      return { args: [{ role: "device", authid: `cert:${(cert.subject as Dict).cn}` }] };
    });
    const link = await dial(t, pki, true);
    const channelId = link.info.tls?.channelId;
    const session = await within(
      Session.join(link, { realm: "realm1", authmethods: ["tls"], timeout: 5000 }),
    );
    deepEqual(
      [session.details.authid, session.details.authrole, session.details.authprovider],
      ["cert:alice", "device", "dynamic"],
    );
    const [realm, authid, details] = calls[0] as [string, null, DynamicAuthRequest];
    deepEqual([realm, authid, details.authmethod], ["realm1", null, "tls"]);
    const transport = details.transport;
    equal(transport.type, t.scheme === "tcps" ? "rawsocket" : "websocket");
    equal(transport.channel_type, "tls");
    match(transport.tls_protocol as string, /^TLSv1\.[23]$/);
    const peerCert = transport.peer_cert as Dict;
    deepEqual(peerCert.subject, { cn: "alice" });
    deepEqual(peerCert.issuer, { cn: "Cloverleaf Test CA" });
    match(peerCert.sha256 as string, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    ok(channelId !== undefined, "the client's link carries tls-unique");
    deepEqual(transport.channel_id, { "tls-unique": channelId.toHex() }, "both ends agree");
    ok(!("cookie" in transport));
    await session.close();
    await backend.close();
  },
  trustedRealm(),
);

// ---- channel binding -----------------------------------------------------------

const DORA_ONLY: AuthOptions = {
  cryptosign: { principals: { dora: { role: "device", authorizedKeys: [DORA_PUBKEY] } } },
};

tlsTest(
  "cryptosign: tls-unique binding is welcomed; both ends share the channel ID",
  DORA_ONLY,
  async (t, pki) => {
    const link = await dial(t, pki, false);
    ok(link.info.tls?.channelId?.length === 32);
    const welcome = welcomeDetails(
      await handshake(link, { cryptosign: { seed: DORA_SEED, channelBinding: "tls-unique" } }),
    );
    deepEqual([welcome.authid, welcome.authmethod], ["dora", "cryptosign"]);
    // The same credentials, unbound, still work over TLS.
    const unbound = welcomeDetails(
      await handshake(await dial(t, pki, false), { cryptosign: { seed: DORA_SEED } }),
    );
    equal(unbound.authid, "dora");
  },
);

tlsTest(
  "cryptosign: a signature bound to another connection is refused",
  DORA_ONLY,
  async (t, pki) => {
    // A relay: the client's channel ID is that of another connection.
    const other = await dial(t, pki, false);
    const otherInfo = other.info;
    other.close();
    const link = await dial(t, pki, false);
    const relayed: Link = {
      info: otherInfo,
      send: (msg) => link.send(msg),
      bind: (handler) => link.bind(handler),
      backlog: () => link.backlog(),
      queued: () => link.queued(),
      close: () => link.close(),
    };
    const abort = await handshake(relayed, {
      cryptosign: { seed: DORA_SEED, channelBinding: "tls-unique" },
    });
    ok(abort.type === MessageType.ABORT, JSON.stringify(abort));
    equal(abort.reason, ErrorUri.AUTHENTICATION_FAILED);
    ok(t.logs.some((line) => /bound to tls-unique/.test(line)), t.logs.join("\n"));
  },
);

const ERIN_ONLY: AuthOptions = {
  scram: {
    users: {
      erin: {
        role: "scrammer",
        kdf: "pbkdf2",
        salt: KDF.erin.salt,
        iterations: KDF.erin.iterations,
        password: C.erinPassword,
      },
    },
  },
};

tlsTest("wamp-scram: tls-unique binding is welcomed and verified", ERIN_ONLY, async (t, pki) => {
  const welcome = welcomeDetails(
    await handshake(await dial(t, pki, false), {
      authid: "erin",
      password: C.erinPassword,
      channelBinding: "tls-unique",
    }),
  );
  deepEqual([welcome.authid, welcome.authmethod], ["erin", "wamp-scram"]);
  const wrong = await handshake(await dial(t, pki, false), {
    authid: "erin",
    password: C.wrong,
    channelBinding: "tls-unique",
  });
  ok(wrong.type === MessageType.ABORT && wrong.reason === ErrorUri.AUTHENTICATION_FAILED);
});

// ---- the client's side of channel binding, without sockets ----------------------

const CHANNEL_ID = new Uint8Array(32).fill(0x5a);
const OVER_TLS = { type: "rawsocket", tls: { protocol: "TLSv1.3", channelId: CHANNEL_ID } };

Deno.test("ClientAuthenticator asks for tls-unique in HELLO and signs challenge XOR channel ID", async () => {
  const auth = new ClientAuthenticator({
    cryptosign: { seed: DORA_SEED },
    channelBinding: "tls-unique",
  }, OVER_TLS);
  deepEqual((await auth.prepare(), auth.hello()).authextra, {
    pubkey: DORA_PUBKEY,
    channel_binding: "tls-unique",
  });
  const challenge = "ab".repeat(32);
  const { signature } = await auth.answer("cryptosign", {
    challenge,
    channel_binding: "tls-unique",
  });
  ok(verifyCryptosign(DORA_PUBKEY, challenge, signature, CHANNEL_ID));
  ok(!verifyCryptosign(DORA_PUBKEY, challenge, signature));
});

Deno.test("ClientAuthenticator refuses a CHALLENGE that does not confirm the binding it asked for", async () => {
  const auth = new ClientAuthenticator(
    { cryptosign: { seed: DORA_SEED, channelBinding: "tls-unique" } },
    OVER_TLS,
  );
  const challenge = "ab".repeat(32);
  await rejects(
    auth.answer("cryptosign", { challenge, channel_binding: null }),
    {
      name: "TypeError",
      message:
        'Cannot authenticate with "cryptosign": the router did not confirm channel binding ' +
        '"tls-unique" (got null)',
    },
  );
  // Unbound, it refuses a CHALLENGE that claims a binding.
  const unbound = new ClientAuthenticator({ cryptosign: { seed: DORA_SEED } }, OVER_TLS);
  deepEqual((await unbound.prepare(), unbound.hello()).authextra, { pubkey: DORA_PUBKEY });
  await rejects(
    unbound.answer("cryptosign", { challenge, channel_binding: "tls-unique" }),
    /channel binding "tls-unique" was not asked for/,
  );
});

Deno.test("ClientAuthenticator binds wamp-scram: HELLO asks, AUTHENTICATE carries cbind_data", async () => {
  const auth = new ClientAuthenticator(
    { authid: "erin", password: C.erinPassword, channelBinding: "tls-unique" },
    OVER_TLS,
  );
  const hello = (await auth.prepare(), auth.hello()).authextra as Dict;
  equal(hello.channel_binding, "tls-unique");
  const nonce = `${hello.nonce}c2VydmVyLW5vbmNl`;
  const { extra } = await auth.answer("wamp-scram", { ...KDF.erin, nonce });
  deepEqual(extra, { nonce, channel_binding: "tls-unique", cbind_data: CHANNEL_ID.toBase64() });
});

Deno.test("ClientAuthenticator and Session.join() refuse channel binding without TLS", async () => {
  throws(
    () =>
      new ClientAuthenticator({ cryptosign: { seed: DORA_SEED }, channelBinding: "tls-unique" }, {
        type: "websocket",
      }),
    {
      name: "TypeError",
      message:
        'Cannot bind to the channel with "tls-unique": the websocket transport has no TLS channel ID',
    },
  );
  throws(
    () => new ClientAuthenticator({ authid: "erin", password: "p", channelBinding: "tls-unique" }),
    /has no TLS channel ID/,
  );
  // A method that cannot bind ignores the setting.
  const ticket = new ClientAuthenticator({
    authid: "alice",
    ticket: "t",
    channelBinding: "tls-unique",
  });
  equal(ticket.hello().authextra, undefined);
  const router = new Router({ realms: [{ name: "realm1" }], logger: () => {} });
  try {
    await rejects(
      connectLocal(router, "realm1", {
        cryptosign: { seed: DORA_SEED, channelBinding: "tls-unique" },
      }),
      { name: "TypeError", message: /has no TLS channel ID/ },
    );
  } finally {
    await router.close();
  }
});
