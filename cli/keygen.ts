/**
 * `cloverleaf keygen`: a fresh Ed25519 key pair for WAMP-Cryptosign. The
 * private key is the 32-byte seed as 64 hex characters, the form the
 * client's `--private-key` and `connect({ cryptosign: { seed } })` take;
 * the public key is 64 hex characters, the form a cryptosign principal's
 * `authorizedKeys` in the router config takes.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { cryptosignKeyPair } from "../wamp/mod.ts";
import { reportError, UsageError } from "./client/common.ts";

const USAGE = `Usage: cloverleaf keygen [-o FILE]

Makes an Ed25519 key pair for WAMP-Cryptosign.

Without -o, prints both keys:
  Private key: <64 hex characters>   (keep it secret; for --private-key)
  Public key: <64 hex characters>    (for the router config's "authorizedKeys")

Options:
  -o, --output <file>    Write the private key to FILE (created with mode
                         0600; an existing file is not overwritten) and the
                         public key to FILE.pub, and print only the public key
  -h, --help             Print this help and exit`;

/**
 * Writes `text` to a new file, never over an existing one.
 *
 * @param path The file.
 * @param text Its content.
 * @param mode Its permission bits.
 */
async function writeNew(path: string, text: string, mode: number): Promise<void> {
  try {
    await Deno.writeTextFile(path, text, { createNew: true, mode });
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) {
      throw new UsageError(`Cannot write "${path}": the file exists (remove it first)`);
    }
    throw error;
  }
}

/**
 * Runs `cloverleaf keygen`.
 *
 * @param args The arguments after `keygen`.
 * @returns The exit code: 0, 1 when a file cannot be written, 2 for bad usage.
 */
export async function keygen(args: string[]): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: {
        output: { type: "string", short: "o" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: true,
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`Unexpected argument "${positionals[0]}"`);
    const { seed, publicKey } = cryptosignKeyPair();
    const file = values.output;
    if (file === undefined) {
      console.log(`Private key: ${seed}\nPublic key: ${publicKey}`);
      return 0;
    }
    // The public half first: when it cannot be written, no private key is left without it.
    await writeNew(`${file}.pub`, `${publicKey}\n`, 0o644);
    try {
      await writeNew(file, `${seed}\n`, 0o600);
    } catch (error) {
      await Deno.remove(`${file}.pub`).catch(() => {});
      throw error;
    }
    // createNew applies the umask to the mode: make sure it is 0600.
    if (Deno.build.os !== "windows") await Deno.chmod(file, 0o600);
    console.log(`Public key: ${publicKey}`);
    return 0;
  } catch (error) {
    return reportError("keygen", error);
  }
}
