/**
 * Tests for `wamp/auth/`: WAMP-CRA, WAMP-Cryptosign and WAMP-SCRAM.
 *
 * The vectors in `../shared/wamp-vectors/` (`cryptosign-ed25519.json` from
 * the spec, `generated-auth-transport.json` computed with Python) need
 * `--allow-read`; without it, or without the files, those tests are
 * registered as ignored with the reason in the name.
 *
 * @module
 */

import { deepEqual, equal, match, notEqual, ok, rejects, throws } from "node:assert/strict";
import {
  craChallenge,
  deriveKey,
  signChallenge as craSign,
  verifyCra,
} from "../../wamp/auth/wampcra.ts";
import {
  cryptosignKeyPair,
  generateChallenge,
  signChallenge,
  verifyCryptosign,
} from "../../wamp/auth/cryptosign.ts";
import {
  authMessage,
  deriveCredentials,
  generateNonce,
  saltedPassword,
  type ScramKdfParams,
  serverSignature,
  verifyClientProof,
} from "../../wamp/auth/scram.ts";
import { checkVerifier } from "../../wamp/auth/scram_client.ts";
import { scramAnswer } from "../../client/auth/scram.ts";
import { saslprep } from "../../wamp/auth/saslprep.ts";
import { missing } from "../_helpers/missing.ts";

const CHALLENGE = JSON.stringify({
  authid: "peter",
  authrole: "user",
  authmethod: "wampcra",
  authprovider: "userdb",
  nonce: "LHRTC9zeOIrt_9U3",
  timestamp: "2014-06-22T16:36:25.448Z",
  session: 3251278072152162,
});

Deno.test("deriveKey() matches the Autobahn/Crossbar cross-check", () => {
  equal(deriveKey("secret1", "salt123", 100, 16), "prq7+YkJ1/KlW1X0YczMHw==");
});

Deno.test("deriveKey() defaults to 1000 iterations and 32 bytes", () => {
  equal(deriveKey("secret1", "salt123"), deriveKey("secret1", "salt123", 1000, 32));
  equal(Uint8Array.fromBase64(deriveKey("secret1", "salt123")).length, 32);
});

Deno.test("deriveKey() rejects iterations and keylen that are not positive integers", () => {
  throws(() => deriveKey("secret1", "salt123", 0), RangeError);
  throws(() => deriveKey("secret1", "salt123", 100, 1.5), RangeError);
});

Deno.test("craChallenge() writes the spec's fields in order", () => {
  const fields = JSON.parse(CHALLENGE);
  equal(craChallenge(fields), CHALLENGE);
});

Deno.test("verifyCra() accepts signChallenge() and rejects a wrong key or a tampered text", () => {
  const key = deriveKey("secret1", "salt123", 100, 16);
  const signature = craSign(key, CHALLENGE);
  ok(verifyCra(key, CHALLENGE, signature));
  equal(verifyCra("secret1", CHALLENGE, signature), false);
  equal(verifyCra(key, CHALLENGE.replace("peter", "petra"), signature), false);
  equal(verifyCra(key, CHALLENGE, signature.slice(0, -2) + "A="), false);
  equal(verifyCra(key, CHALLENGE, ""), false);
});

const SEED = "4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510";
const CHANNEL = "62e935ae755f3d48f80d4d59f6121358c435722a67e859cc0caa8b539027f2ff";

Deno.test("cryptosignKeyPair() takes the seed as hex or bytes, or draws one", () => {
  const keys = cryptosignKeyPair(SEED);
  deepEqual(cryptosignKeyPair(Uint8Array.fromHex(SEED)), keys);
  equal(keys.seed, SEED);
  match(keys.publicKey, /^[0-9a-f]{64}$/);
  notEqual(cryptosignKeyPair().seed, cryptosignKeyPair().seed);
  throws(() => cryptosignKeyPair(SEED.slice(2)), RangeError);
  throws(() => cryptosignKeyPair(new Uint8Array(31)), RangeError);
});

