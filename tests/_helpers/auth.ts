/**
 * Fixtures for the authentication tests: credentials, a realm config as
 * JSON text (the way the CLI reads it), a scripted router end for client
 * tests, and a raw JSON WebSocket WAMP peer for tests that must misbehave.
 *
 * @module
 */

import type { RealmOptions } from "../../mod.ts";
import { linkedPeers } from "../../transports/mod.ts";
import {
  cryptosignKeyPair,
  type Link,
  scramDeriveCredentials,
  type ScramKdfParams,
  wampcraDeriveKey,
  type WampMessage,
} from "../../wamp/mod.ts";
import { type RawWebSocket, rawWebSocket } from "./raw_websocket.ts";
import { within } from "./router.ts";

/** Every credential the tests use, right or wrong: none may reach a log. */
export const CREDENTIALS = {
  /** alice's ticket. */
  aliceTicket: "alice-ticket-7Hq2RkP",
  /** bob's WAMP-CRA secret (unsalted). */
  bobSecret: "bob-cra-secret-9KdW3",
  /** carl's WAMP-CRA password (salted on the router). */
  carlPassword: "carl-cra-password-3XwQ",
  /** erin's WAMP-SCRAM password (PBKDF2). */
  erinPassword: "erin-scram-password-5Lp",
  /** fred's WAMP-SCRAM password (Argon2id). */
  fredPassword: "fred-argon-password-8Vn",
  /** gina's WAMP-SCRAM password (stored keys only in the config). */
  ginaPassword: "gina-stored-password-2Mz",
  /** A wrong credential, sent in the failure cases. */
  wrong: "wrong-credential-Zq1Xy",
} as const;

/** dora's Ed25519 seed (the spec's first Cryptosign test vector). */
export const DORA_SEED = "4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510";
/** dora's public key. */
export const DORA_PUBKEY = cryptosignKeyPair(DORA_SEED).publicKey;
/** A key no principal lists. */
export const STRANGER_SEED = "9c0a48c4f0d7b1e4a6c5d3f2e1b0a9988776655443322110ffeeddccbbaa9988";

/** WAMP-CRA salt and parameters of carl. */
export const CARL_SALT = { salt: "carl-salt-Q7", iterations: 100, keylen: 32 } as const;

/** The KDF parameters of erin (PBKDF2), fred (Argon2id) and gina. */
export const KDF: Record<"erin" | "fred" | "gina", ScramKdfParams> = {
  erin: { kdf: "pbkdf2", salt: "ZXJpbi1zYWx0LTE2Ynl0ZQ==", iterations: 4096 },
  fred: { kdf: "argon2id13", salt: "ZnJlZC1zYWx0LTE2Ynl0ZQ==", iterations: 2, memory: 64 },
  gina: { kdf: "pbkdf2", salt: "Z2luYS1zYWx0LTE2Ynl0ZQ==", iterations: 4096 },
};

/** Every string a log must not contain: the credentials and dora's seed. */
export const SECRET_STRINGS: readonly string[] = [
  ...Object.values(CREDENTIALS),
  DORA_SEED,
  STRANGER_SEED,
  wampcraDeriveKey(CREDENTIALS.carlPassword, CARL_SALT.salt, CARL_SALT.iterations),
];

const gina = scramDeriveCredentials(CREDENTIALS.ginaPassword, KDF.gina);

/**
 * realm1 with every method and static principals, as JSON text: ticket
 * (alice), WAMP-CRA (bob unsalted, carl salted), cryptosign (dora) and
 * WAMP-SCRAM (erin PBKDF2 and fred Argon2id with a password, gina with
 * stored keys).
 */
export const STATIC_REALM_JSON = `{
  "name": "realm1",
  "auth": {
    "ticket": {
      "principals": { "alice": { "ticket": "${CREDENTIALS.aliceTicket}", "role": "user" } }
    },
    "wampcra": {
      "users": {
        "bob": { "secret": "${CREDENTIALS.bobSecret}", "role": "crauser" },
        "carl": {
          "secret": "${
  wampcraDeriveKey(CREDENTIALS.carlPassword, CARL_SALT.salt, CARL_SALT.iterations)
}",
          "salt": "${CARL_SALT.salt}",
          "iterations": ${CARL_SALT.iterations},
          "keylen": ${CARL_SALT.keylen},
          "role": "salted"
        }
      }
    },
    "cryptosign": {
      "principals": { "dora": { "role": "device", "authorizedKeys": ["${DORA_PUBKEY}"] } }
    },
    "scram": {
      "users": {
        "erin": {
          "kdf": "pbkdf2", "salt": "${KDF.erin.salt}", "iterations": 4096,
          "password": "${CREDENTIALS.erinPassword}", "role": "scrammer"
        },
        "fred": {
          "kdf": "argon2id13", "salt": "${KDF.fred.salt}", "iterations": 2, "memory": 64,
          "password": "${CREDENTIALS.fredPassword}", "role": "argon"
        },
        "gina": {
          "kdf": "pbkdf2", "salt": "${KDF.gina.salt}", "iterations": 4096,
          "storedKey": "${gina.storedKey}", "serverKey": "${gina.serverKey}", "role": "stored"
        }
      }
    }
  }
}`;

