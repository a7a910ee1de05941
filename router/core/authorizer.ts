/**
 * Authorization per realm role, in Crossbar's vocabulary: a role has
 * permissions `{ uri, match, allow: { call, register, publish, subscribe },
 * disclose: { caller, publisher } }`, and the most specific permission for
 * a URI decides (exact, then the longest prefix, then the best wildcard
 * pattern); or a dynamic authorizer (a procedure the router calls as
 * `authorize(session, uri, action, options)`, or a function) answering
 * allow/deny and optionally disclose and cache.
 *
 * A realm without roles allows everything. Once it has roles, anything
 * not allowed is denied, including sessions whose role is not listed, and
 * the meta procedures and topics obey the same rules. The router's own
 * internal session is never checked.
 *
 * A pattern request (SUBSCRIBE or REGISTER with `match: "prefix"` or
 * `"wildcard"`) is allowed only when the role is allowed the action for
 * every URI the pattern can match (see {@linkcode patternAllowed}). A
 * dynamic authorizer gets the request's options, `match` included, and must
 * check it itself: allowing the URI string of a pattern allows everything
 * the pattern matches. Its cached decisions are kept per action, match and
 * URI.
 *
 * @module
 */

import type { Dict } from "../../wamp/mod.ts";
import type { RouterCallDone } from "./internal_session.ts";
import { MatchIndex } from "./match_index.ts";
import {
  append,
  type ArmTimer,
  type Effect,
  NOTHING,
  type Output,
  output,
  type RunTask,
} from "./output.ts";
import {
  type Action,
  captures,
  type Decision,
  decisionOf,
  type DynamicAuthorizer,
  patternAllowed,
  type Permission,
  requestMatch,
  type RoleOptions,
} from "./permissions.ts";
import { AuthorizerFailures } from "./authorizer_failures.ts";
import { ASKED_BYTES, keptPayloadSize } from "./limits.ts";
import type { Logger, SessionInfo } from "./types.ts";

export {
  type Action,
  type Decision,
  type DynamicAuthorizer,
  patternAllowed,
  type Permission,
  resolveRole,
  type RoleOptions,
} from "./permissions.ts";

/**
 * Calls a procedure as the router, in the named realm (or the realm
 * itself), and continues with its outcome; `started`, once the call is
 * out, gets what cancels it (the session that asked left).
 */
export type AuthorizerCall = (
  realm: string | undefined,
  procedure: string,
  args: unknown[],
  kwargs: Dict,
  done: RouterCallDone,
  started?: (cancel: () => Output) => void,
) => Output;

/**
 * A decision a dynamic authorizer still has to make: `start(then)` returns
 * the effects that ask it (a task for a function, a router call for a
 * procedure, and a timer: silence after 10 seconds denies, the first of
 * the two wins); `then` continues with the decision.
 */
export interface PendingDecision {
  /** Asks the dynamic authorizer. */
  start(then: (decision: Decision) => Output): Output;
}

const AUTHORIZER_TIMEOUT = 10_000;
/** How many cached dynamic decisions a session keeps (the oldest goes first). */
const MAX_CACHED_DECISIONS = 1024;
/** How many characters of keys (action, match, URI) a session's cached decisions hold at most. */
const MAX_CACHED_CHARS = 256 * 1024;
/**
 * Dynamic decisions a session may wait for at once (its requests wait in
 * line behind one; the router procedures that check a permission do not):
 * one session must not fill the realm's router calls. Past it: denied.
 */
export const MAX_PENDING_DECISIONS = 16;
const DENY: Decision = { allow: false };
const ALLOW: Decision = { allow: true };

/**
 * The procedures a realm's router calls to authenticate or authorize
 * (dynamic authenticators and authorizers registered in this realm), and
 * the one authrole allowed to register and call them.
 */
export interface TrustedRegistrations {
  /** The authrole that may register and call them. */
  readonly role: string;
  /** Their URIs (may grow as realms naming this one are added). */
  readonly procedures: ReadonlySet<string>;
}

type Rule =
  | { readonly permissions: MatchIndex<Permission>; readonly list: readonly Permission[] }
  | { readonly authorizer: DynamicAuthorizer }
  | { readonly procedure: string; readonly realm: string | undefined };

/** The authorization rules of one realm. */
export class Authorizer {
  #rules = new Map<string, Rule>();
  #cache = new Map<number, { readonly decisions: Map<string, Decision>; chars: number }>();
  /** Dynamic decisions pending, by session (none once the session is forgotten). */
  #pending = new Map<number, number>();
  /** Procedure authorizers' calls still out, by session: cancelled when it leaves. */
  #calls = new Map<number, Set<() => Output>>();
  #trusted: TrustedRegistrations | undefined;
  #call: AuthorizerCall;
  #log: Logger;
  #failures: AuthorizerFailures;

