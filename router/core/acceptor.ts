/**
 * The opening handshake as one state machine (spec "Session Establishment"): HELLO, then
 * AUTHENTICATE when challenged, each answered with CHALLENGE, WELCOME or ABORT.
 * `accept_hello.ts` takes the first look (roles, realm, which of the realm's
 * authentication methods runs); {@linkcode Acceptor} runs the method's steps. A step the
 * method may take its time over (a custom method's promise, a dynamic authenticator) is a
 * {@linkcode RunTask} the shell runs and resumes, and the router's `authTimeout` an
 * {@linkcode ArmTimer}: the acceptor never waits, so tests drive it by resuming tasks and
 * firing timers.
 *
 * @module
 */

import {
  type AbortMessage,
  type AuthenticateMessage,
  type Dict,
  ErrorUri,
  type HelloMessage,
  MessageType,
  type TransportInfo,
  type WampMessage,
} from "../../wamp/mod.ts";
import type { AuthOutcome, AuthRequest, Identity } from "./auth/authenticator.ts";
import { abort, acceptHello, type HelloRealm } from "./accept_hello.ts";
import { type Effect, NOTHING, type Output, type RunTask, type Settled } from "./output.ts";
import { type ResolvedRealmOptions, trustLevelFor } from "./realm_options.ts";
import type { Logger, SessionInfo } from "./types.ts";
import { welcomeDetails } from "./welcome.ts";
import { helloAttributes } from "./kept_hello.ts";
import { ROUTER_CALL_TIMEOUT, unanswered } from "./internal_session.ts";
import { CallError } from "./errors.ts";
import type { AuthenticationFailures } from "./auth/authentication_failures.ts";

/** A realm as the acceptor sees it: {@linkcode HelloRealm} and its trust levels. */
export interface AcceptorRealm extends HelloRealm {
  /** The realm's options (the trust levels WELCOME applies). */
  readonly options: Pick<ResolvedRealmOptions, "trustLevels">;
}

/** What the acceptor needs from its router. */
export interface AcceptorHost<R extends AcceptorRealm = AcceptorRealm> {
  /** Finds a realm by name. */
  realm(name: string): R | undefined;
  /** Draws a global-scope ID for a new session. */
  sessionId(): number;
  /** The agent string sent in WELCOME. */
  readonly agent: string;
  /** Milliseconds a client has from HELLO to WELCOME when a step takes time. */
  readonly authTimeout: number;
  /** WELCOME.Details.roles. */
  readonly roles: Dict;
  /** Where log lines go. */
  readonly log: Logger;
  /** Failed logins per source (`RouterOptions.failedLogins`); no limit when absent. */
  readonly failedLogins?: AuthenticationFailures;
}

/** How a handshake ended: the session it welcomed, or an ABORT. */
export type AcceptorResult<R extends AcceptorRealm = AcceptorRealm> =
  | { readonly welcome: SessionInfo; readonly realm: R }
  | { readonly aborted: true };

type Answer = (signature: string, extra: Dict) => AuthOutcome | PromiseLike<AuthOutcome>;

