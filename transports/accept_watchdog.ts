/**
 * Keeps a TCP listener accepting. Deno's `node:net` server stops accepting
 * for good once an accept fails for want of a file descriptor (EMFILE),
 * and says nothing: no `error` event, and no retry once descriptors are
 * free again (Deno 2.9.6; `Deno.listen` recovers, `node:net` does not).
 * One client that opened as many connections as the process's open-file
 * limit allows, without sending a byte, left a router that answered no one
 * until it was restarted.
 *
 * The process cannot read its own limit without `--allow-all`, so instead
 * of staying below it the listener watches itself: every few seconds it
 * connects to its own address, and a listener that does not see that
 * connection arrive is closed and listens again, which accepts again.
 *
 * Listeners sharing their port (`reusePort`, the `--workers` mode) are
 * watched too. The kernel hands each connection to one of them by a hash
 * of its addresses, so a probe may reach a sibling: the probe writes a
 * byte that starts no request of any protocol served here, and a live
 * sibling closes the connection (a TLS one with an alert), whereupon the
 * probe tries another port (up to {@linkcode PROBES_PER_CHECK} per check).
 * A probe that reached no one who accepts is a stall: the member that does
 * not accept is this one, or, if this one accepted nothing either, perhaps
 * a sibling. An idle listener then listens again for nothing: a warning,
 * and the kernel spreads connections over the members anew, so each
 * member's checks look for their port again. The port that last reached
 * this listener is tried first, so once found, its checks stay its own;
 * after a member joins or leaves, a check misses a dead member with odds
 * of ((N-1)/N)^8 for N members, and the next check tries again.
 *
 * A Unix socket's listener cannot tell its probe from other connections
 * when it accepts it: the probe is closed by the listener on its first
 * byte, and any connection accepted while it waits shows the loop alive.
 * That includes a full listen queue, which a Unix socket refuses at once.
 *
 * @module
 */

import net from "node:net";
import type { TransportLog } from "../wamp/mod.ts";

/**
 * Where a listener listens: its port and the IP address it is bound to (a
 * wildcard address is probed on loopback), or its Unix socket's path.
 */
export type ProbeTarget = { readonly port: number; readonly address: string } | {
  readonly path: string;
};

/** What the watchdog needs from its listener. */
export interface AcceptWatchdogOptions {
  /** Where it listens. */
  readonly target: ProbeTarget;
  /** Milliseconds between probes. */
  readonly interval: number;
  /** Milliseconds from sending a probe for the server to accept it, or any connection. */
  readonly timeout: number;
  /** Whether the server is listening (one that is not is made to listen again, each interval). */
  readonly listening: () => boolean;
  /** Called when the server missed a probe, or is not listening: make it listen again. */
  readonly stalled: () => void;
  /** Called once when probes have kept failing (not for want of descriptors): no checks happen. */
  readonly failing: (error: Error) => void;
  /** The local ports a TCP probe is drawn from: the first and how many. @default {[61000, 4500]} */
  readonly probePorts?: readonly [number, number];
}

/** Probes that failed in a row, not for want of descriptors, before `failing` is called. */
const FAILURES_TOLD = 5;

/** Probes a check sends at most, while each reaches a sibling sharing the port. */
export const PROBES_PER_CHECK = 8;

/**
 * The first byte a probe writes once connected: a NUL, which starts no HTTP
 * request, RawSocket handshake (0x7F) or TLS record. The router's listener
 * closes a connection that starts with it at once, logs nothing and counts
 * it apart (`ListenerStats.checks`); a TLS listener fails its handshake.
 */
export const PROBE_BYTE = 0;
const PROBE_BYTES = new Uint8Array([PROBE_BYTE]);

/** A probe in flight: its own address and port (none on a Unix socket), and what the server did with it. */
interface Probe {
  readonly socket: net.Socket;
  readonly address: string;
  readonly port: number | undefined;
  /** The server accepted it: the listener is alive. */
  seen: boolean;
  /** The server accepted some connection meanwhile: alive as well. */
  accepted: boolean;
}

/**
 * Probes a listener's accept loop by connecting to it; see the module
 * documentation.
 */
