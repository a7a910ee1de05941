/**
 * The dealer: registrations and calls of one realm, sans-I/O (spec "Remote
 * Procedure Calls" and the Advanced Profile RPC features). Methods take the
 * acting session and its message and return the messages to deliver;
 * protocol violations are thrown. Call timeouts are effects: the methods
 * that start, continue or end calls return an {@linkcode Output} whose
 * effects arm and cancel them; a fired timer's `fire()` returns the
 * timed-out call's ERROR and INTERRUPT.
 *
 * @module
 */

import {
  type CallMessage,
  type CancelMessage,
  type Dict,
  type ErrorMessage,
  ErrorUri,
  type IdGenerator,
  isReservedUri,
  isValidUri,
  type MatchPolicy,
  MessageType,
  type RegisterMessage,
  type UnregisterMessage,
  type YieldMessage,
} from "../../../wamp/mod.ts";
import type { Disclosure } from "../realm_options.ts";
import { errorReply } from "../errors.ts";
import { type LimitOptions, resolveLimits } from "../limits.ts";
import { messagesOnly, type Output, type OutputBuilder } from "../output.ts";
import { DealerCluster } from "./cluster.ts";
import { type DealerClusterHooks, RemoteRpc } from "./remote.ts";
import { Calls } from "./calls.ts";
import { keptOptions, MAX_CALL_TIMEOUT } from "./pending_calls.ts";
import { registerOverLimit } from "./register_limits.ts";
import { type Registration, type RegistrationObserver, Registrations } from "./registrations.ts";
import type { Outbound, SessionInfo } from "../types.ts";

export type { Registration, RegistrationObserver };

/** Options for {@linkcode Dealer}. */
export interface DealerOptions {
  /** Only `[0-9a-z_]` URI components. @default {false} */
  strictUris?: boolean;
  /** Router-scope IDs for registrations. */
  registrationIds: IdGenerator;
  /** The clock (milliseconds since the epoch), for a registration's `created`. */
  now: () => number;
  /** Caller identification policy. @default {"request"} */
  discloseCaller?: Disclosure;
  /** Random numbers in [0, 1) for the `random` policy. @default {Math.random} */
  random?: () => number;
  /**
   * Whether a session is not reading what it is sent: past half its
   * outbound limit, where what others send it stops (a new CALL whose
   * callee is busy is refused with `wamp.error.no_available_callee`); with
   * `whole`, past all of it, so one more message would close it (a call in
   * progress ends rather than send it a progressive RESULT or a chunk).
   * @default {never}
   */
  busy?: (session: number, whole?: boolean) => boolean;
  /**
   * Completes what a fired call timer returns before the shell gets it
   * (the realm adds its meta events and routes its own session's replies).
   * @default {the output unchanged}
   */
  settle?: (out: Output) => Output;
  /** Told as callees join and leave registrations. */
  observer?: RegistrationObserver;
  /**
   * Whether `session` may not hold `procedure` (by `match`), which could capture one only
   * the trusted role may register (`Authorizer.reachesTrusted`). Asked as a callee is added,
   * after any wait since its REGISTER was authorized (a cluster claim). @default {never}
   */
  untrusted?: (session: SessionInfo, procedure: string, match: MatchPolicy) => boolean;
  /**
   * Call and registration limits (the realm's `limits`); the defaults of
   * `DEFAULT_LIMITS` for those not given.
   * @default {DEFAULT_LIMITS}
   */
  limits?: DealerLimits;
}

/** The limits a dealer enforces. */
export type DealerLimits = Pick<
  LimitOptions,
  | "callsPerSession"
  | "registrationsPerSession"
  | "registrations"
  | "patternRegistrations"
  | "wildcardComponents"
>;

export { MAX_CALL_TIMEOUT };

/** Routes calls from callers to callees and results back. */
export class Dealer {
  #options: DealerOptions;
  #registrations: Registrations;
  #calls: Calls;
  #limits: Required<DealerLimits>;
  #cluster!: DealerCluster;

