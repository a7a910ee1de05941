/**
 * The connection and login flags every client command takes
 * ({@linkcode CONNECT_OPTIONS}), and the `connect()` options they make.
 * Every secret has a file form (`--ticket-file`, `cli/secret_file.ts`)
 * that keeps it out of the process list.
 *
 * @module
 */

import { MAX_TIMER } from "../../client/limits.ts";
import {
  connect,
  type ConnectOptions,
  type SerializerName,
  type Session,
} from "../../client/mod.ts";
import { secretFlag } from "../secret_file.ts";
import { DEFAULT_URL, integerFlag, UsageError } from "./common.ts";

/** Flags every client command takes: where to connect and how to log in. */
export const CONNECT_OPTIONS = {
  url: { type: "string" },
  realm: { type: "string" },
  serializer: { type: "string" },
  authid: { type: "string" },
  authmethod: { type: "string", multiple: true },
  ticket: { type: "string" },
  "ticket-file": { type: "string" },
  secret: { type: "string" },
  "secret-file": { type: "string" },
  "private-key": { type: "string" },
  "private-key-file": { type: "string" },
  password: { type: "string" },
  "password-file": { type: "string" },
  "channel-binding": { type: "string" },
  ca: { type: "string" },
  cert: { type: "string" },
  key: { type: "string" },
  timeout: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** The usage lines of {@linkcode CONNECT_OPTIONS}, for each command's `--help`. */
export const CONNECT_USAGE = `Connection:
  --url <url>            ws://, wss:// (WebSocket), tcp://, tcps://, unix:///path
                         (RawSocket), http://, https:// (long-poll)
                         (default ${DEFAULT_URL})
  --realm <name>         The realm to join (default realm1)
  --serializer <name>    json, msgpack or cbor (default json)
  --timeout <ms>         How long to wait for the router's WELCOME (default 10000)
  --ca <file>            PEM CA certificate to trust for wss://, tcps://, https://
  --cert <file>, --key <file>
                         PEM client certificate and key (TLS client-certificate login)

Login (give the credentials of the methods to offer; none: anonymous):
  --authid <id>          The authid to ask for
  --authmethod <name>    Offer this method (repeatable; default: those with credentials)
  --ticket <ticket>      Ticket
  --secret <secret>      WAMP-CRA secret, or the password of a salted WAMP-CRA user
  --private-key <key>    WAMP-Cryptosign: 64 hex characters, or a file holding them
                         (as "cloverleaf keygen -o FILE" writes)
  --password <password>  WAMP-SCRAM password
  --ticket-file, --secret-file, --private-key-file, --password-file <file>
                         The same, read from a file (one trailing newline dropped;
                         /dev/stdin works): the process list shows every
                         argument to every user, a file of mode 0600 is not
  --channel-binding tls-unique
                         Bind a cryptosign or SCRAM login to the TLS connection`;

/** The values of {@linkcode CONNECT_OPTIONS} as `parseArgs` returns them. */
export interface ConnectFlags {
  url?: string | undefined;
  realm?: string | undefined;
  serializer?: string | undefined;
  authid?: string | undefined;
  authmethod?: string[] | undefined;
  ticket?: string | undefined;
  "ticket-file"?: string | undefined;
  secret?: string | undefined;
  "secret-file"?: string | undefined;
  "private-key"?: string | undefined;
  "private-key-file"?: string | undefined;
  password?: string | undefined;
  "password-file"?: string | undefined;
  "channel-binding"?: string | undefined;
  ca?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
  timeout?: string | undefined;
}

const SERIALIZERS: readonly SerializerName[] = ["json", "msgpack", "cbor"];

/** A secret flag or its file form (`--ticket`, `--ticket-file`), a bad file being a usage error. */
async function secret(
  flags: ConnectFlags,
  name: "ticket" | "secret" | "password",
): Promise<string | undefined> {
  try {
    return await secretFlag(name, flags[name], flags[`${name}-file`]);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/**
 * Reads a cryptosign private key: 64 hex characters, or the path of a
 * file holding them.
 *
 * @param value The `--private-key` value, or the `--private-key-file` path.
 * @param file Whether it is `--private-key-file`'s: a path, never a key.
 * @returns The seed, hex.
 * @throws {UsageError} When it is neither.
 */
export async function readPrivateKey(value: string, file = false): Promise<string> {
  if (!file && /^[0-9a-fA-F]{64}$/.test(value)) return value;
  let text: string;
  try {
    text = await Deno.readTextFile(value);
  } catch (error) {
    // A mistyped key is not repeated on stderr (nor in the OS error, which names the "path").
    if (!file && /^(0x)?[0-9a-fA-F\s]{32,}$/.test(value)) {
      throw new UsageError(
        "Cannot read --private-key: not 64 hex characters (a key is not repeated here)",
      );
    }
    throw new UsageError(
      `Cannot read --private-key${file ? "-file" : ""} "${value}": ${
        file ? "" : "expected 64 hex characters or a file holding them "
      }(${error instanceof Error ? error.message : error})`,
    );
  }
  const seed = text.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(seed)) {
    throw new UsageError(
      `Cannot read --private-key${
        file ? "-file" : ""
      } "${value}": the file does not hold 64 hex characters`,
    );
  }
  return seed;
}

async function readPem(flag: string, file: string): Promise<string> {
  try {
    return await Deno.readTextFile(file);
  } catch (error) {
    throw new UsageError(
      `Cannot read --${flag} "${file}": ${error instanceof Error ? error.message : error}`,
    );
  }
}

/**
 * Builds the `connect()` options from the flags.
 *
 * @param flags The connection and login flags.
 * @returns The URL and the options.
 * @throws {UsageError} For a bad serializer, key or secret file, channel binding or timeout.
 */
export async function connectOptions(
  flags: ConnectFlags,
): Promise<{ url: string; options: ConnectOptions }> {
  const serializer = flags.serializer ?? "json";
  if (!(SERIALIZERS as readonly string[]).includes(serializer)) {
    throw new UsageError(`Invalid --serializer "${serializer}": expected json, msgpack or cbor`);
  }
  const binding = flags["channel-binding"];
  if (binding !== undefined && binding !== "tls-unique") {
    throw new UsageError(`Invalid --channel-binding "${binding}": expected tls-unique`);
  }
  if ((flags.cert === undefined) !== (flags.key === undefined)) {
    throw new UsageError("Invalid --cert/--key: give both or neither");
  }
  const options: ConnectOptions = {
    realm: flags.realm ?? "realm1",
    serializers: [serializer as SerializerName],
    timeout: integerFlag("timeout", flags.timeout, 10_000, 1, MAX_TIMER),
  };
  if (flags.authid !== undefined) options.authid = flags.authid;
  if (flags.authmethod !== undefined) options.authmethods = flags.authmethod;
  const ticket = await secret(flags, "ticket");
  if (ticket !== undefined) options.ticket = ticket;
  const craSecret = await secret(flags, "secret");
  if (craSecret !== undefined) options.secret = craSecret;
  const password = await secret(flags, "password");
  if (password !== undefined) options.password = password;
  const keyFile = flags["private-key-file"];
  if (flags["private-key"] !== undefined && keyFile !== undefined) {
    throw new UsageError("Give --private-key or --private-key-file, not both");
  }
  const key = keyFile ?? flags["private-key"];
  if (key !== undefined) {
    options.cryptosign = { seed: await readPrivateKey(key, keyFile !== undefined) };
  }
  if (binding !== undefined) options.channelBinding = binding;
  if (flags.ca !== undefined || flags.cert !== undefined) {
    options.tls = {
      ...(flags.ca === undefined ? {} : { caCerts: [await readPem("ca", flags.ca)] }),
      ...(flags.cert === undefined ? {} : { cert: await readPem("cert", flags.cert) }),
      ...(flags.key === undefined ? {} : { key: await readPem("key", flags.key) }),
    };
  }
  return { url: flags.url ?? DEFAULT_URL, options };
}

/**
 * Connects and joins as the flags say.
 *
 * @param flags The connection and login flags.
 * @returns The joined session.
 * @throws {UsageError} For bad flags.
 * @throws {TransportError} When the router cannot be reached.
 * @throws {SessionClosedError} When the router refuses the session.
 */
export async function join(flags: ConnectFlags): Promise<Session> {
  const { url, options } = await connectOptions(flags);
  return await connect(url, options);
}