/**
 * One opening handshake: HELLO, the chosen method's steps, and its end in
 * WELCOME or ABORT. Every entry returns the {@linkcode Output} to act on:
 * messages addressed to the session being established (its ID, or 0
 * before one is drawn) and effects (the `authTimeout` timer, the method's
 * steps as tasks). Once {@linkcode Acceptor.result} is set, later task
 * results and timer firings change nothing.
 *
 * @example Anonymous: the shell runs the step, WELCOME follows
 * ```ts
 * import { Acceptor } from "./acceptor.ts";
 * import { anonymousAuthenticator } from "./auth/anonymous.ts";
 * import { equal } from "node:assert/strict";
 *
 * const realm = {
 *   name: "realm1",
 *   authenticators: new Map([["anonymous", anonymousAuthenticator("anonymous")]]),
 *   options: { trustLevels: [] },
 * };
 * const acceptor = new Acceptor({
 *   realm: () => realm,
 *   sessionId: () => 7,
 *   agent: "test",
 *   authTimeout: 1000,
 *   roles: { broker: {} },
 *   log: () => {},
 * }, { type: "fake" });
 * const started = acceptor.hello({ type: 1, realm: "realm1", details: { roles: { caller: {} } } });
 * const [arm, task] = started.effects;
 * equal(arm?.kind, "arm");
 * if (task?.kind !== "task") throw new Error("expected a task");
 * const welcomed = task.resume({ ok: true, value: task.run() });
 * equal(welcomed.messages[0]?.msg.type, 2); // WELCOME
 * equal(welcomed.effects[0]?.kind, "cancel");
 * equal(acceptor.result !== undefined && "welcome" in acceptor.result, true);
 * ```
 */
export class Acceptor<R extends AcceptorRealm = AcceptorRealm> {
  #host: AcceptorHost<R>;
  #transport: TransportInfo;
  #sendLimit: number | undefined;
  #id = 0;
  #method = "";
  #hello: HelloMessage | undefined;
  #realm: R | undefined;
  #roles: Dict = {};
  #answer: Answer | undefined;
  #armed = false;
  #running = false; // a step runs: it holds a place of its source (authentication_failures.ts)
  #ended: AbortController | undefined; // cancels a router call holding no place (see #end)
  #result: AcceptorResult<R> | undefined;

  /**
   * Creates the acceptor for one connection's HELLO.
   *
   * @param host The router.
   * @param transport The transport the HELLO comes over.
   * @param sendLimit The largest message the peer accepts, if it said.
   */
  constructor(host: AcceptorHost<R>, transport: TransportInfo, sendLimit?: number) {
    this.#host = host;
    this.#transport = transport;
    this.#sendLimit = sendLimit;
  }

  /** The session ID WELCOME carries (0 before HELLO was accepted). */
  get id(): number {
    return this.#id;
  }

  /** The authmethod in use. */
  get method(): string {
    return this.#method;
  }

  /** Whether a CHALLENGE is waiting for its AUTHENTICATE. */
  get challenged(): boolean {
    return this.#answer !== undefined;
  }

  /** How the handshake ended, once it has. */
  get result(): AcceptorResult<R> | undefined {
    return this.#result;
  }

  /**
   * Takes the HELLO: an ABORT when it cannot go on, else the chosen
   * method's first step.
   *
   * @param msg The HELLO.
   * @returns What to do.
   */
  hello(msg: HelloMessage): Output {
    const realm = this.#host.realm(msg.realm);
    const { failedLogins } = this.#host, transport = this.#transport;
    const refused = failedLogins &&
      ((method: string) => failedLogins.refuses(method, transport.peer));
    const accepted = acceptHello(msg, realm, { transport, refused });
    if ("abort" in accepted) return this.#abort(accepted.abort);
    this.#hello = msg;
    this.#realm = realm;
    this.#roles = accepted.roles;
    this.#method = accepted.authenticator.method;
    this.#id = this.#host.sessionId();
    const { authid, authextra } = msg.details;
    const request: AuthRequest = {
      realm: msg.realm,
      authid: typeof authid === "string" ? authid : undefined,
      authextra: typeof authextra === "object" && authextra !== null && !Array.isArray(authextra)
        ? authextra as Dict
        : {},
      session: this.#id,
      transport: this.#transport,
    };
    const authenticator = accepted.authenticator;
    return this.#task(() => authenticator.hello(request), outcomeOf);
  }

  /**
   * Takes the AUTHENTICATE answering the CHALLENGE (call only when
   * {@linkcode Acceptor.challenged}).
   *
   * @param msg The AUTHENTICATE.
   * @returns What to do.
   */
  authenticate(msg: AuthenticateMessage): Output {
    const answer = this.#answer;
    if (answer === undefined) return NOTHING;
    this.#answer = undefined;
    return this.#task(() => answer(msg.signature, msg.extra), outcomeOf);
  }

