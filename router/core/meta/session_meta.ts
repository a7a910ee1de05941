/**
 * Session meta API (feature `session_meta_api`): `wamp.session.on_join` and
 * `on_leave`, and the procedures that count, list, describe and (when the
 * realm's `meta.kill` / `meta.modifyDetails` allow it) kill or modify
 * sessions. The router's internal session is never listed.
 *
 * Choices where the spec is silent or implementations differ:
 * - an empty or null authrole filter means no filter (as Crossbar and
 *   nexus do);
 * - kill procedures follow the spec's result shapes (a list for
 *   `kill_by_authid`, a count otherwise) and its default reason
 *   (`wamp.close.normal`), and always spare the caller (Crossbar's
 *   `kill_by_authrole` does not);
 * - `modify_details` changes what the meta API reports, never the
 *   identity: `session`, `realm`, `transport` and the `auth*` keys are
 *   refused.
 *
 * @module
 */

import {
  CloseUri,
  type Dict,
  ErrorUri,
  isValidUri,
  MetaProcedure,
  MetaTopic,
  type Payload,
} from "../../../wamp/mod.ts";
import type { MetaOptions } from "../realm_options.ts";
import { transportDict } from "../auth/authenticator.ts";
import { CallError } from "../errors.ts";
import { keptPayloadSize } from "../limits.ts";
import { append, type Output, output } from "../output.ts";
import { deferred, type DeferredPayload, type RouterProcedures } from "../procedures.ts";
import type { RealmMember, SessionInfo } from "../types.ts";
import { dictArg, idArg, isDict, optionalString, stringArg, stringListArg } from "./args.ts";
import type { MetaEvents } from "./events.ts";
import { SessionCluster, type SessionClusterHooks } from "./cluster_sessions.ts";
import type { SharedSubscription } from "./remote_subscriptions.ts";

/** What the session meta API needs from its realm. */
export interface SessionDirectory {
  /** The joined sessions. */
  members(): Iterable<RealmMember>;
  /** A joined session by ID. */
  member(id: number): RealmMember | undefined;
  /**
   * Removes a session from the realm and has it closed with GOODBYE.
   *
   * @param quiet Fire no meta or testament events for it.
   * @returns What its removal sends, and the effect that closes it.
   */
  kill(id: number, reason: string, message: string | undefined, quiet: boolean): Output;
}

/** Who a session is, for the filters of the list and kill procedures. */
interface Identity {
  readonly authid: string;
  readonly authrole: string;
}

/** The estimated size (`keptPayloadSize`) a session's details set by `modify_details` may reach. */
export const MAX_CUSTOM_DETAILS = 64 * 1024;

/**
 * The longest kill `message`, in characters: it goes to the killed
 * session's GOODBYE, and to its node in a cluster (a longer one could not
 * be sent there, and those sessions would stay).
 */
export const MAX_KILL_MESSAGE = 4096;

/** Keys `wamp.session.modify_details` may not change. */
const IDENTITY_KEYS: ReadonlySet<string> = new Set([
  "session",
  "realm",
  "transport",
  "authid",
  "authrole",
  "authmethod",
  "authprovider",
  "authextra",
]);

/** The session meta API of one realm. */
export class SessionMeta {
  #directory: SessionDirectory;
  #options: Required<MetaOptions>;
  #events: MetaEvents;
  #custom = new Map<number, Dict>();
  #cluster: SessionCluster | undefined;

  /**
   * Creates the session meta API.
   *
   * @param directory The realm's sessions.
   * @param options Which optional procedures to serve.
   * @param events Where meta events go.
   */
  constructor(directory: SessionDirectory, options: Required<MetaOptions>, events: MetaEvents) {
    this.#directory = directory;
    this.#options = options;
    this.#events = events;
  }

  /**
   * A session's details as `on_join` and `wamp.session.get` report them.
   *
   * @param member The session.
   * @returns `{session, authid, authrole, authmethod, authprovider, realm,
   * transport}` and any keys set through `modify_details`.
   */
  details(member: RealmMember): Dict {
    const info = member.info;
    return {
      ...this.#custom.get(info.id),
      session: info.id,
      authid: info.authid,
      authrole: info.authrole,
      authmethod: info.authmethod,
      authprovider: info.authprovider,
      realm: info.realm,
      transport: transportDict(member.peer.info),
    };
  }