export class AcceptWatchdog {
  #options: AcceptWatchdogOptions;
  #timer: ReturnType<typeof setInterval>;
  #probe: Probe | undefined;
  #deadline: ReturnType<typeof setTimeout> | undefined;
  #failures = 0;
  /** The local port whose probe this listener last accepted: tried first. */
  #home: number | undefined;

  /**
   * Starts probing.
   *
   * @param options The listener's address, the timing, what to do on a stall.
   */
  constructor(options: AcceptWatchdogOptions) {
    this.#options = options;
    this.#timer = setInterval(() => this.#send(), options.interval);
  }

  /**
   * Whether a socket the server accepted is the watchdog's probe: then it
   * is counted as seen, and the caller closes it and does nothing else.
   * Pass every socket the server accepts: any of them shows the server
   * still accepts.
   *
   * @param socket A socket the server accepted.
   * @returns True for the probe.
   */
  claims(socket: net.Socket): boolean {
    const probe = this.#probe;
    if (probe === undefined) return false;
    // Any connection accepted proves the loop alive: a full queue then only delays the probe.
    probe.accepted = true;
    if (probe.port === undefined || socket.remotePort !== probe.port) return false;
    if (plain(socket.remoteAddress) !== probe.address) return false;
    probe.seen = true;
    this.#failures = 0;
    this.#home = probe.port;
    this.#end();
    return true;
  }

