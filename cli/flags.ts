/**
 * The service's command line: flags, commands, usage text and exit codes.
 *
 * @module
 */

import { parseArgs } from "node:util";
import denoConfig from "../deno.json" with { type: "json" };
import { LOG_LEVELS, type LogLevel } from "../wamp/log.ts";

export { LOG_LEVELS };

/** Exit code for bad flags or a bad config file. */
export const EXIT_USAGE = 2;

/** Prints `--help`. */
export function printUsage(): void {
  console.log(`Cloverleaf ${denoConfig.version}: a WAMP v2 router

Usage: cloverleaf [options]
       cloverleaf check [options]
       cloverleaf call|publish|subscribe|register|meta ... [options]
       cloverleaf keygen|hash-secret ... [options]

Commands:
  (none)                 Start the router and serve until SIGINT or SIGTERM
  check                  Validate the config file and the flags without
                         starting anything: print every error with its path,
                         one per line, and exit 2; or print one line such as
                         "config OK: 2 realms, 1 listener" and exit 0
  call, publish, subscribe, register, meta
                         Connect to a router as a WAMP client and do one
                         thing, printing JSON lines (cloverleaf <command>
                         --help; README "The command-line client")
  keygen                 Make a WAMP-Cryptosign key pair
  hash-secret            Derive a WAMP-CRA or WAMP-SCRAM user for the config
                         from a password

Options:
  --listen <host:port>   Add a listener serving WebSocket, RawSocket and
                         HTTP long-poll on one port ([::1]:8080 for IPv6);
                         repeatable. Default, when the config file and the
                         flags give no listener: 127.0.0.1:8080
  --ws <host:port>       Add a WebSocket-only listener; repeatable
  --rawsocket <host:port>, --tcp <host:port>
                         Add a RawSocket-only listener; repeatable (--tcp
                         is nexusd's name for it)
  --unix <path>          Add a listener on a Unix socket (RawSocket and
                         WebSocket); repeatable
  --realm <name>         Add a realm (anonymous access); repeatable.
                         Default, when the config file has no realm either:
                         realm1
  --cluster <nats-url>   Join a cluster through this NATS server
                         (nats://host:port); repeatable for several servers
                         of one NATS cluster. Every router joined with the
                         same cluster name serves the same realms as one
                         (PubSub across nodes; see docs/cluster.md)
  --workers <n|auto>     Serve with n processes on the same ports, one per
                         core with "auto" (default 1: this process alone).
                         The workers join one cluster: through --cluster,
                         else through a nats-server this process starts on
                         a free loopback port (nats-server must be
                         installed). A worker that dies is restarted.
                         Needs --allow-run; TCP listeners with a fixed port
                         only (see docs/cluster.md)
  --http-bridge <path>   Mount the HTTP bridge on every listener that
                         speaks HTTP: <path>/publish, <path>/call and
                         <path>/subscribe (SSE), for the first realm and its
                         anonymous role; needs --http-token (see
                         docs/http-bridge.md)
  --http-token <token>   The bearer token --http-bridge paths require (16
                         characters or more). The process list shows it to
                         every user: prefer --http-token-file or the
                         CLOVERLEAF_HTTP_TOKEN environment variable
  --http-token-file <file>
                         Read the --http-bridge token from this file (one
                         trailing newline dropped)
  --admin <host:port>    Serve Prometheus metrics (/metrics), health
                         (/health, /ready) and a live dashboard (/) on
                         this address; loopback clients only unless the
                         config file's "admin.token" is set (see
                         docs/operating.md)
  -c, --config <file>    Read a config file, JSON or YAML (.yaml, .yml);
                         flags add to it
  --log-level <level>    debug, info, warn or error (default: the config
                         file's "logLevel", else info)
  --log-format <format>  text (key=value fields) or json (one object per
                         line: level, time, msg and fields; default: the
                         config file's "logFormat", else text)
  -h, --help             Print this help and exit
  -V, --version          Print the version and exit

Config file:
  {
    "logLevel": "info", "logFormat": "text",
    "listeners": [{ "type": "universal", "host": "127.0.0.1", "port": 8080,
                    "paths": ["/ws", "/"], "serializers": ["json", "msgpack", "cbor"],
                    "maxMessageSize": 16777216, "maxConnections": 0,
                    "tls": { "cert": "cert.pem", "key": "key.pem" },
                    "compression": { "enabled": true, "threshold": 256 },
                    "pingInterval": 30000, "pingTimeout": 10000,
                    "outbound": { "maxBacklog": 2097152, "maxBacklogMessages": 32768,
                                  "slowConsumer": "drop" } }],
    (types: "universal", "websocket", "rawsocket", "longpoll"; every key is
    in docs/transports.md)
    "realms": [{ "name": "realm1", "anonymous": true, "anonymousRole": "anonymous",
                 "strictUris": false, "strictRequestIds": true },
               { "name": "realm2", "auth": { "ticket": { "principals": {
                   "alice": { "ticket": "\${ALICE_TICKET}", "role": "user" } } } } }],
    "bridges": [{ "path": "/api/publish", "type": "publisher", "realm": "realm1",
                  "role": "app", "auth": { "token": "\${BRIDGE_TOKEN}" } }],
    ("publisher", "caller", "webhook", "subscriber"; signed requests with
    "auth": { "key", "secret" }; see docs/http-bridge.md)
    "httpServices": [{ "procedure": "com.example.user.get", "method": "GET",
                       "url": "https://api.example.com/users/{id}" }],
    "trustedRole": "trusted",
    (the authrole that may register and call dynamic authenticator and
    authorizer procedures; only credentials give it; default "trusted")
    "workers": 1,
    (processes serving the same ports, or "auto": one per core; as --workers)
    "admin": { "host": "127.0.0.1", "port": 9090, "token": "\${ADMIN_TOKEN}" },
    (the admin listener, off when absent; with a token, requests need
    "Authorization: Bearer <token>", else only loopback clients are served)
    "cluster": { "servers": ["nats://127.0.0.1:4222"], "name": "cloverleaf",
                 "heartbeat": 1000, "nodeTimeout": 5000 }
    (NATS servers; nodes with the same name are one router; milliseconds
    between heartbeats, and without one before a node is down)
  }

Environment variables in the config file:
  Any string value may name environment variables as \${NAME}, the whole
  string ("\${ALICE_TICKET}") or part of it ("Bearer \${TOKEN}"); NAME is
  letters, digits and _. The variable's value replaces the reference when
  the file is loaded. An unset variable is an error that names the key's
  path and the variable, never a value. Write $\${ for a literal \${. Keys
  and numbers, booleans and null are never expanded.

Exit codes: 0 after a clean shutdown (SIGINT, SIGTERM) or a passing check,
1 when a listener cannot start or NATS cannot be reached, 2 for bad flags
or a bad config file.`);
}

