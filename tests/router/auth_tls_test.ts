/**
 * TLS-aware authentication on the router, with no sockets: the `tls`
 * method (static principals, dynamic authenticators, config validation),
 * channel binding (`tls-unique`) for WAMP-Cryptosign and WAMP-SCRAM, and
 * the transport dict dynamic authenticators see. Transports are fake
 * {@linkcode TransportInfo} values carrying a certificate and a channel ID.
 */

import { deepEqual, equal, match, ok, rejects, throws } from "node:assert/strict";
import {
  type AuthOutcome,
  type AuthRequest,
  type DynamicAuthRequest,
  transportDict,
} from "../../router/core/auth/authenticator.ts";
import { cryptosignAuthenticator } from "../../router/core/auth/cryptosign.ts";
import { settleAuthOutcome } from "../../router/auth_outcome.ts";
import { scramAuthenticator, type ScramUser } from "../../router/core/auth/scram.ts";
import { tlsAuthenticator } from "../../router/core/auth/tls.ts";
import { resolveRealmOptions } from "../../router/core/realm_options.ts";
import { Router } from "../../router/router.ts";
import { cryptosignKeyPair, signChallenge } from "../../wamp/auth/cryptosign.ts";
import { deriveCredentials, type ScramKdfParams } from "../../wamp/auth/scram.ts";
import { checkVerifier } from "../../wamp/auth/scram_client.ts";
import { scramAnswer as clientScramAnswer } from "../../client/auth/scram.ts";
import {
  type Dict,
  ErrorUri,
  MessageType,
  type PeerCertificate,
  type PeerHandler,
  type TransportInfo,
  type WampMessage,
} from "../../wamp/mod.ts";
import { FakePeer } from "../_helpers/fake_peer.ts";

// ---- fixtures ---------------------------------------------------------------

const ALICE_SHA256 = Array.from({ length: 32 }, (_, i) => (i * 7 + 3).toString(16).padStart(2, "0"))
  .join(":").toUpperCase();
const ALICE_SHA1 = Array.from({ length: 20 }, (_, i) => (i * 11 + 5).toString(16).padStart(2, "0"))
  .join(":").toUpperCase();

/** alice's certificate, as `tlsInfo()` reads it. */
function certificate(overrides: Partial<PeerCertificate> = {}): PeerCertificate {
  return {
    subject: { CN: "alice", O: "Example" },
    issuer: { CN: "Cloverleaf Test CA" },
    fingerprint256: ALICE_SHA256,
    fingerprint: ALICE_SHA1,
    serialNumber: "1F2E3D",
    validFrom: "Jan  1 00:00:00 2026 GMT",
    validTo: "Jan  1 00:00:00 2027 GMT",
    ...overrides,
  };
}

const CHANNEL_ID = new Uint8Array(32).map((_, i) => i * 5 + 1);
const OTHER_CHANNEL_ID = new Uint8Array(32).map((_, i) => 255 - i);

/** A TLS transport with alice's certificate and {@linkcode CHANNEL_ID}. */
function tlsTransport(
  tls: TransportInfo["tls"] = {
    protocol: "TLSv1.3",
    peerCertificate: certificate(),
    channelId: CHANNEL_ID,
  },
): TransportInfo {
  return { type: "rawsocket", serializer: "json", peer: "tcp4:127.0.0.1:50000", tls };
}

const PLAIN: TransportInfo = { type: "websocket", serializer: "json" };

function request(
  transport: TransportInfo,
  authid?: string,
  authextra: Dict = {},
): AuthRequest {
  return { realm: "realm1", authid, authextra, session: 7, transport };
}

function welcomeOf(outcome: AuthOutcome): Dict {
  ok("welcome" in outcome, `expected WELCOME, got ${JSON.stringify(outcome)}`);
  return { ...outcome.welcome };
}

function denialOf(outcome: AuthOutcome): string {
  ok("deny" in outcome, `expected a denial, got ${JSON.stringify(outcome)}`);
  return outcome.deny;
}

function challengeOf(outcome: AuthOutcome): {
  challenge: Dict;
  answer: (signature: string, extra: Dict) => AuthOutcome | Promise<AuthOutcome>;
} {
  ok("challenge" in outcome, `expected CHALLENGE, got ${JSON.stringify(outcome)}`);
  return outcome;
}

