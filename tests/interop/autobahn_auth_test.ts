/**
 * Autobahn|JS (npm `autobahn`) authenticating to a Cloverleaf router over a
 * real WebSocket, once per serializer: ticket (`onchallenge` returns the
 * ticket), WAMP-CRA unsalted (`autobahn.auth_cra.sign`) and salted
 * (`auth_cra.derive_key` with the CHALLENGE's salt, iterations and keylen,
 * then `sign`), WAMP-Cryptosign (`auth_cryptosign.sign_challenge`, pure JS
 * via tweetnacl), and a wrong WAMP-CRA secret, which closes the connection
 * with `wamp.error.authentication_failed`. Autobahn|JS has no WAMP-SCRAM.
 *
 * The realm is the one the integration tests read from JSON text
 * (`tests/_helpers/auth.ts`).
 *
 * @module
 */

import { equal, ok } from "node:assert/strict";
import type { SerializerName } from "../../mod.ts";
import { cryptosignKeyPair } from "../../wamp/mod.ts";
import {
  assertNoSecrets,
  CARL_SALT,
  CREDENTIALS as C,
  DORA_PUBKEY,
  DORA_SEED,
  STATIC_REALM_JSON,
} from "../_helpers/auth.ts";
import { startRouter } from "../_helpers/router.ts";
import {
  autobahn,
  type AutobahnClose,
  type AutobahnConnection,
  type AutobahnModule,
  type AutobahnSession,
  type Dict,
  missingAutobahn,
  SERIALIZERS,
  within,
} from "./_autobahn.ts";

/** An Ed25519 key pair as tweetnacl holds it. */
interface NaclKeyPair {
  /** The seed followed by the public key: 64 bytes. */
  secretKey: Uint8Array;
  /** 32 bytes. */
  publicKey: Uint8Array;
}

/** The `autobahn` module with its authentication helpers. */
interface AutobahnWithAuth extends AutobahnModule {
  readonly auth_cra: {
    sign(key: string, challenge: string): string;
    derive_key(secret: string, salt: string, iterations?: number, keylen?: number): string;
  };
  readonly auth_cryptosign: {
    sign_challenge(pkey: NaclKeyPair, extra: Dict): string;
    public_key(pkey: NaclKeyPair): string;
  };
}

/** Autobahn's `onchallenge(session, method, extra)`. */
type OnChallenge = (session: AutobahnSession, method: string, extra: Dict) => unknown;

/** Connection options for authenticating. */
interface AuthJoin {
  authid?: string;
  authmethods: string[];
  authextra?: Dict;
  onchallenge: OnChallenge;
}

/** How an Autobahn connection attempt ended: joined, or closed before. */
type Outcome =
  | { joined: true; session: AutobahnSession; details: Dict; close(): Promise<AutobahnClose> }
  | { joined: false; close: AutobahnClose };

const CLASSES: Record<SerializerName, string> = {
  json: "JSONSerializer",
  msgpack: "MsgpackSerializer",
  cbor: "CBORSerializer",
};

/** Opens an Autobahn connection with credentials; waits for WELCOME or the close. */
async function attempt(
  ab: AutobahnWithAuth,
  url: string,
  serializer: SerializerName,
  auth: AuthJoin,
  userErrors: unknown[],
): Promise<Outcome> {
  const Serializer = ab.serializer[CLASSES[serializer]]!;
  const connection: AutobahnConnection = new ab.Connection({
    url,
    realm: "realm1",
    serializers: [new Serializer()],
    max_retries: 0,
    retry_if_unreachable: false,
    on_user_error: (error: unknown) => userErrors.push(error),
    ...auth,
  });
  const closed = new Promise<AutobahnClose>((resolve) => {
    connection.onclose = (reason, details) => {
      resolve({ reason, details });
      return true; // never reconnect
    };
  });
  const opened = new Promise<{ session: AutobahnSession; details: Dict }>((resolve) => {
    connection.onopen = (session, details) => resolve({ session, details });
  });
  connection.open();
  const outcome = await within(
    Promise.race([
      opened.then(({ session, details }): Outcome => ({
        joined: true,
        session,
        details,
        close: () => {
          if (connection.isConnected) connection.close();
          return within(closed, "Autobahn connection.close()");
        },
      })),
      closed.then((close): Outcome => ({ joined: false, close })),
    ]),
    `Autobahn [${serializer}] authenticating`,
  );
  return outcome;
}

/**
 * Registers one scenario for one serializer: a router with the static
 * realm, and `fn` given a way to attempt a join. Afterwards the router must
 * have logged no credential, and no warning or error but a refused login.
 */