  /** Stops probing. */
  stop(): void {
    clearInterval(this.#timer);
    this.#end();
  }

  /**
   * Sends a probe, from the home port if there is one, else from a port
   * drawn at random.
   *
   * @param tries Probes this check may still send after this one.
   * @param accepted Whether the server accepted anything during this check's earlier probes.
   */
  #send(tries = PROBES_PER_CHECK - 1, accepted = false): void {
    if (this.#probe !== undefined) return;
    // A restart whose listen failed (the port taken meanwhile): listen again, each interval.
    if (!this.#options.listening()) return this.#options.stalled();
    const { target, timeout } = this.#options;
    const probe = "path" in target ? this.#unix(target.path) : this.#tcp(target, accepted);
    this.#probe = probe;
    const { socket } = probe;
    // A Unix socket has no siblings: answered or closed, it was accepted by this server.
    const next = () => {
      if (tries > 0 && !("path" in target)) this.#send(tries - 1, probe.accepted);
    };
    socket.on("error", (error: Error & { code?: string }) => {
      if (this.#probe !== probe) return;
      // A Unix socket's listen queue is full: the deadline tells whether anything was accepted.
      if (error.code === "EAGAIN") return;
      this.#end();
      // A sibling sharing the port reset it: as good as closed.
      if (error.code === "ECONNRESET" || error.code === "EPIPE") return next();
      // A port in use: another is drawn, and a check whose every port was taken fails.
      if (error.code === "EADDRINUSE" && tries > 0) return next();
      // Out of descriptors, the probe cannot tell; anything else, the check does not work.
      if (error.code === "EMFILE" || error.code === "ENFILE") return;
      if (++this.#failures === FAILURES_TOLD) this.#options.failing(error);
    });
    socket.once("connect", () => socket.write(PROBE_BYTES));
    // Answered or closed by someone else than this server: a sibling sharing the port has it.
    const elsewhere = () => {
      if (this.#probe !== probe) return;
      this.#failures = 0;
      this.#end();
      next();
    };
    socket.on("data", elsewhere);
    socket.on("end", elsewhere);
    // From now, not from connecting: a server that stopped accepting fills its listen queue, and
    // then the kernel drops a probe's connection without refusing it.
    // A listener that accepted anything meanwhile is alive (a storm of connections can fill its
    // queue for seconds): only one that accepted nothing at all is restarted.
    this.#deadline = setTimeout(() => {
      if (this.#probe !== probe || probe.seen) return;
      this.#end();
      if (!probe.accepted) this.#options.stalled();
    }, timeout);
  }

  /** A probe from a port of its own choosing: the server may see the connection before the
   * probe knows which port it got. One in use fails, and another is drawn. */
  #tcp(target: { port: number; address: string }, accepted: boolean): Probe {
    const address = connectable(target.address);
    const [first, count] = this.#options.probePorts ?? PROBE_PORTS;
    const localPort = this.#home ?? first + Math.floor(Math.random() * count);
    this.#home = undefined; // until the server claims it again
    const socket = net.connect({
      port: target.port,
      host: address,
      localAddress: address,
      localPort,
    });
    return { socket, address, port: localPort, seen: false, accepted };
  }

  /** A probe to a Unix socket: the server cannot tell it from others when it accepts it. */
  #unix(path: string): Probe {
    return {
      socket: net.connect({ path }),
      address: "",
      port: undefined,
      seen: false,
      accepted: false,
    };
  }

  #end(): void {
    clearTimeout(this.#deadline);
    this.#deadline = undefined;
    this.#probe?.socket.destroy();
    this.#probe = undefined;
  }
}

/** The ports a probe connects from: above Linux's ephemeral ports (32768-60999), 4500 of them. */
const PROBE_PORTS: readonly [number, number] = [61000, 4500];

/** The address to connect to for a listener bound to `hostname`. */
function connectable(address: string): string {
  if (address === "0.0.0.0") return "127.0.0.1";
  if (address === "::") return "::1";
  return plain(address);
}

/** An address without the IPv4-mapped IPv6 prefix. */
function plain(address: string | undefined): string {
  if (address === undefined) return "";
  return address.startsWith("::ffff:") ? address.slice(7) : address;
}

/** Where a listener listens, and what to tell of a restart. */
export interface WatchedListener {
  /** Where it is bound. */
  readonly target: ProbeTarget;
  /** The host a TCP listener was asked to bind (what it listens on again). */
  readonly hostname: string;
  /** Whether a TCP listener listens with `reusePort`. */
  readonly reusePort: boolean;
  /** Milliseconds between probes. */
  readonly interval: number;
  /** Where a restart, and checks that keep failing, are logged. */
  readonly log: TransportLog;
  /** The listener's name in those lines (its URL). */
  readonly name: () => string;
}

/**
 * Watches a listening server's accept loop: its own probes over TCP are
 * closed before any other `connection` listener sees them (over a Unix
 * socket, the listener closes a connection that starts with
 * {@linkcode PROBE_BYTE}), and a server that misses one is closed and
 * listens again on the same address (its open connections stay).
 *
 * @param server The listening server.
 * @param listener Its address, and what to tell of a restart.
 * @returns The watchdog; stop it when the server closes.
 *
 * @example
 * ```ts
 * import net from "node:net";
 * import { watchAccepts } from "./accept_watchdog.ts";
 *
 * const server = net.createServer((socket) => socket.destroy());
 * await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
 * const { port } = server.address() as net.AddressInfo;
 * const watchdog = watchAccepts(server, {
 *   target: { port, address: "127.0.0.1" },
 *   hostname: "127.0.0.1",
 *   reusePort: false,
 *   interval: 5000,
 *   log: (level, message) => console.log(level, message),
 *   name: () => `ws://127.0.0.1:${port}/ws`,
 * });
 * watchdog.stop();
 * await new Promise((resolve) => server.close(resolve));
 * ```
 */
export function watchAccepts(server: net.Server, listener: WatchedListener): AcceptWatchdog {
  const { target, hostname, reusePort } = listener;
  const watchdog = new AcceptWatchdog({
    target,
    interval: listener.interval,
    timeout: 3000,
    listening: () => server.listening,
    failing: (error) =>
      listener.log(
        "warn",
        `Listener on ${listener.name()}: cannot check that it accepts: ${error.message}`,
      ),
    stalled() {
      if (server.listening) {
        listener.log(
          "warn",
          `Listener on ${listener.name()} stopped accepting connections; listening again`,
          {
            event: "listener_restarted",
          },
        );
        server.close();
      }
      // A failure is the server's `error` event, and the next interval tries again. Closing
      // removed a Unix socket's file.
      if ("path" in target) server.listen(target.path);
      else {server.listen({
          port: target.port,
          host: hostname,
          ...(reusePort ? { reusePort } : {}),
        });}
    },
  });
  server.prependListener("connection", (socket: net.Socket) => {
    if (watchdog.claims(socket)) socket.destroy();
  });
  return watchdog;
}