  /**
   * Gives up (`authTimeout`, or the connection's hello timeout, ran out
   * first): ABORT `authentication_failed`. A failed login when the client
   * was to answer a CHALLENGE; when a step was running (the router waited
   * on its dynamic authenticator), the step keeps its place and its answer
   * decides when it comes: a denial counts then.
   *
   * @param reason Why, for the log.
   * @returns What to do.
   */
  expire(reason: string): Output {
    return this.#result === undefined ? this.#deny(reason, !this.#running) : NOTHING;
  }

  /**
   * Ends the handshake without a reply (the connection is closing): its
   * timer stops; a step still running keeps its place until it settles or
   * its limit passes (see #task; its outcome then only frees the place, or
   * counts a failed login).
   *
   * @returns What to do.
   */
  stop(): Output {
    if (this.#result !== undefined) return NOTHING;
    this.#result = { aborted: true };
    return { messages: [], effects: this.#end() };
  }

  /**
   * Runs a step as a task; its outcome continues the handshake (see #end for an `ask`). A step
   * holding a place is waited for no longer than a router call is (or `authTimeout` when longer):
   * user code that never settles (a hung query of a TypeScript authenticator, a custom method's
   * promise) would hold it for good; then it ends as the router call's own timeout does.
   */
  #task(run: (ended?: AbortSignal) => unknown, then: Then, ask = false): Output {
    const { failedLogins, authTimeout } = this.#host;
    const step = { method: this.#method, session: this.#id, transport: this.#transport };
    const refused = failedLogins?.begin({ ...step, hello: this.#hello! });
    if (refused !== undefined) return this.#abort(refused); // its source failed too often: at once
    this.#running = true;
    const placed = failedLogins?.holds(this.#method, this.#transport.peer) === true;
    const task: RunTask = {
      kind: "task",
      run: () => run(ask ? (this.#ended ??= new AbortController()).signal : undefined),
      resume: (settled: Settled<unknown>) => this.#settle(settled, then),
      ...(placed ? { limit: Math.max(ROUTER_CALL_TIMEOUT, authTimeout) } : {}),
    };
    if (this.#armed) return { messages: [], effects: [task] };
    this.#armed = true;
    const timer: Effect = {
      kind: "arm",
      key: this,
      ms: this.#host.authTimeout,
      fire: () => this.expire("timed out"),
    };
    return { messages: [], effects: [timer, task] };
  }

  #settle(settled: Settled<unknown>, then: Then): Output {
    if (this.#result !== undefined && !this.#running) return NOTHING;
    let outcome: AuthOutcome | undefined, error: unknown = settled.ok ? undefined : settled.error;
    try {
      if (settled.ok) outcome = then(settled.value);
    } catch (thrown) {
      error = thrown;
    }
    // The step is over, also when the handshake ended first: its place is free, or a failure's
    // (a denial that judged the credential: not the router's own call errors).
    this.#ran(outcome === undefined ? !unanswered(error) : "deny" in outcome);
    if (this.#result !== undefined) {
      if (error instanceof CallError && error.uri === ErrorUri.TIMEOUT) {
        this.#log(error.message, "authentication_step_timeout"); // a hung authenticator
      }
      this.#ended?.abort(); // a router call resumed past its limit is cancelled: its slot is free
      return NOTHING;
    }
    if (outcome === undefined) return this.#deny(error);
    if ("welcome" in outcome) return this.#welcome(outcome.welcome);
    if ("deny" in outcome) return this.#deny(outcome.deny);
    if ("ask" in outcome) return this.#task(outcome.ask, outcome.next, true);
    this.#answer = outcome.answer;
    return this.#send({
      type: MessageType.CHALLENGE,
      authmethod: this.#method,
      extra: outcome.challenge,
    });
  }

  #welcome(identity: Identity): Output {
    const realm = this.#realm!;
    const hello = this.#hello!;
    if (realm.full) {
      // Filled up while this session was authenticating.
      return this.#abort(abort(ErrorUri.REALM_FULL, `Realm "${realm.name}" is full`).abort);
    }
    const effects = this.#end();
    const id = this.#id;
    const transport = this.#transport.type;
    const trustlevel = trustLevelFor(realm.options.trustLevels, identity.authrole, transport);
    const info: SessionInfo = {
      id,
      realm: hello.realm,
      ...identity,
      roles: this.#roles,
      transport,
      ...(this.#transport.peer === undefined ? {} : { peer: this.#transport.peer }),
      hello: helloAttributes(hello.details),
      ...(trustlevel === undefined ? {} : { trustlevel }),
      ...(this.#sendLimit === undefined ? {} : { sendLimit: this.#sendLimit }),
    };
    this.#result = { welcome: info, realm };
    const details: Dict = {
      roles: this.#host.roles,
      agent: this.#host.agent,
      realm: hello.realm,
      ...identity,
    };
    return this.#send({
      type: MessageType.WELCOME,
      session: id,
      details: welcomeDetails(id, details, this.#roles, this.#sendLimit),
    }, effects);
  }

  /** Ends in ABORT `authentication_failed`; `failed`: count a failed login (no step held a place). */
  #deny(reason: unknown, failed = false): Output {
    this.#log(reason instanceof Error ? reason.message : `${reason}`, "authentication_failed");
    if (failed) this.#host.failedLogins?.failed(this.#method, this.#transport.peer);
    return this.#abort(abort(ErrorUri.AUTHENTICATION_FAILED, "authentication failed").abort);
  }

  /** Logs a failed login (`authentication_failed`), or a step that ended without an answer. */
  #log(why: string, event: string): void {
    const { realm, details } = this.#hello ?? {}, { type: transport, peer } = this.#transport;
    const authid = typeof details?.authid === "string" ? details.authid : undefined;
    const [session, method] = [this.#id, this.#method];
    const fields = { realm, session, authid, method, transport, peer, reason: why, event };
    const what = event === "authentication_failed"
      ? "authentication failed"
      : "authentication step ended after the handshake";
    this.#host.log("warn", `Session ${session}: ${method} ${what}: ${why}`, fields);
  }

  /** Ends the handshake with `msg`. */
  #abort(msg: AbortMessage): Output {
    const effects = this.#end();
    this.#result = { aborted: true };
    return this.#send(msg, effects);
  }

  /** The step that ran is over: its place is free, or taken by a failed login. */
  #ran(failed: boolean): void {
    if (!this.#running) return;
    this.#running = false;
    this.#host.failedLogins?.end(this.#method, this.#transport.peer, failed);
  }

  /**
   * Stops the timer (if armed), forgets the CHALLENGE. A step still running goes on: its place is
   * held until its work really ends (a client hanging up must not free it while the authenticator
   * still works); a router call holding no place (no limit, in-process) is cancelled `killnowait`.
   */
  #end(): Effect[] {
    this.#answer = undefined;
    const { failedLogins } = this.#host;
    if (!this.#running || !failedLogins?.holds(this.#method, this.#transport.peer)) {
      this.#ended?.abort();
    }
    if (!this.#armed) return [];
    this.#armed = false;
    return [{ kind: "cancel", key: this }];
  }

  #send(msg: WampMessage, effects: readonly Effect[] = []): Output {
    return { messages: [{ to: this.#id, msg }], effects };
  }
}

/** What continues a handshake with a step's outcome. */
type Then = (value: unknown) => AuthOutcome;
/** A method's step returns its outcome. */
function outcomeOf(value: unknown): AuthOutcome {
  return value as AuthOutcome;
}