  /**
   * Cluster mode: the sessions of other nodes join this API's view, and
   * this node's sessions theirs (see `cluster_sessions.ts`).
   *
   * @param hooks The shell's hooks.
   * @param settle Completes an output (the realm's).
   * @param subscriptions This node's subscriptions (for snapshots).
   * @returns The cluster side, for the shell.
   */
  joinCluster(
    hooks: SessionClusterHooks,
    settle: (out: Output) => Output,
    subscriptions: () => SharedSubscription[],
  ): SessionCluster {
    this.#cluster = new SessionCluster(hooks, {
      events: this.#events,
      local: () => [...this.#directory.members()].map((m) => this.details(m)),
      subscriptions,
      kill: (ids, reason, message, quiet) => {
        const out = output();
        for (const id of ids) append(out, this.#directory.kill(id, reason, message, quiet));
        return out;
      },
      modify: (id, details) => {
        const member = this.#directory.member(id);
        if (member === undefined) return ErrorUri.NO_SUCH_SESSION;
        if (!this.#modify(id, details)) return ErrorUri.LIMIT_EXCEEDED; // the change is not made
        this.#cluster?.joined(this.details(member));
        return undefined;
      },
      settle,
    });
    return this.#events.share = this.#cluster;
  }

  /** Publishes `wamp.session.on_join` (and, in a cluster, tells the other nodes). */
  joined(member: RealmMember): void {
    this.#events.publish(MetaTopic.SESSION_ON_JOIN, () => [this.details(member)]);
    this.#cluster?.joined(this.details(member));
  }

  /**
   * Publishes `wamp.session.on_leave` and forgets the session (in a
   * cluster, tells the other nodes; `quiet`: they fire no `on_leave`).
   */
  left(info: SessionInfo, quiet = false): void {
    this.#custom.delete(info.id);
    this.#events.publish(MetaTopic.SESSION_ON_LEAVE, () => [info.id, info.authid, info.authrole]);
    this.#cluster?.left(info, quiet);
  }

  /** The procedures, keyed by URI, for `Realm.provide`. */
  procedures(): RouterProcedures {
    const procedures: RouterProcedures = {
      [MetaProcedure.SESSION_COUNT]: (_caller, args) => ({
        args: [this.#matching(stringListArg(args, 0, "filter_authroles")).length],
      }),
      [MetaProcedure.SESSION_LIST]: (_caller, args) => ({
        args: [this.#matching(stringListArg(args, 0, "filter_authroles"))],
      }),
      [MetaProcedure.SESSION_GET]: (_caller, args) => {
        const id = idArg(args, 0, "session");
        const remote = this.#cluster?.session(id);
        return {
          args: [remote === undefined ? this.details(this.#get(id)) : { ...remote.details }],
        };
      },
    };
    if (this.#options.kill) Object.assign(procedures, this.#killProcedures());
    if (this.#options.modifyDetails) {
      procedures[MetaProcedure.SESSION_MODIFY_DETAILS] = (_caller, args) => {
        const id = idArg(args, 0, "session");
        const delta = dictArg(args, 1, "details");
        const remote = this.#cluster?.session(id);
        if (remote !== undefined) return this.#modifyRemote(remote.node, id, delta);
        const member = this.#get(id);
        if (!this.#modify(member.info.id, delta)) throw tooLarge();
        this.#cluster?.joined(this.details(member));
        return {};
      };
    }
    return procedures;
  }

  /** The kill procedures: each answers after the sessions have left (its RESULT follows their removal). */
  #killProcedures(): RouterProcedures {
    return {
      [MetaProcedure.SESSION_KILL]: (caller, args, kwargs) => {
        const id = idArg(args, 0, "session");
        if (id === caller.id) {
          throw new CallError(ErrorUri.NO_SUCH_SESSION, "a session cannot kill itself");
        }
        if (this.#cluster?.session(id) === undefined) this.#get(id);
        return this.#kill([id], kwargs, false, () => ({}));
      },
      [MetaProcedure.SESSION_KILL_BY_AUTHID]: (caller, args, kwargs) => {
        const authid = stringArg(args, 0, "authid");
        const ids = this.#others(caller, (d) => d.authid === authid);
        return this.#kill(ids, kwargs, false, () => ({ args: [ids] }));
      },
      [MetaProcedure.SESSION_KILL_BY_AUTHROLE]: (caller, args, kwargs) => {
        const authrole = stringArg(args, 0, "authrole");
        const ids = this.#others(caller, (d) => d.authrole === authrole);
        return this.#kill(ids, kwargs, false, () => ({ args: [ids.length] }));
      },
      [MetaProcedure.SESSION_KILL_ALL]: (caller, _args, kwargs) => {
        const ids = this.#others(caller, () => true);
        return this.#kill(ids, kwargs, true, () => ({ args: [ids.length] }));
      },
    };
  }

  #get(id: number): RealmMember {
    const member = this.#directory.member(id);
    if (member === undefined) throw new CallError(ErrorUri.NO_SUCH_SESSION, `no session ${id}`);
    return member;
  }

  #matching(authroles: string[] | undefined): number[] {
    // A set: a list of many roles, tested against every session, cost a CALL 1.5 ms at 10,000.
    const roles = authroles && new Set(authroles);
    return this.#others(undefined, (d) => roles === undefined || roles.has(d.authrole));
  }

  /** The sessions (all nodes') other than the caller that pass `test`. */
  #others(caller: SessionInfo | undefined, test: (who: Identity) => boolean): number[] {
    const ids: number[] = [];
    for (const { info } of this.#directory.members()) {
      if (info.id !== caller?.id && test(info)) ids.push(info.id);
    }
    for (const { details } of this.#cluster?.sessions() ?? []) {
      const who = { authid: String(details.authid), authrole: String(details.authrole) };
      if (test(who)) ids.push(details.session as number);
    }
    return ids;
  }

  /** Kills sessions after checking the reason, then answers with `result`. */
  #kill(ids: number[], kwargs: Dict, quiet: boolean, result: () => Payload): DeferredPayload {
    // The spec's default kill reason ("Session Meta API", wamp.session.kill).
    const reason = optionalString(kwargs, "reason") ?? CloseUri.NORMAL;
    if (!isValidUri(reason)) {
      throw new CallError(ErrorUri.INVALID_URI, `"${reason}" is not a valid reason URI`);
    }
    const message = optionalString(kwargs, "message");
    if (message !== undefined && message.length > MAX_KILL_MESSAGE) {
      throw new CallError(
        ErrorUri.INVALID_ARGUMENT,
        `"message" may take at most ${MAX_KILL_MESSAGE} characters`,
      );
    }
    return deferred((reply) => {
      const out = output();
      const remote = new Map<string, number[]>();
      for (const id of ids) {
        const node = this.#cluster?.session(id)?.node;
        if (node === undefined) append(out, this.#directory.kill(id, reason, message, quiet));
        else {
          const list = remote.get(node);
          if (list === undefined) remote.set(node, [id]);
          else list.push(id);
        }
      }
      if (remote.size === 0) return append(out, reply(result));
      // Sessions of other nodes: their nodes kill them; the answer waits for all.
      const hooks = this.#cluster!.hooks;
      out.effects.push({
        kind: "task",
        run: () => hooks.kill(remote, reason, message, quiet),
        resume: (killed) =>
          reply(() => {
            if (killed.ok) return result();
            throw new CallError(
              ErrorUri.CLUSTER_UNAVAILABLE,
              "a node of the sessions could not be reached, or did not answer in time",
            );
          }),
      });
      return out;
    });
  }

  /** A session of another node: its node applies the change, then the answer comes. */
  #modifyRemote(node: string, id: number, delta: Dict): DeferredPayload {
    checkDelta(delta);
    // The details it would add could not fit: refused here, as its node would (and it may not
    // be possible to send it there).
    if (keptPayloadSize([delta], MAX_CUSTOM_DETAILS) > MAX_CUSTOM_DETAILS) throw tooLarge();
    const hooks = this.#cluster!.hooks;
    return deferred((reply) => ({
      messages: [],
      effects: [{
        kind: "task",
        run: () => hooks.modify(node, id, delta),
        resume: (refused) =>
          reply(() => {
            if (!refused.ok) { // not sent, or not answered in time: not known to be refused
              throw new CallError(
                ErrorUri.CLUSTER_UNAVAILABLE,
                `the node of session ${id} could not be reached, or did not answer in time`,
              );
            }
            if (refused.value === undefined) return {};
            if (refused.value === ErrorUri.LIMIT_EXCEEDED) throw tooLarge();
            throw new CallError(ErrorUri.NO_SUCH_SESSION, `no session ${id}`);
          }),
      }],
    }));
  }

  /** Applies a delta to a session's own details; false when they would grow past the limit. */
  #modify(id: number, delta: Dict): boolean {
    checkDelta(delta);
    const custom = { ...this.#custom.get(id) };
    for (const [key, value] of Object.entries(delta)) {
      if (value === null) delete custom[key];
      else custom[key] = isDict(value) ? { ...value } : value;
    }
    if (keptPayloadSize([custom], MAX_CUSTOM_DETAILS) > MAX_CUSTOM_DETAILS) return false;
    this.#custom.set(id, custom);
    return true;
  }
}

/** The error of a `modify_details` that would grow a session's details past the limit. */
function tooLarge(): CallError {
  return new CallError(
    ErrorUri.LIMIT_EXCEEDED,
    `a session's modified details may take at most ${MAX_CUSTOM_DETAILS} bytes`,
  );
}

/** Refuses a `modify_details` delta that touches the session's identity. */
function checkDelta(delta: Dict): void {
  for (const key of Object.keys(delta)) {
    if (IDENTITY_KEYS.has(key)) {
      throw new CallError(ErrorUri.INVALID_ARGUMENT, `details.${key} cannot be modified`);
    }
  }
}