/** Fails naming the first log line that holds a credential. */
export function assertNoSecrets(logs: readonly string[]): void {
  for (const line of logs) {
    for (const secret of SECRET_STRINGS) {
      if (line.includes(secret)) throw new Error(`Router log reveals a credential: ${line}`);
    }
  }
}

/** A message queue: what a scripted or raw peer received. */
class Inbox<T> {
  #items: T[] = [];
  #waiters: ((item: T) => void)[] = [];

  push(item: T): void {
    const waiter = this.#waiters.shift();
    if (waiter === undefined) this.#items.push(item);
    else waiter(item);
  }

  next(what: string): Promise<T> {
    const item = this.#items.shift();
    if (item !== undefined) return Promise.resolve(item);
    return within(new Promise<T>((resolve) => this.#waiters.push(resolve)), 5000, what);
  }
}

/** The router end of an in-process link, driven by the test. */
export interface ScriptedRouter {
  /** The client end, for `Session.join()`. */
  readonly client: Link;
  /** The next message the client sent. */
  next(what: string): Promise<WampMessage>;
  /** Sends a message to the client. */
  send(msg: WampMessage): void;
  /** Whether the client closed the link. */
  readonly closed: boolean;
}

/** Creates a scripted router end and the client end linked to it. */
export function scriptedRouter(): ScriptedRouter {
  const [routerEnd, client] = linkedPeers();
  const inbox = new Inbox<WampMessage>();
  let closed = false;
  routerEnd.bind({
    receive: (msg) => inbox.push(msg),
    fail: () => {},
    closed: () => closed = true,
  });
  return {
    client,
    next: (what) => inbox.next(what),
    send: (msg) => routerEnd.send(msg),
    get closed() {
      return closed;
    },
  };
}

/** A WAMP peer over a raw JSON WebSocket, speaking message arrays. */
export interface RawWamp extends AsyncDisposable {
  /** Sends one message. */
  send(msg: unknown[]): Promise<void>;
  /** The next message, or `undefined` once the router closed the connection. */
  next(what: string): Promise<unknown[] | undefined>;
}

/** Opens a raw `wamp.2.json` WebSocket to `url` (from `localAddress`, when given). */
export async function rawWamp(url: string, localAddress?: string): Promise<RawWamp> {
  const ws: RawWebSocket = await rawWebSocket(url, ["wamp.2.json"], {}, localAddress);
  const decoder = new TextDecoder();
  const read = async (): Promise<unknown[] | undefined> => {
    for (let frames = 0; frames < 100; frames++) {
      let frame: { opcode: number; payload: Uint8Array };
      try {
        frame = await ws.read();
      } catch {
        return undefined;
      }
      if (frame.opcode === 8) return undefined;
      if (frame.opcode === 1) return JSON.parse(decoder.decode(frame.payload)) as unknown[];
    }
    throw new Error("no WAMP message in 100 frames");
  };
  return {
    send: (msg) => ws.send(JSON.stringify(msg)),
    next: (what) => within(read(), 5000, what),
    [Symbol.asyncDispose]: () => ws[Symbol.asyncDispose](),
  };
}

/**
 * A realm `auth` whose one principal, {@linkcode BACKEND}, has the trusted
 * role (anonymous sessions may not: the router refuses such a realm).
 *
 * @param name The realm's name.
 * @returns Its options.
 */
export function trustedRealm(name = "auth"): RealmOptions {
  return { name, auth: { ticket: { principals: { backend: { ticket: "b", role: "trusted" } } } } };
}

/** Join options of the backend principal of {@linkcode trustedRealm}. */
export const BACKEND = { authid: "backend", ticket: "b", timeout: 5000 } as const;

/**
 * Realms where anonymous sessions of `realm1` (role `guest`) are authorized
 * by the procedure `com.example.authorize`, registered in realm `auth`
 * (by {@linkcode BACKEND}, which has the trusted role).
 */
export const PROCEDURE_AUTHORIZER_REALMS: RealmOptions[] = [
  trustedRealm(),
  {
    name: "realm1",
    anonymousRole: "guest",
    roles: [{ name: "guest", authorizer: "com.example.authorize", authorizerRealm: "auth" }],
  },
];