Deno.test("signChallenge() output is accepted by verifyCryptosign(), with and without channel", () => {
  const keys = cryptosignKeyPair();
  const challenge = generateChallenge();
  match(challenge, /^[0-9a-f]{64}$/);
  notEqual(generateChallenge(), challenge);
  const unbound = signChallenge(keys, challenge);
  equal(unbound.length, 192);
  equal(unbound.slice(128), challenge);
  ok(verifyCryptosign(keys.publicKey, challenge, unbound));
  const bound = signChallenge(keys.seed, challenge, Uint8Array.fromHex(CHANNEL));
  notEqual(bound.slice(128), challenge);
  ok(verifyCryptosign(keys.publicKey, challenge, bound, CHANNEL));
  ok(verifyCryptosign(keys.publicKey.toUpperCase(), challenge, bound.toUpperCase(), CHANNEL));
  throws(() => signChallenge(keys, challenge.slice(1)), RangeError);
  throws(() => signChallenge(keys, challenge, "00"), RangeError);
});

Deno.test("verifyCryptosign() rejects tampering, a wrong key, a wrong channel and bad hex", () => {
  const keys = cryptosignKeyPair(SEED);
  const challenge = generateChallenge();
  const bound = signChallenge(keys, challenge, CHANNEL);
  const otherChannel = CHANNEL.replace(/^62/, "63");
  equal(verifyCryptosign(keys.publicKey, challenge, bound, otherChannel), false);
  equal(verifyCryptosign(keys.publicKey, challenge, bound), false);
  equal(verifyCryptosign(keys.publicKey, challenge, bound, "62e9"), false);
  const unbound = signChallenge(keys, challenge);
  equal(verifyCryptosign(keys.publicKey, challenge, unbound, CHANNEL), false);
  equal(verifyCryptosign(cryptosignKeyPair().publicKey, challenge, unbound), false);
  equal(verifyCryptosign(keys.publicKey, generateChallenge(), unbound), false);
  const flipped = (unbound[0] === "0" ? "1" : "0") + unbound.slice(1);
  equal(verifyCryptosign(keys.publicKey, challenge, flipped), false);
  // A valid signature over a different message, re-labelled with this challenge.
  const other = signChallenge(keys, generateChallenge());
  equal(verifyCryptosign(keys.publicKey, challenge, other.slice(0, 128) + challenge), false);
  // A valid signature over this challenge, but carrying another message.
  equal(
    verifyCryptosign(keys.publicKey, challenge, unbound.slice(0, 128) + "00".repeat(32)),
    false,
  );
  equal(verifyCryptosign(keys.publicKey, challenge, unbound.slice(0, 128)), false);
  equal(verifyCryptosign("zz" + keys.publicKey.slice(2), challenge, unbound), false);
  equal(verifyCryptosign("ff".repeat(32), challenge, unbound), false);
});

const PBKDF2: ScramKdfParams = { kdf: "pbkdf2", salt: "aBc+fx0NAVA=", iterations: 100 };
const ARGON2: ScramKdfParams = {
  kdf: "argon2id13",
  salt: "aBc+fx0NAVA=",
  iterations: 1,
  memory: 64,
};

for (const params of [PBKDF2, ARGON2]) {
  Deno.test(`scramAnswer() proof is accepted by verifyClientProof() (${params.kdf})`, async () => {
    const user = deriveCredentials("pencil", params);
    const hello = { authid: "user", nonce: generateNonce() };
    const extra = { ...params, nonce: hello.nonce + generateNonce() };
    const answer = await scramAnswer("pencil", hello, extra);
    deepEqual(answer.extra, { nonce: extra.nonce, channel_binding: null });
    const message = authMessage({ ...params, authid: "user", clientNonce: hello.nonce, ...extra });
    ok(verifyClientProof(user.storedKey, message, answer.signature));
    equal(answer.verifier, serverSignature(user.serverKey, message));
    const wrong = await scramAnswer("pencil2", hello, extra);
    equal(verifyClientProof(user.storedKey, message, wrong.signature), false);
    equal(checkVerifier(wrong.verifier, serverSignature(user.serverKey, message)), false);
  });
}