// ---- tls: static principals -------------------------------------------------

Deno.test("tlsAuthenticator() welcomes the principal whose subject matches, without a CHALLENGE", async () => {
  const tls = tlsAuthenticator({
    principals: { alice: { role: "user", subject: { CN: "alice" } } },
  });
  deepEqual(welcomeOf(await tls.hello(request(tlsTransport()))), {
    authid: "alice",
    authrole: "user",
    authmethod: "tls",
    authprovider: "static",
  });
});

Deno.test("tlsAuthenticator() matches fingerprints in any case, with or without colons", async () => {
  for (
    const principal of [
      { role: "user", fingerprint256: ALICE_SHA256 },
      { role: "user", fingerprint256: ALICE_SHA256.replaceAll(":", "").toLowerCase() },
      { role: "user", fingerprint: ALICE_SHA1.toLowerCase() },
      {
        role: "user",
        fingerprint256: ALICE_SHA256,
        fingerprint: ALICE_SHA1,
        subject: { cn: "alice" },
      },
    ]
  ) {
    const tls = tlsAuthenticator({ principals: { alice: principal } });
    equal(
      welcomeOf(await tls.hello(request(tlsTransport()))).authid,
      "alice",
      JSON.stringify(principal),
    );
  }
});

Deno.test("tlsAuthenticator() denies a certificate that fails any criterion of every principal", async () => {
  const other = ALICE_SHA256.replace(/^../, "00");
  for (
    const principal of [
      { role: "user", subject: { CN: "bob" } },
      { role: "user", subject: { CN: "alice", O: "Other" } },
      { role: "user", subject: { CN: "alice", OU: "absent" } },
      { role: "user", fingerprint256: other },
      { role: "user", fingerprint256: other, subject: { CN: "alice" } },
      { role: "user" }, // no criterion: never matches
    ]
  ) {
    const tls = tlsAuthenticator({ principals: { alice: principal } });
    match(
      denialOf(await tls.hello(request(tlsTransport()))),
      /^tls: certificate [0-9A-F:]+ \(CN=alice, O=Example\) is not a known principal$/,
    );
  }
});

Deno.test("tlsAuthenticator() lets a HELLO authid pick the principal the certificate must be", async () => {
  const tls = tlsAuthenticator({
    principals: {
      alice: { role: "user", subject: { CN: "alice" } },
      staff: { role: "staff", subject: { O: "Example" } },
      bob: { role: "user", subject: { CN: "bob" } },
    },
  });
  equal(welcomeOf(await tls.hello(request(tlsTransport(), "staff"))).authrole, "staff");
  equal(welcomeOf(await tls.hello(request(tlsTransport(), "alice"))).authrole, "user");
  match(denialOf(await tls.hello(request(tlsTransport(), "bob"))), /is not principal "bob"$/);
  match(
    denialOf(await tls.hello(request(tlsTransport(), "mallory"))),
    /is not principal "mallory"$/,
  );
  match(
    denialOf(await tls.hello(request(tlsTransport(), "constructor"))),
    /is not principal "constructor"$/,
  );
});

Deno.test("tlsAuthenticator() denies a certificate that matches several principals when no authid picks one", async () => {
  const tls = tlsAuthenticator({
    principals: {
      alice: { role: "user", subject: { CN: "alice" } },
      staff: { role: "staff", subject: { O: "Example" } },
    },
  });
  match(
    denialOf(await tls.hello(request(tlsTransport()))),
    /matches principals alice, staff; the client must send an authid$/,
  );
});

Deno.test("tlsAuthenticator.accepts() only a transport with a verified client certificate", async () => {
  const tls = tlsAuthenticator({
    principals: { alice: { role: "user", subject: { CN: "alice" } } },
  });
  equal(tls.accepts?.("realm1", tlsTransport()), true);
  equal(tls.accepts?.("realm1", PLAIN), false);
  equal(
    tls.accepts?.("realm1", tlsTransport({ protocol: "TLSv1.3", channelId: CHANNEL_ID })),
    false,
  );
  // Should hello() be reached anyway, it denies.
  equal(
    denialOf(await tls.hello(request(PLAIN))),
    "tls: the client presented no verified certificate",
  );
});