/** Whether `level` names a log level. */
export function isLogLevel(level: string): level is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(level);
}

const COMMANDS = ["check"] as const;

/** What the command line asks for. */
export type Flags = ReturnType<typeof parseFlags>;

/**
 * Parses the command line.
 *
 * @param args The arguments after the script.
 * @returns The flags, and the command (`check`) if one was given.
 * @throws {TypeError} For an unknown flag, command or extra argument.
 */
export function parseFlags(args: string[]) {
  const { values, positionals } = parseArgs({
    args,
    options: {
      listen: { type: "string", multiple: true },
      ws: { type: "string", multiple: true },
      rawsocket: { type: "string", multiple: true },
      // nexusd's name for --rawsocket.
      tcp: { type: "string", multiple: true },
      unix: { type: "string", multiple: true },
      realm: { type: "string", multiple: true },
      cluster: { type: "string", multiple: true },
      "http-bridge": { type: "string" },
      "http-token": { type: "string" },
      "http-token-file": { type: "string" },
      workers: { type: "string" },
      admin: { type: "string" },
      // Internal: this process is worker <n> of a --workers supervisor.
      worker: { type: "string" },
      config: { type: "string", short: "c" },
      "log-level": { type: "string" },
      "log-format": { type: "string" },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean", short: "V" },
    },
    strict: true,
    allowPositionals: true,
  });
  const [command, extra] = positionals;
  if (command !== undefined && !(COMMANDS as readonly string[]).includes(command)) {
    throw new TypeError(
      `Unknown command ${JSON.stringify(command)}: expected ${
        COMMANDS.map((c) => `"${c}"`).join(", ")
      }, a client command (call, publish, subscribe, register, meta, keygen, hash-secret) or none (see --help)`,
    );
  }
  if (extra !== undefined) {
    throw new TypeError(
      `Unexpected argument ${JSON.stringify(extra)} after "${command}" (see --help)`,
    );
  }
  return { ...values, command: command as typeof COMMANDS[number] | undefined };
}