Deno.test("checkVerifier() accepts the verifier with or without v=", () => {
  const verifier = "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
  ok(checkVerifier(verifier, verifier));
  ok(checkVerifier(verifier, `v=${verifier}`));
  equal(checkVerifier(verifier, `v=v=${verifier}`), false);
  equal(checkVerifier(verifier, verifier.replace("6", "7")), false);
  equal(checkVerifier(verifier, undefined), false);
});

Deno.test("scramAnswer() binds the channel and refuses a nonce it did not start", async () => {
  const cbindData = "dGxzLXVuaXF1ZS1iaW5kaW5nLWRhdGE=";
  const hello = { authid: "user", nonce: "egVDf3DMJh0=", channelBinding: "tls-unique", cbindData };
  const extra = { ...PBKDF2, nonce: "egVDf3DMJh0=SBmkFIh7sSo=" };
  const answer = await scramAnswer("pencil", hello, extra);
  deepEqual(answer.extra, {
    nonce: extra.nonce,
    channel_binding: "tls-unique",
    cbind_data: cbindData,
  });
  const message = authMessage({ ...hello, clientNonce: hello.nonce, ...extra });
  const binding = Uint8Array.fromBase64(message.split(",c=")[1]!.split(",")[0]!);
  equal(new TextDecoder().decode(binding), "p=tls-unique,,tls-unique-binding-data");
  ok(verifyClientProof(deriveCredentials("pencil", PBKDF2).storedKey, message, answer.signature));
  await rejects(
    scramAnswer("pencil", hello, { ...extra, nonce: "SBmkFIh7sSo=egVDf3DMJh0=" }),
    TypeError,
  );
  await rejects(scramAnswer("pencil", hello, { ...extra, nonce: hello.nonce }), TypeError);
  await rejects(scramAnswer("pencil", hello, { ...extra, kdf: "scrypt" }), RangeError);
  await rejects(scramAnswer("pencil", hello, { ...extra, kdf: "argon2id13" }), RangeError);
});

Deno.test("authMessage() escapes , and = in the authid", () => {
  const message = authMessage({ ...PBKDF2, authid: "a,b=c", clientNonce: "x", nonce: "xy" });
  equal(message, "n=a=2Cb=3Dc,r=x,r=xy,s=aBc+fx0NAVA=,i=100,c=biws,r=xy");
});

Deno.test("verifyClientProof() rejects proofs and keys that are not 32 bytes of base64", async () => {
  const { storedKey } = deriveCredentials("pencil", PBKDF2);
  const hello = { authid: "user", nonce: "egVDf3DMJh0=" };
  const extra = { ...PBKDF2, nonce: "egVDf3DMJh0=SBmkFIh7sSo=" };
  const message = authMessage({ ...hello, clientNonce: hello.nonce, ...extra });
  const proof = (await scramAnswer("pencil", hello, extra)).signature;
  ok(verifyClientProof(storedKey, message, proof));
  equal(verifyClientProof(storedKey, message, proof.slice(0, -1)), false);
  equal(verifyClientProof(storedKey, message, "AAAA"), false);
  equal(verifyClientProof("AAAA", message, proof), false);
});

Deno.test("saltedPassword() rejects a salt that is not base64 and an unknown kdf", () => {
  throws(() => saltedPassword("pencil", { ...PBKDF2, salt: "not base64!" }), RangeError);
  throws(() => saltedPassword("pencil", { ...PBKDF2, iterations: 0 }), RangeError);
  throws(() => saltedPassword("pencil", { ...PBKDF2, kdf: "md5" as "pbkdf2" }), RangeError);
});

Deno.test("saslprep() follows the RFC 4013 examples and normalizes the SCRAM password", () => {
  equal(saslprep("I\u00ADX"), "IX");
  equal(saslprep("user"), "user");
  equal(saslprep("USER"), "USER");
  equal(saslprep("\u00AA"), "a");
  equal(saslprep("\u2168"), "IX");
  equal(saslprep("a\u00A0b"), "a b");
  throws(() => saslprep("\u0007"), RangeError);
  throws(() => saslprep("\uE000"), RangeError);
  deepEqual(saltedPassword("I\u00ADX", PBKDF2), saltedPassword("IX", PBKDF2));
});