// ---- tls: dynamic -----------------------------------------------------------

Deno.test("tlsAuthenticator() asks a dynamic authenticator with the certificate as peer_cert", async () => {
  const asked: DynamicAuthRequest[] = [];
  const tls = tlsAuthenticator({
    authenticator: (req) => {
      asked.push(req);
      return { role: "device" };
    },
  });
  const transport = { ...tlsTransport(), cookie: "tracking-cookie-secret" };
  deepEqual(
    welcomeOf(await settleAuthOutcome(tls.hello(request(transport, undefined, { x_hint: 1 })))),
    {
      authid: "alice", // the certificate's CN
      authrole: "device",
      authmethod: "tls",
      authprovider: "dynamic",
    },
  );
  equal(asked.length, 1);
  const { transport: shown, ...rest } = asked[0]!;
  deepEqual(rest, { realm: "realm1", authmethod: "tls", authextra: { x_hint: 1 }, session: 7 });
  deepEqual(shown, {
    type: "rawsocket",
    serializer: "json",
    peer: "tcp4:127.0.0.1:50000",
    channel_type: "tls",
    is_secure: true,
    tls_protocol: "TLSv1.3",
    channel_id: { "tls-unique": CHANNEL_ID.toHex() },
    peer_cert: {
      sha256: ALICE_SHA256,
      sha1: ALICE_SHA1,
      serial: "1F2E3D",
      not_before: "Jan  1 00:00:00 2026 GMT",
      not_after: "Jan  1 00:00:00 2027 GMT",
      subject: { cn: "alice", o: "Example" },
      issuer: { cn: "Cloverleaf Test CA" },
    },
  });
  deepEqual(JSON.parse(JSON.stringify(shown)), shown, "JSON-friendly");
  ok(!JSON.stringify(asked).includes("tracking-cookie-secret"), "the cookie stays private");
});

Deno.test("tlsAuthenticator() takes the dynamic authid, else the CN, else the SHA-256 fingerprint", async () => {
  const named = tlsAuthenticator({ authenticator: () => ({ role: "r", authid: "device-17" }) });
  equal(
    welcomeOf(await settleAuthOutcome(named.hello(request(tlsTransport())))).authid,
    "device-17",
  );
  equal(
    welcomeOf(await settleAuthOutcome(named.hello(request(tlsTransport(), "device-17")))).authid,
    "device-17",
  );
  const bare = tlsAuthenticator({ authenticator: () => "r" });
  const noCn = tlsTransport({ peerCertificate: certificate({ subject: { O: "Example" } }) });
  equal(welcomeOf(await settleAuthOutcome(bare.hello(request(noCn)))).authid, ALICE_SHA256);
});

Deno.test("tlsAuthenticator() denies a HELLO authid the dynamic authenticator did not grant", async () => {
  const tls = tlsAuthenticator({ authenticator: () => ({ role: "user" }) });
  equal(
    denialOf(await settleAuthOutcome(tls.hello(request(tlsTransport(), "root")))),
    'tls: the authenticator granted "alice", not "root"',
  );
  const refusing = tlsAuthenticator({
    authenticator: () => {
      throw new Error("revoked certificate");
    },
  });
  await rejects(
    async () => await settleAuthOutcome(refusing.hello(request(tlsTransport()))),
    /revoked certificate/,
  );
});

// ---- tls: through the router ------------------------------------------------

/** A fake peer on a transport of our choosing. */
class PeerOn extends FakePeer {
  override readonly info: TransportInfo;
  constructor(info: TransportInfo) {
    super();
    this.info = info;
  }
}

const attached: PeerHandler[] = [];

async function helloOver(
  router: Router,
  info: TransportInfo,
  authmethods: string[],
  authid?: string,
): Promise<WampMessage> {
  const peer = new PeerOn(info);
  const handler = router.attach(peer);
  attached.push(handler);
  handler.receive({
    type: MessageType.HELLO,
    realm: "realm1",
    details: { roles: { caller: {} }, authmethods, ...(authid === undefined ? {} : { authid }) },
  });
  for (let i = 0; i < 50 && peer.sent.length === 0; i++) await Promise.resolve();
  equal(peer.sent.length, 1, "one reply");
  return peer.sent[0]!;
}