  /**
   * Creates the rules.
   *
   * @param roles The realm's roles (none: everything is allowed).
   * @param call How the router calls authorizer procedures.
   * @param trusted The authenticator and authorizer procedures of the
   * realm: a REGISTER that could capture one of them (exactly or by
   * pattern) is denied unless the session has the trusted role, even in a
   * realm without roles.
   * @param log Where a dynamic authorizer that fails, is not registered or
   * does not answer in time is logged (at `warn`: every request it should
   * decide is denied).
   */
  constructor(
    roles: readonly RoleOptions[],
    call: AuthorizerCall,
    trusted?: TrustedRegistrations,
    log: Logger = () => {},
  ) {
    this.#trusted = trusted;
    this.#call = call;
    this.#log = log;
    this.#failures = new AuthorizerFailures(log);
    for (const role of roles) {
      const authorizer = role.authorizer;
      if (authorizer !== undefined) {
        this.#rules.set(
          role.name,
          typeof authorizer === "function"
            ? { authorizer }
            : { procedure: authorizer, realm: role.authorizerRealm },
        );
        continue;
      }
      const permissions = new MatchIndex<Permission>();
      for (const permission of role.permissions ?? []) {
        permissions.set(permission.uri, permission.match ?? "exact", permission);
      }
      this.#rules.set(role.name, { permissions, list: [...permissions.values()] });
    }
  }

  /**
   * Whether everything is allowed: the realm has no roles, and no
   * authenticator or authorizer procedure to guard.
   */
  get open(): boolean {
    const trusted = this.#trusted;
    return this.#rules.size === 0 && (trusted === undefined || trusted.procedures.size === 0);
  }

  /**
   * Decides whether a session may act on a URI.
   *
   * @param session The session.
   * @param details Gives a session's details by its ID, for a dynamic
   * authorizer (called only when one has to decide).
   * @param action What it asks to do.
   * @param uri The topic, procedure or pattern.
   * @param options The request's options (`match` makes a SUBSCRIBE or
   * REGISTER a pattern request).
   * @returns The decision, or the {@linkcode PendingDecision} a dynamic
   * authorizer has to make.
   */
  authorize(
    session: SessionInfo,
    details: (sessionId: number) => Dict,
    action: Action,
    uri: string,
    options: Dict,
  ): Decision | PendingDecision {
    if (this.reachesTrusted(session, action, uri, options)) return DENY;
    if (this.#rules.size === 0) return ALLOW;
    const rule = this.#rules.get(session.authrole);
    if (rule === undefined) return DENY;
    const match = requestMatch(action, options);
    if ("permissions" in rule) {
      if (match === undefined) return DENY;
      if (match !== "exact") return patternAllowed(rule.list, action, uri, match) ? ALLOW : DENY;
      const permission = rule.permissions.best(uri);
      if (permission?.allow?.[action] !== true) return DENY;
      const disclose = action === "call"
        ? permission.disclose?.caller
        : action === "publish"
        ? permission.disclose?.publisher
        : undefined;
      return disclose === true ? { allow: true, disclose: true } : ALLOW;
    }
    const key = `${action} ${match} ${uri}`;
    const cached = this.#cache.get(session.id)?.decisions.get(key);
    if (cached !== undefined) return cached;
    return {
      start: (then) => {
        const pending = this.#pending.get(session.id) ?? 0;
        if (pending >= MAX_PENDING_DECISIONS) {
          const why = `${MAX_PENDING_DECISIONS} authorizations pending`;
          return this.#overLimit(session, details, [action, uri, why], then);
        }
        if (keptPayloadSize(options, ASKED_BYTES) > ASKED_BYTES) {
          const why = `options over ${ASKED_BYTES} bytes`;
          return this.#overLimit(session, details, [action, uri, why], then);
        }
        this.#pending.set(session.id, pending + 1);
        return this.#ask(rule, session, details(session.id), [uri, action, options], key, then);
      },
    };
  }

  /**
   * A request the dynamic authorizer is not asked about (its session waits
   * for too many decisions, or its options are too large): denied, and
   * logged.
   */
  #overLimit(
    session: SessionInfo,
    details: (sessionId: number) => Dict,
    [action, uri, why]: [Action, string, string],
    then: (decision: Decision) => Output,
  ): Output {
    this.#log(
      "warn",
      `Session ${session.id}: ${why}: ${action} "${uri}" denied`,
      {
        realm: session.realm,
        session: session.id,
        authid: session.authid,
        peer: peerOf(details(session.id)),
        action,
        uri,
        event: "authorization_limit", // a client can cause it at will: limited by the shell's log
      },
    );
    return then(DENY);
  }

  /** A dynamic decision arrived: caches it while the session is still here. */
  #decided(session: number, key: string, decision: Decision): void {
    const pending = this.#pending.get(session);
    if (pending === undefined) return; // forgotten: the session left while it was pending
    if (pending > 1) this.#pending.set(session, pending - 1);
    else this.#pending.delete(session);
    if (decision.cache !== true) return;
    let mine = this.#cache.get(session);
    if (mine === undefined) this.#cache.set(session, mine = { decisions: new Map(), chars: 0 });
    const { decisions } = mine;
    if (!decisions.has(key)) mine.chars += key.length;
    decisions.set(key, decision);
    while (decisions.size > MAX_CACHED_DECISIONS || mine.chars > MAX_CACHED_CHARS) {
      const oldest = decisions.keys().next().value!;
      decisions.delete(oldest);
      mine.chars -= oldest.length;
    }
  }

  /** Asks a dynamic authorizer, racing its answer against the timeout. */
  #ask(
    rule: Exclude<Rule, { readonly permissions: unknown }>,
    session: SessionInfo,
    details: Dict,
    [uri, action, options]: [string, Action, Dict],
    key: string,
    then: (decision: Decision) => Output,
  ): Output {
    let settled = false, failure = false;
    const failed = (error: unknown): Decision => {
      const name = "procedure" in rule ? `procedure "${rule.procedure}"` : "function";
      if (!settled) this.#failures.failed(rule, name, session, action, uri, error);
      failure = true;
      return DENY;
    };
    const timer: ArmTimer = {
      kind: "arm",
      key: {},
      ms: AUTHORIZER_TIMEOUT,
      fire: () => end(failed(`no answer within ${AUTHORIZER_TIMEOUT} ms`)),
    };
    const end = (decision: Decision, cancel?: Effect): Output => {
      if (settled) return NOTHING;
      settled = true;
      if (!failure) this.#failures.decided(rule);
      // A procedure trusted while it decided (a realm added) is not given away by its answer.
      if (this.reachesTrusted(session, action, uri, options)) decision = DENY;
      this.#decided(session.id, key, decision);
      const out = then(decision);
      return cancel === undefined
        ? out
        : { messages: out.messages, effects: [cancel, ...out.effects] };
    };
    const cancel: Effect = { kind: "cancel", key: timer.key };
    if ("authorizer" in rule) {
      const task: RunTask<unknown> = {
        kind: "task",
        run: () => rule.authorizer(details, uri, action, options),
        resume: (result) =>
          end(result.ok ? decisionOf(result.value) : failed(result.error), cancel),
      };
      return { messages: [], effects: [timer, task] };
    }
    // Crossbar's dynamic authorizer call: `authorize(session, uri, action, options)`.
    let stop: (() => Output) | undefined;
    const calls = this.#calls;
    const out = this.#call(rule.realm, rule.procedure, [details, uri, action, options], {}, (r) => {
      const held = stop === undefined ? undefined : calls.get(session.id);
      if (held?.delete(stop!) && held.size === 0) calls.delete(session.id);
      return end(r.ok ? decisionOf(r.value.args?.[0]) : failed(r.error), cancel);
    }, (cancelCall) => {
      stop = () => { // the session left: no decision, no timer, the call cancelled
        settled = true;
        const o = cancelCall();
        return { messages: o.messages, effects: [cancel, ...o.effects] };
      };
      const held = calls.get(session.id);
      if (held === undefined) calls.set(session.id, new Set([stop]));
      else held.add(stop);
    });
    return settled ? out : { messages: out.messages, effects: [timer, ...out.effects] };
  }

  /**
   * Whether a session without the trusted role asks for a trusted
   * procedure: a REGISTER that could capture one (it would answer others'
   * logins or requests), or a CALL of one (an authenticator answers with
   * secrets and roles). The router's own calls do not come through here.
   * The dealer asks it again as it adds a callee (`DealerOptions.untrusted`).
   *
   * @param session The session.
   * @param action What it asks to do.
   * @param uri The procedure or pattern.
   * @param options The request's options (`match`).
   * @returns Whether it is refused for that.
   */
  reachesTrusted(session: SessionInfo, action: Action, uri: string, options: Dict): boolean {
    const trusted = this.#trusted;
    if (trusted === undefined || trusted.procedures.size === 0) return false;
    if (session.authrole === trusted.role) return false;
    if (action === "call") return trusted.procedures.has(uri);
    if (action !== "register") return false;
    for (const procedure of trusted.procedures) {
      if (captures(uri, options.match, procedure)) return true;
    }
    return false;
  }

  /**
   * Forgets a session's cached decisions and any decision it still waits
   * for: a procedure authorizer's call still out for it is cancelled
   * (`killnowait`), its place among the realm's router calls freed.
   *
   * @param sessionId The session, which left.
   * @returns The cancellations.
   */
  forget(sessionId: number): Output {
    this.#cache.delete(sessionId);
    this.#pending.delete(sessionId);
    const calls = this.#calls.get(sessionId);
    if (calls === undefined) return NOTHING;
    this.#calls.delete(sessionId);
    const out = output();
    for (const stop of calls) append(out, stop());
    return out;
  }
}

/** The peer address in a session's details (`transport.peer`), for the log's per-source limit. */
function peerOf(details: Dict): string | undefined {
  const transport = details.transport as Dict | undefined;
  return typeof transport?.peer === "string" ? transport.peer : undefined;
}
