/**
 * `cloverleaf hash-secret`: the stored form of a password for the router
 * config, so the config never holds the password itself. For WAMP-CRA the
 * salted user of `auth.wampcra.users` (`secret` is the PBKDF2 key derived
 * from the password, which the client then logs in with as `--secret`); for
 * WAMP-SCRAM the user of `auth.scram.users` (`kdf`, `salt`, `iterations`,
 * `memory`, `storedKey`, `serverKey`; the client logs in with the password
 * as `--password`). Printed as JSON, ready to paste.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { kdfOverLimit } from "../wamp/auth/kdf_limits.ts";
import { decodeBase64 } from "../wamp/auth/util.ts";
import { checkKdfParams } from "../wamp/auth/wampcra.ts";
import {
  type ScramCredentials,
  scramDeriveCredentials,
  type ScramKdfParams,
  wampcraDeriveKey,
} from "../wamp/mod.ts";
import { toBase64 } from "../wamp/bytes.ts";
import { secretFlag } from "./secret_file.ts";
import { integerFlag, reportError, UsageError } from "./client/common.ts";

const USAGE = `Usage: cloverleaf hash-secret wampcra [options]
       cloverleaf hash-secret scram [options]

Derives what the router config stores for a password and prints it as JSON,
ready to paste into the realm's "auth": a user of "wampcra": {"users": ...}
(salted WAMP-CRA: the client logs in with the password as --secret) or of
"scram": {"users": ...} (WAMP-SCRAM: the client logs in with --password).
The password comes from --password or --password-file, else from stdin
(asked for, not echoed, on a terminal; else its first line).

Options:
  --password <password>  The password (visible to other users in the process list:
                         prefer stdin or --password-file)
  --password-file <file> Read the password from this file (one trailing newline
                         dropped)
  --role <role>          The user's role (default "user")
  --authid <id>          Print {"<id>": {...}}, a whole "users" table, instead of the user
  --salt <salt>          The salt (default: 16 random bytes, base64; for scram it
                         must be base64)
  --iterations <n>       wampcra: PBKDF2 iterations (default 1000); scram: PBKDF2
                         iterations (default 4096) or Argon2id passes (default 4)
  --keylen <n>           wampcra: derived key length in bytes (default 32)
  --kdf <kdf>            scram: argon2id13 (default) or pbkdf2
  --memory <KiB>         scram with argon2id13: memory in KiB (default 65536)
  -h, --help             Print this help and exit`;

/** Reads a line from a terminal without echoing it. */
async function promptHidden(prompt: string): Promise<string> {
  const encoder = new TextEncoder();
  await Deno.stderr.write(encoder.encode(prompt));
  Deno.stdin.setRaw(true);
  const bytes: number[] = [];
  try {
    const buf = new Uint8Array(1);
    while (true) {
      const n = await Deno.stdin.read(buf);
      if (n === null) break;
      const b = buf[0]!;
      if (b === 3) throw new UsageError("Interrupted"); // Ctrl-C
      if (b === 13 || b === 10 || b === 4) break; // Enter, Ctrl-D
      if (b === 127 || b === 8) bytes.pop();
      else bytes.push(b);
    }
  } finally {
    Deno.stdin.setRaw(false);
    await Deno.stderr.write(encoder.encode("\n"));
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/**
 * The password: from the flag, else asked for twice on a terminal, else
 * the first line of stdin.
 */
async function readPassword(flag: string | undefined): Promise<string> {
  let password = flag;
  if (password === undefined && Deno.stdin.isTerminal()) {
    password = await promptHidden("Password: ");
    if (await promptHidden("Repeat password: ") !== password) {
      throw new UsageError("The passwords differ");
    }
  } else if (password === undefined) {
    const text = await new Response(Deno.stdin.readable).text();
    password = text.split(/\r?\n/)[0] ?? "";
  }
  if (password === "") {
    throw new UsageError("Missing password: give --password, --password-file or a line on stdin");
  }
  return password;
}

/**
 * Runs `cloverleaf hash-secret`.
 *
 * @param args The arguments after `hash-secret`.
 * @returns The exit code: 0, or 2 for bad usage.
 */
export async function hashSecret(args: string[]): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: {
        password: { type: "string" },
        "password-file": { type: "string" },
        role: { type: "string" },
        authid: { type: "string" },
        salt: { type: "string" },
        iterations: { type: "string" },
        keylen: { type: "string" },
        kdf: { type: "string" },
        memory: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: true,
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    const [method, extra] = positionals;
    if (method !== "wampcra" && method !== "scram") {
      throw new UsageError(
        `${
          method === undefined ? "Missing method" : `Unknown method "${method}"`
        }: expected wampcra or scram`,
      );
    }
    if (extra !== undefined) throw new UsageError(`Unexpected argument "${extra}"`);
    let given: string | undefined;
    try {
      given = await secretFlag("password", values.password, values["password-file"]);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const role = values.role ?? "user";
    const salt = values.salt ?? toBase64(crypto.getRandomValues(new Uint8Array(16)));
    let user: Record<string, unknown>;
    if (method === "wampcra") {
      for (const flag of ["kdf", "memory"] as const) {
        if (values[flag] !== undefined) throw new UsageError(`--${flag} is for scram, not wampcra`);
      }
      const iterations = integerFlag("iterations", values.iterations, 1000);
      const keylen = integerFlag("keylen", values.keylen, 32);
      try {
        checkKdfParams(iterations, keylen);
      } catch (error) {
        throw new UsageError(`${(error as RangeError).message}: a client would refuse it`);
      }
      const password = await readPassword(given);
      const secret = wampcraDeriveKey(password, salt, iterations, keylen);
      user = { role, secret, salt, iterations, keylen };
    } else {
      if (values.keylen !== undefined) throw new UsageError("--keylen is for wampcra, not scram");
      const kdf = values.kdf ?? "argon2id13";
      if (kdf !== "argon2id13" && kdf !== "pbkdf2") {
        throw new UsageError(`Invalid --kdf "${kdf}": expected argon2id13 or pbkdf2`);
      }
      if (kdf === "pbkdf2" && values.memory !== undefined) {
        throw new UsageError("--memory is for argon2id13, not pbkdf2");
      }
      if (!decodeBase64(salt)?.length) {
        throw new UsageError(`Invalid --salt "${salt}": scram salts are base64`);
      }
      const params: ScramKdfParams = {
        kdf,
        salt,
        iterations: integerFlag("iterations", values.iterations, kdf === "pbkdf2" ? 4096 : 4),
        ...(kdf === "argon2id13" ? { memory: integerFlag("memory", values.memory, 65536, 8) } : {}),
      };
      const over = kdfOverLimit(kdf, params.iterations, params.memory);
      if (over !== undefined) {
        throw new UsageError(`Cannot hash: ${over}: a client would refuse it`);
      }
      const password = await readPassword(given);
      let credentials: ScramCredentials;
      try {
        credentials = scramDeriveCredentials(password, params);
      } catch (error) {
        throw new UsageError(error instanceof Error ? error.message : String(error));
      }
      user = { role, ...params, ...credentials };
    }
    const out = values.authid === undefined ? user : { [values.authid]: user };
    console.log(JSON.stringify(out, null, 2));
    return 0;
  } catch (error) {
    return reportError("hash-secret", error);
  }
}