Deno.test("Router: HELLO authmethods [tls] over a verified certificate is welcomed at once", async () => {
  const logs: string[] = [];
  const router = new Router({
    realms: [{
      name: "realm1",
      auth: {
        tls: { principals: { alice: { role: "user", subject: { CN: "alice" } } } },
        ticket: { principals: { bob: { ticket: "t", role: "user" } } },
      },
    }],
    logger: (_, message) => logs.push(message),
  });
  try {
    const welcome = await helloOver(router, tlsTransport(), ["tls"]);
    equal(welcome.type, MessageType.WELCOME, JSON.stringify(welcome));
    if (welcome.type === MessageType.WELCOME) {
      equal(welcome.details.authmethod, "tls");
      equal(welcome.details.authid, "alice");
    }
    // Without a certificate, the client's next method runs.
    const challenge = await helloOver(router, PLAIN, ["tls", "ticket"], "bob");
    equal(challenge.type, MessageType.CHALLENGE);
    // With tls alone, there is nothing to offer.
    const none = await helloOver(router, PLAIN, ["tls"]);
    ok(none.type === MessageType.ABORT && none.reason === ErrorUri.NO_AUTH_METHOD);
    // A certificate no principal names.
    const stranger = tlsTransport({
      peerCertificate: certificate({ subject: { CN: "mallory" } }),
    });
    const refused = await helloOver(router, stranger, ["tls"]);
    ok(refused.type === MessageType.ABORT && refused.reason === ErrorUri.AUTHENTICATION_FAILED);
    ok(
      logs.some((line) => /tls authentication failed: tls: certificate .*CN=mallory/.test(line)),
      logs.join("\n"),
    );
  } finally {
    for (const handler of attached.splice(0)) handler.closed();
    await router.close();
  }
});

// ---- tls: config ------------------------------------------------------------

function tlsConfig(tls: unknown): unknown {
  return { name: "realm1", auth: { tls } };
}

Deno.test("resolveRealmOptions() reads auth.tls principals and normalizes their fingerprints", () => {
  const lower = ALICE_SHA256.replaceAll(":", "").toLowerCase();
  const resolved = resolveRealmOptions(tlsConfig({
    principals: {
      alice: { role: "user", fingerprint256: lower, fingerprint: ALICE_SHA1.toLowerCase() },
      staff: { role: "staff", subject: { O: "Example", OU: "Ops" } },
    },
  }));
  deepEqual(resolved.auth.tls, {
    principals: {
      alice: { role: "user", fingerprint256: ALICE_SHA256, fingerprint: ALICE_SHA1 },
      staff: { role: "staff", subject: { O: "Example", OU: "Ops" } },
    },
  });
  const dynamic = resolveRealmOptions(tlsConfig({ authenticator: "com.example.authenticate" }));
  deepEqual(dynamic.auth.tls, { authenticator: "com.example.authenticate" });
});