function scenario(
  serializer: SerializerName,
  name: string,
  fn: (join: (auth: AuthJoin) => Promise<Outcome>, ab: AutobahnWithAuth) => Promise<void>,
): void {
  const prefix = `Autobahn|JS ${autobahn?.version ?? ""} [${serializer}] ${name}`;
  if (autobahn === undefined) {
    missingAutobahn(prefix);
    return;
  }
  const ab = autobahn as AutobahnWithAuth;
  Deno.test(prefix, async () => {
    const userErrors: unknown[] = [];
    const t = await startRouter({ realms: [JSON.parse(STATIC_REALM_JSON)] });
    try {
      await fn((auth) => attempt(ab, t.url, serializer, auth, userErrors), ab);
    } finally {
      await t[Symbol.asyncDispose]();
    }
    assertNoSecrets(t.logs);
    // A refused login is a warning by design (the wrong-secret scenario); anything else is not.
    const problems = t.logs.filter((line) =>
      /^(warn|error) |protocol violation/.test(line) && !/ authentication failed: /.test(line)
    );
    equal(problems.length, 0, `router logged: ${problems.join("; ")}`);
    equal(userErrors.length, 0, `Autobahn user errors: ${userErrors.map(String).join("; ")}`);
  });
}

/** Checks a successful join's WELCOME.Details, then leaves. */
async function welcomed(outcome: Outcome, identity: Dict): Promise<void> {
  if (!outcome.joined) {
    throw new Error(
      `Autobahn could not join: ${outcome.close.details.reason}: ${outcome.close.details.message}`,
    );
  }
  ok(outcome.session.isOpen);
  equal(outcome.details.realm, "realm1");
  for (const [key, value] of Object.entries(identity)) {
    equal(outcome.details[key], value, `WELCOME.Details.${key}`);
  }
  equal((await outcome.close()).reason, "closed");
}

/** dora's key in tweetnacl's shape. */
function doraNacl(): NaclKeyPair {
  const publicKey = Uint8Array.fromHex(cryptosignKeyPair(DORA_SEED).publicKey);
  const secretKey = new Uint8Array(64);
  secretKey.set(Uint8Array.fromHex(DORA_SEED));
  secretKey.set(publicKey, 32);
  return { secretKey, publicKey };
}

/** An `onchallenge` that answers `method` only. */
function only(method: string, answer: (extra: Dict) => string): OnChallenge {
  return (_session, asked, extra) => {
    if (asked !== method) throw new Error(`unexpected CHALLENGE for ${asked}`);
    return answer(extra);
  };
}

for (const serializer of SERIALIZERS) {
  scenario(serializer, "auth_ticket", async (join) => {
    const outcome = await join({
      authid: "alice",
      authmethods: ["ticket"],
      onchallenge: only("ticket", () => C.aliceTicket),
    });
    await welcomed(outcome, {
      authid: "alice",
      authrole: "user",
      authmethod: "ticket",
      authprovider: "static",
    });
  });

  scenario(serializer, "auth_wampcra", async (join, ab) => {
    const outcome = await join({
      authid: "bob",
      authmethods: ["wampcra"],
      onchallenge: only("wampcra", (extra) => {
        equal(extra.salt, undefined);
        return ab.auth_cra.sign(C.bobSecret, extra.challenge as string);
      }),
    });
    await welcomed(outcome, { authid: "bob", authrole: "crauser", authmethod: "wampcra" });
  });

  scenario(serializer, "auth_wampcra_salted", async (join, ab) => {
    const outcome = await join({
      authid: "carl",
      authmethods: ["wampcra"],
      onchallenge: only("wampcra", (extra) => {
        equal(extra.salt, CARL_SALT.salt);
        const key = ab.auth_cra.derive_key(
          C.carlPassword,
          extra.salt as string,
          extra.iterations as number,
          extra.keylen as number,
        );
        return ab.auth_cra.sign(key, extra.challenge as string);
      }),
    });
    await welcomed(outcome, { authid: "carl", authrole: "salted", authmethod: "wampcra" });
  });

  scenario(serializer, "auth_cryptosign", async (join, ab) => {
    const pkey = doraNacl();
    equal(ab.auth_cryptosign.public_key(pkey), DORA_PUBKEY);
    const outcome = await join({
      authmethods: ["cryptosign"],
      authextra: { pubkey: ab.auth_cryptosign.public_key(pkey), channel_binding: null },
      onchallenge: only("cryptosign", (extra) => ab.auth_cryptosign.sign_challenge(pkey, extra)),
    });
    await welcomed(outcome, { authid: "dora", authrole: "device", authmethod: "cryptosign" });
  });

  scenario(serializer, "auth_wampcra_wrong_secret", async (join, ab) => {
    const outcome = await join({
      authid: "bob",
      authmethods: ["wampcra"],
      onchallenge: only("wampcra", (extra) => ab.auth_cra.sign(C.wrong, extra.challenge as string)),
    });
    ok(!outcome.joined, "Autobahn joined with a wrong secret");
    equal(outcome.close.details.reason, "wamp.error.authentication_failed");
    equal(outcome.close.details.message, "authentication failed");
  });
}