// ---------------------------------------------------------------------------
// Vectors from ../shared/wamp-vectors

const VECTORS = new URL("../../../shared/wamp-vectors/", import.meta.url);
const readable = Deno.permissions.querySync({ name: "read", path: VECTORS }).state === "granted";

function vectorTest(file: string, run: (data: unknown, t: Deno.TestContext) => Promise<void>) {
  const url = new URL(file, VECTORS);
  let reason = readable ? "" : "run with --allow-read to read ../shared/wamp-vectors";
  if (readable) {
    try {
      Deno.statSync(url);
    } catch {
      reason = `${url.pathname} does not exist`;
    }
  }
  if (reason) {
    missing(`wamp-vectors ${file}`, reason);
    return;
  }
  Deno.test(`wamp-vectors ${file}`, (t) => run(JSON.parse(Deno.readTextFileSync(url)), t));
}

interface CryptosignVector {
  channel_id: string | null;
  private_key: string;
  public_key: string;
  challenge: string;
  signature: string;
}

vectorTest("cryptosign-ed25519.json", async (data, t) => {
  const vectors = data as CryptosignVector[];
  equal(vectors.length, 6);
  for (const [i, v] of vectors.entries()) {
    await t.step(`#${i} channel_id=${v.channel_id !== null}`, () => {
      const channel = v.channel_id ?? undefined;
      equal(cryptosignKeyPair(v.private_key).publicKey, v.public_key);
      equal(signChallenge(v.private_key, v.challenge, channel), v.signature);
      ok(verifyCryptosign(v.public_key, v.challenge, v.signature, channel));
    });
  }
});

interface GeneratedAuth {
  wampcra: Record<string, string | number>[];
  scram: Record<string, string | number | null>[];
}

vectorTest("generated-auth-transport.json", async (data, t) => {
  const { wampcra, scram } = data as GeneratedAuth;
  equal(wampcra.length, 3);
  for (const [i, v] of wampcra.entries()) {
    await t.step(`wampcra #${i} ${v.salt === undefined ? "unsalted" : "salted"}`, () => {
      const challenge = String(v.challenge);
      const key = v.salt === undefined
        ? String(v.secret)
        : deriveKey(String(v.password), String(v.salt), Number(v.iterations), Number(v.keylen));
      if (v.salt !== undefined) equal(key, v.derived_key);
      equal(craChallenge(JSON.parse(challenge)), challenge);
      equal(craSign(key, challenge), v.signature);
      ok(verifyCra(key, challenge, String(v.signature)));
    });
  }
  equal(scram.length, 3);
  for (const [i, v] of scram.entries()) {
    await t.step(`scram #${i} ${v.kdf}`, async () => {
      const params = {
        ...v,
        salt: String(v.salt),
        iterations: Number(v.iterations),
      } as ScramKdfParams;
      const salted = saltedPassword(String(v.password), params);
      equal(salted.toHex(), v.SaltedPassword_hex);
      deepEqual(deriveCredentials(String(v.password), params), {
        storedKey: v.StoredKey_b64,
        serverKey: v.ServerKey_b64,
      });
      const fields = {
        ...params,
        authid: String(v.authid),
        clientNonce: String(v.client_nonce),
        nonce: String(v.nonce),
      };
      const message = authMessage(fields);
      equal(message, v.AuthMessage);
      const proof = v["ClientProof (AUTHENTICATE.Signature)"];
      const verifier = v["ServerSignature (WELCOME.Details.authextra.verifier)"];
      ok(verifyClientProof(String(v.StoredKey_b64), message, String(proof)));
      equal(serverSignature(String(v.ServerKey_b64), message), verifier);
      const answer = await scramAnswer(String(v.password), {
        authid: fields.authid,
        nonce: fields.clientNonce,
      }, v);
      equal(answer.signature, proof);
      equal(answer.verifier, verifier);
    });
  }
});