Deno.test("resolveRealmOptions() refuses invalid auth.tls options, naming the key", () => {
  const at = "realm.auth.tls";
  const cases: [unknown, string][] = [
    [
      { principals: { a: { role: "r", fingerprint256: "AB:CD" } } },
      `Invalid config "${at}.principals.a.fingerprint256": expected 32 bytes of hex, colons optional`,
    ],
    [
      { principals: { a: { role: "r", fingerprint: ALICE_SHA256 } } },
      `Invalid config "${at}.principals.a.fingerprint": expected 20 bytes of hex, colons optional`,
    ],
    [
      { principals: { a: { role: "r", fingerprint256: "zz".repeat(32) } } },
      `Invalid config "${at}.principals.a.fingerprint256": expected 32 bytes of hex, colons optional`,
    ],
    [
      { principals: { a: { role: "r" } } },
      `Invalid config "${at}.principals.a": expected fingerprint256, fingerprint or subject`,
    ],
    [
      { principals: { a: { role: "r", subject: {} } } },
      `Invalid config "${at}.principals.a.subject": expected at least one field`,
    ],
    [
      { principals: { a: { role: "r", subject: { CN: 1 } } } },
      `Invalid config "${at}.principals.a.subject.CN": expected a non-empty string, got 1`,
    ],
    [
      { principals: { a: { role: "r", subject: { CN: "a" }, sha1: "x" } } },
      `Invalid config "${at}.principals.a.sha1": unknown key`,
    ],
    [
      { principals: { a: { subject: { CN: "a" } } } },
      `Invalid config "${at}.principals.a.role": expected a non-empty string, got nothing`,
    ],
    [{}, `Invalid config "${at}.principals": expected principals or an authenticator`],
    [
      { principals: {}, authenticator: "com.example.auth" },
      `Invalid config "${at}.principals": give principals or an authenticator, not both`,
    ],
  ];
  for (const [tls, message] of cases) {
    throws(() => resolveRealmOptions(tlsConfig(tls)), { name: "TypeError", message });
  }
});

// ---- transportDict ----------------------------------------------------------

Deno.test("transportDict() leaves a plain transport as it was, without its cookie", () => {
  deepEqual(transportDict({ ...PLAIN, cookie: "c00kie" }), PLAIN);
  deepEqual(transportDict(tlsTransport({})), {
    type: "rawsocket",
    serializer: "json",
    peer: "tcp4:127.0.0.1:50000",
    channel_type: "tls",
    is_secure: true,
  });
});

// ---- cryptosign channel binding ---------------------------------------------

const DORA = cryptosignKeyPair("4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510");
const cryptosign = cryptosignAuthenticator({
  principals: { dora: { role: "device", authorizedKeys: [DORA.publicKey] } },
});
const BOUND = { pubkey: DORA.publicKey, channel_binding: "tls-unique" };

Deno.test("cryptosignAuthenticator() announces tls-unique and verifies challenge XOR channel_id", async () => {
  const step = challengeOf(await cryptosign.hello(request(tlsTransport(), undefined, BOUND)));
  equal(step.challenge.channel_binding, "tls-unique");
  const signature = signChallenge(DORA, step.challenge.challenge as string, CHANNEL_ID);
  deepEqual(welcomeOf(await step.answer(signature, {})), {
    authid: "dora",
    authrole: "device",
    authmethod: "cryptosign",
    authprovider: "static",
  });
});

Deno.test("cryptosignAuthenticator() denies a bound signature made for another channel, or unbound", async () => {
  for (
    const sign of [
      (challenge: string) => signChallenge(DORA, challenge, OTHER_CHANNEL_ID),
      (challenge: string) => signChallenge(DORA, challenge),
    ]
  ) {
    const step = challengeOf(await cryptosign.hello(request(tlsTransport(), undefined, BOUND)));
    equal(
      denialOf(await step.answer(sign(step.challenge.challenge as string), {})),
      `cryptosign: the signature by key ${
        DORA.publicKey.slice(0, 16)
      }… does not verify (bound to tls-unique)`,
    );
  }
});

Deno.test("cryptosignAuthenticator() refuses a channel binding the transport cannot give", async () => {
  equal(
    denialOf(await cryptosign.hello(request(PLAIN, undefined, BOUND))),
    'cryptosign: channel binding "tls-unique" asked for, but the websocket transport has no TLS channel ID',
  );
  const exporter = { ...BOUND, channel_binding: "tls-exporter" };
  equal(
    denialOf(await cryptosign.hello(request(tlsTransport(), undefined, exporter))),
    'cryptosign: channel binding "tls-exporter" is not supported',
  );
});

Deno.test("cryptosignAuthenticator() over TLS without a binding asked signs the bare challenge", async () => {
  const step = challengeOf(
    await cryptosign.hello(request(tlsTransport(), undefined, { pubkey: DORA.publicKey })),
  );
  equal(step.challenge.channel_binding, null);
  const challenge = step.challenge.challenge as string;
  equal(welcomeOf(await step.answer(signChallenge(DORA, challenge), {})).authid, "dora");
});

// ---- WAMP-SCRAM channel binding ---------------------------------------------