  /**
   * Creates a dealer.
   *
   * @param options URI strictness, ID generator, disclosure policy, limits.
   */
  constructor(options: DealerOptions) {
    this.#options = options;
    this.#limits = resolveLimits(options.limits);
    this.#registrations = new Registrations(options.registrationIds, options.now, options.observer);
    this.#calls = new Calls({
      registrations: this.#registrations,
      strictUris: options.strictUris ?? false,
      discloseCaller: options.discloseCaller ?? "request",
      random: options.random ?? Math.random,
      busy: options.busy ?? (() => false),
      callsPerSession: this.#limits.callsPerSession,
      settle: options.settle ?? ((out) => out),
    });
  }

  /** Looks up a registration by ID. */
  registration(id: number): Registration | undefined {
    return this.#registrations.get(id);
  }

  /** How many registrations exist. */
  get registrationCount(): number {
    return this.#registrations.size;
  }

  /** Every registration. */
  registrations(): IterableIterator<Registration> {
    return this.#registrations.values();
  }

  /** The registration for exactly this procedure or pattern and match policy. */
  lookup(procedure: string, match: MatchPolicy = "exact"): Registration | undefined {
    return this.#registrations.lookup(procedure, match);
  }

  /**
   * The registration a call to `procedure` would reach (exact, then the
   * longest prefix, then the best wildcard pattern).
   */
  match(procedure: string): Registration | undefined {
    return this.#registrations.best(procedure);
  }

  /**
   * Handles REGISTER: creates the registration, or joins an existing one
   * when both sides use the same shared invocation policy. A session
   * holding `registrationsPerSession` registrations, or a new registration
   * in a realm holding `registrations`, is refused with
   * `cloverleaf.error.limit_exceeded`.
   *
   * @param session The callee.
   * @param msg The REGISTER message.
   * @returns REGISTERED or ERROR.
   */
  register(session: SessionInfo, msg: RegisterMessage): Outbound[] {
    return this.#refusal(session, msg) ?? this.#add(session, msg);
  }

  /** Why a REGISTER is refused (ERROR), or undefined when it may go on. */
  #refusal(session: SessionInfo, msg: RegisterMessage): Outbound[] | undefined {
    const refuse = (uri: string, why?: string) => [
      errorReply(session.id, msg.type, msg.request, uri, why),
    ];
    const match = msg.options.match ?? "exact";
    const invoke = msg.options.invoke ?? "single";
    if (!this.#validUri(msg.procedure, match) || isReservedUri(msg.procedure)) {
      return refuse(ErrorUri.INVALID_URI);
    }
    if (msg.options.disclose_caller === true && this.#options.discloseCaller === "never") {
      return refuse(ErrorUri.OPTION_NOT_ALLOWED, "this realm never discloses callers");
    }
    const existing = this.#registrations.lookup(msg.procedure, match);
    if (existing !== undefined) {
      if (existing.callees.includes(session.id)) {
        return refuse(ErrorUri.PROCEDURE_ALREADY_EXISTS, "this session already registered it");
      }
      if (existing.invoke === "single" || existing.invoke !== invoke) {
        return refuse(
          ErrorUri.PROCEDURE_ALREADY_EXISTS,
          `registered with invocation policy "${existing.invoke}"`,
        );
      }
    }
    const why = registerOverLimit(this.#registrations, this.#limits, this.#calls.remote, {
      session,
      procedure: msg.procedure,
      match,
      fresh: existing === undefined,
    });
    return why === undefined ? undefined : refuse(ErrorUri.LIMIT_EXCEEDED, why);
  }

  /**
   * Adds the callee of an accepted REGISTER: REGISTERED, or ERROR
   * `not_authorized` when it could capture a trusted procedure
   * (`DealerOptions.untrusted`), and the callee is not added.
   */
  #add(session: SessionInfo, msg: RegisterMessage, at?: number): Outbound[] {
    const match = msg.options.match ?? "exact";
    const invoke = msg.options.invoke ?? "single";
    if (this.#options.untrusted?.(session, msg.procedure, match) === true) {
      const why = `register on "${msg.procedure}" is not allowed`;
      return [errorReply(session.id, msg.type, msg.request, ErrorUri.NOT_AUTHORIZED, why)];
    }
    this.#calls.session(session);
    const remote = this.#calls.remote;
    if (remote !== undefined && at !== undefined) {
      remote.place({ node: remote.hooks.node, session: session.id, at });
    }
    const reg = this.#registrations.add(
      msg.procedure,
      match,
      invoke,
      session.id,
      keptOptions(msg.options),
    );
    remote?.sort(reg.callees);
    return [{
      to: session.id,
      msg: { type: MessageType.REGISTERED, request: msg.request, registration: reg.id },
    }];
  }

  /**
   * Handles UNREGISTER. Invocations already sent may still be answered.
   *
   * @param session The callee.
   * @param msg The UNREGISTER message.
   * @returns UNREGISTERED, or ERROR `no_such_registration`.
   */
  unregister(session: SessionInfo, msg: UnregisterMessage): Outbound[] {
    const reg = this.#registrations.get(msg.registration);
    if (reg === undefined || !reg.callees.includes(session.id)) {
      return [errorReply(session.id, msg.type, msg.request, ErrorUri.NO_SUCH_REGISTRATION)];
    }
    this.#registrations.remove(session.id, reg);
    return [{ to: session.id, msg: { type: MessageType.UNREGISTERED, request: msg.request } }];
  }

  /**
   * Revokes a registration (registration_revocation): its callees lose it,
   * and those that announced the feature get UNREGISTERED with request 0
   * and details `registration` and `reason`. Invocations already sent may
   * still be answered; new calls get `no_such_procedure`.
   *
   * @param id The registration ID.
   * @param reason Why, as a URI or text for the callee.
   * @param callee Revoke only this callee's part of a shared registration.
   * @returns UNREGISTERED messages, empty when there was nothing to revoke.
   */
  revoke(id: number, reason?: string, callee?: number): Outbound[] {
    const reg = this.#registrations.get(id);
    if (reg === undefined) return [];
    const out: Outbound[] = [];
    for (const sessionId of callee === undefined ? [...reg.callees] : [callee]) {
      if (!reg.callees.includes(sessionId)) continue;
      if (this.#calls.get(sessionId)?.features.revocation === true) {
        const details: Dict = { registration: id };
        if (reason !== undefined) details.reason = reason;
        out.push({ to: sessionId, msg: { type: MessageType.UNREGISTERED, request: 0, details } });
      }
      this.#registrations.remove(sessionId, reg);
    }
    return out;
  }

  /**
   * Handles CALL (see {@linkcode Calls.call}): INVOCATION and the call's
   * timer, or ERROR to the caller.
   */
  call(session: SessionInfo, msg: CallMessage, fresh = true, disclose = false): Output {
    return this.#calls.call(session, msg, fresh, disclose);
  }

  /** Handles YIELD (see {@linkcode Calls.yield}). */
  yield(session: SessionInfo, msg: YieldMessage): Output {
    return this.#calls.yield(session, msg);
  }

  /** Handles ERROR for an INVOCATION (see {@linkcode Calls.error}). */
  error(session: SessionInfo, msg: ErrorMessage): Output {
    return this.#calls.error(session, msg);
  }

  /** Handles CANCEL (see {@linkcode Calls.cancel}). */
  cancel(session: SessionInfo, msg: CancelMessage): Output {
    if (this.#calls.remote !== undefined) this.#cluster.cancelling(session.id, msg.request);
    return this.#calls.cancel(session, msg);
  }

  /**
   * Cleans up after a session that left: its registrations go; callers of
   * the invocations it owed get ERROR `wamp.error.canceled` at once; callees
   * still working on its calls get INTERRUPT `killnowait` if they can take
   * it, and their late answers are discarded.
   *
   * @param sessionId The session that left.
   * @returns ERRORs and INTERRUPTs for the other sessions, and the
   * cancellation of the timers of the calls that ended.
   */
  removeSession(sessionId: number): Output {
    const remote = this.#calls.remote;
    if (remote !== undefined) return this.#cluster.removeSession(remote, sessionId);
    for (const reg of this.#registrations.ofCallee(sessionId)) {
      this.#registrations.remove(sessionId, reg);
    }
    return this.#calls.removeSession(sessionId);
  }

  /**
   * Makes this dealer part of a cluster (see `dealer/cluster.ts`): REGISTER
   * claims the shared table first, calls may go to callees on other nodes.
   *
   * @param hooks The node, the realm, and the shared table's claim.
   * @returns The dealer's cluster side, for the shell's inputs.
   */
  joinCluster(hooks: DealerClusterHooks): DealerCluster {
    const remote = new RemoteRpc(hooks, this.#options.now, this.#options.settle);
    this.#calls.remote = remote;
    this.#cluster = new DealerCluster(remote, {
      registrations: this.#registrations,
      calls: this.#calls,
      now: this.#options.now,
      busy: this.#options.busy ?? (() => false),
      settle: this.#options.settle ?? ((out) => out),
      refusal: (session, msg) => this.#refusal(session, msg),
      add: (session, msg, at) => this.#add(session, msg, at),
      revoke: (id, reason, callee) => this.revokeRequest(id, reason, callee),
    });
    return this.#cluster;
  }

  /**
   * Handles REGISTER as a request: {@linkcode Dealer.register}, or in a
   * cluster, a claim of the shared table first (a task), then REGISTERED.
   *
   * @returns REGISTERED or ERROR, or the claim.
   */
  registerRequest(session: SessionInfo, msg: RegisterMessage): Output {
    if (this.#calls.remote === undefined) return messagesOnly(this.register(session, msg));
    return this.#refused(session, msg) ?? this.#cluster.claim(session, msg);
  }

  /** {@linkcode Dealer.unregister} as a request (in a cluster, the shared table too). */
  unregisterRequest(session: SessionInfo, msg: UnregisterMessage): Output {
    const remote = this.#calls.remote;
    const reg = remote === undefined ? undefined : this.#registrations.get(msg.registration);
    // Only a callee of it leaves the shared table (another session's UNREGISTER is refused).
    const callee = reg?.callees.includes(session.id) === true;
    const out = messagesOnly(this.unregister(session, msg));
    if (!callee || reg!.callees.includes(session.id)) return out;
    return {
      messages: out.messages,
      effects: [remote!.release(reg.procedure, reg.match, session.id)],
    };
  }

  /**
   * {@linkcode Dealer.revoke} as an output: in a cluster, the revoked local
   * callees leave the shared table too, and another node's callee is
   * revoked by its node (the table, hence every node's view, follows).
   */
  revokeRequest(id: number, reason?: string, callee?: number): Output {
    const remote = this.#calls.remote;
    const reg = this.#registrations.get(id);
    if (remote === undefined || reg === undefined) {
      return messagesOnly(this.revoke(id, reason, callee));
    }
    const out: OutputBuilder = { messages: [], effects: [] };
    for (const s of callee === undefined ? [...reg.callees] : [callee]) {
      const elsewhere = remote.callees.get(s)?.node;
      if (elsewhere !== undefined && reg.callees.includes(s)) {
        out.effects.push(remote.revokeAt(elsewhere, reg.procedure, reg.match, s, reason));
      } else if (reg.callees.includes(s)) {
        out.messages.push(...this.revoke(id, reason, s));
        out.effects.push(remote.release(reg.procedure, reg.match, s));
      }
    }
    return out;
  }

  #refused(session: SessionInfo, msg: RegisterMessage): Output | undefined {
    const refused = this.#refusal(session, msg);
    return refused === undefined ? undefined : messagesOnly(refused);
  }

  #validUri(uri: string, match: MatchPolicy): boolean {
    return isValidUri(uri, { strict: this.#options.strictUris ?? false, match });
  }
}