const KDF: ScramKdfParams = { kdf: "pbkdf2", salt: "ZXJpbi1zYWx0LTE2Ynl0ZQ==", iterations: 1000 };
const PASSWORD = "erin-scram-password-5Lp";
const ERIN: ScramUser = { role: "scrammer", ...KDF, ...deriveCredentials(PASSWORD, KDF) };
const scram = scramAuthenticator({ users: { erin: ERIN } });
const NONCE = "Y2xpZW50LW5vbmNlLTE2Qg==";

async function scramChallenge(transport: TransportInfo, channelBinding: string | null) {
  return challengeOf(
    await scram.hello(
      request(transport, "erin", { nonce: NONCE, channel_binding: channelBinding }),
    ),
  );
}

/** What a client sends, binding to `channelId`. */
function scramAnswer(extra: Dict, channelId: Uint8Array | null) {
  return clientScramAnswer(
    PASSWORD,
    channelId === null ? { authid: "erin", nonce: NONCE } : {
      authid: "erin",
      nonce: NONCE,
      channelBinding: "tls-unique",
      cbindData: channelId.toBase64(),
    },
    extra,
  );
}

Deno.test("scramAuthenticator() accepts a proof bound to the connection's tls-unique", async () => {
  const step = await scramChallenge(tlsTransport(), "tls-unique");
  const answer = await scramAnswer(step.challenge, CHANNEL_ID);
  deepEqual(answer.extra.channel_binding, "tls-unique");
  const welcome = welcomeOf(await step.answer(answer.signature, { ...answer.extra }));
  equal(welcome.authid, "erin");
  ok(checkVerifier(answer.verifier, (welcome.authextra as Dict).verifier));
});

Deno.test("scramAuthenticator() denies a proof bound to another channel", async () => {
  // Honest about its (other) channel: cbind_data gives it away.
  let step = await scramChallenge(tlsTransport(), "tls-unique");
  let answer = await scramAnswer(step.challenge, OTHER_CHANNEL_ID);
  equal(
    denialOf(await step.answer(answer.signature, { ...answer.extra })),
    "wamp-scram: cbind_data is not this connection's tls-unique channel ID",
  );
  // Relaying our cbind_data with a proof made over its own channel: the proof fails.
  step = await scramChallenge(tlsTransport(), "tls-unique");
  answer = await scramAnswer(step.challenge, OTHER_CHANNEL_ID);
  const relayed = { ...answer.extra, cbind_data: CHANNEL_ID.toBase64() };
  equal(
    denialOf(await step.answer(answer.signature, relayed)),
    'wrong wamp-scram proof for "erin"',
  );
});

Deno.test("scramAuthenticator() denies an AUTHENTICATE whose binding differs from HELLO's", async () => {
  let step = await scramChallenge(tlsTransport(), "tls-unique");
  let answer = await scramAnswer(step.challenge, null);
  equal(
    denialOf(await step.answer(answer.signature, { ...answer.extra })),
    "wamp-scram: channel binding null is not the one asked for",
  );
  step = await scramChallenge(tlsTransport(), null);
  answer = await scramAnswer(step.challenge, CHANNEL_ID);
  equal(
    denialOf(await step.answer(answer.signature, { ...answer.extra })),
    "wamp-scram: channel binding was not asked for",
  );
  // Unbound both ways still works over TLS.
  step = await scramChallenge(tlsTransport(), null);
  answer = await scramAnswer(step.challenge, null);
  equal(welcomeOf(await step.answer(answer.signature, { ...answer.extra })).authid, "erin");
});

Deno.test("scramAuthenticator() refuses at HELLO a channel binding the transport cannot give", async () => {
  const hello = (transport: TransportInfo, channel_binding: string) =>
    scram.hello(request(transport, "erin", { nonce: NONCE, channel_binding }));
  equal(
    denialOf(await hello(PLAIN, "tls-unique")),
    'wamp-scram: channel binding "tls-unique" asked for, but the websocket transport has no TLS channel ID',
  );
  equal(
    denialOf(await hello(tlsTransport(), "tls-server-end-point")),
    'wamp-scram: channel binding "tls-server-end-point" is not supported',
  );
});
