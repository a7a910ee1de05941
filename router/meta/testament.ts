/**
 * Session testaments (feature `testament_meta_api`): events a session
 * leaves behind. `wamp.session.add_testament` stores one in the caller's
 * `detached` or `destroyed` bucket; when the session leaves (GOODBYE, a
 * kill, or a lost transport) the router publishes the `detached` bucket,
 * then the `destroyed` one, each in the order added, as the session
 * itself with the stored publish options (`acknowledge` ignored). Without
 * session resumption, detaching and destroying happen together.
 *
 * Adding a testament needs the realm's permission to publish on its topic
 * (checked then, with the stored options); when it fires, the session is
 * gone and nothing is checked again. Both procedures return nothing, as
 * the spec says (Crossbar returns a publication ID and a count).
 *
 * @module
 */

import {
  type Dict,
  ErrorUri,
  invalidOptionKey,
  isReservedUri,
  isValidUri,
  MessageType,
  MetaProcedure,
} from "../../wamp/mod.ts";
import type { Decision } from "../authorizer.ts";
import { CallError } from "../errors.ts";
import { usesPassthru } from "../passthru.ts";
import { PublishFilter } from "../publish_filter.ts";
import type { RouterProcedure } from "../realm.ts";
import type { SessionInfo } from "../types.ts";
import { isDict, optionalString, stringArg } from "./args.ts";
import type { MetaEvents } from "./events.ts";

const ALLOWED: Decision = { allow: true };

/** When a testament is published. */
export type TestamentScope = "detached" | "destroyed";

interface Testament {
  readonly topic: string;
  readonly args: unknown[];
  readonly kwargs: Dict;
  readonly options: Dict;
}

/** Asks the realm's authorizer whether a session may publish on a topic. */
export type PublishCheck = (
  session: SessionInfo,
  topic: string,
  options: Dict,
) => Decision | Promise<Decision>;

/** How many testaments one session may keep per scope. */
export const MAX_TESTAMENTS = 256;

/** The testaments of one realm's sessions. */
export class Testaments {
  #events: MetaEvents;
  #strictUris: boolean;
  #mayPublish: PublishCheck;
  #buckets = new Map<number, Record<TestamentScope, Testament[]>>();

  /**
   * Creates the store.
   *
   * @param events Where testaments are published.
   * @param strictUris Whether topics must use the strict URI rule.
   * @param mayPublish Whether a session may publish on a topic.
   */
  constructor(events: MetaEvents, strictUris: boolean, mayPublish: PublishCheck = () => ALLOWED) {
    this.#events = events;
    this.#strictUris = strictUris;
    this.#mayPublish = mayPublish;
  }

  /**
   * Publishes a session's testaments (detached, then destroyed) and
   * forgets them.
   *
   * @param session The session that left.
   */
  fire(session: SessionInfo): void {
    const buckets = this.#buckets.get(session.id);
    if (buckets === undefined) return;
    this.#buckets.delete(session.id);
    for (const scope of ["detached", "destroyed"] as const) {
      for (const { topic, args, kwargs, options } of buckets[scope]) {
        this.#events.publishAs(session, topic, args, kwargs, options);
      }
    }
  }

  /** `add_testament` and `flush_testaments`, keyed by URI. */
  procedures(): Record<string, RouterProcedure> {
    return {
      [MetaProcedure.SESSION_ADD_TESTAMENT]: (caller, args, kwargs) => {
        const scope = scopeOf(kwargs);
        const testament = this.#testament(args, kwargs);
        const add = ({ allow }: Decision) => {
          if (!allow) {
            throw new CallError(
              ErrorUri.NOT_AUTHORIZED,
              `publish on "${testament.topic}" is not allowed`,
            );
          }
          const bucket = this.#bucket(caller.id, scope);
          if (bucket.length >= MAX_TESTAMENTS) {
            throw new CallError(
              ErrorUri.INVALID_ARGUMENT,
              `a session may keep at most ${MAX_TESTAMENTS} testaments per scope`,
            );
          }
          bucket.push(testament);
          return {};
        };
        const decision = this.#mayPublish(caller, testament.topic, testament.options);
        return decision instanceof Promise ? decision.then(add) : add(decision);
      },
      [MetaProcedure.SESSION_FLUSH_TESTAMENTS]: (caller, _args, kwargs) => {
        this.#bucket(caller.id, scopeOf(kwargs)).length = 0;
        return {};
      },
    };
  }

  #bucket(sessionId: number, scope: TestamentScope): Testament[] {
    let buckets = this.#buckets.get(sessionId);
    if (buckets === undefined) {
      this.#buckets.set(sessionId, buckets = { detached: [], destroyed: [] });
    }
    return buckets[scope];
  }

  #testament(args: unknown[], kwargs: Dict): Testament {
    const topic = stringArg(args, 0, "topic");
    if (!isValidUri(topic, { strict: this.#strictUris }) || isReservedUri(topic)) {
      throw new CallError(
        ErrorUri.INVALID_URI,
        `"${topic}" is not a topic a session may publish to`,
      );
    }
    const payload = args[1] ?? [];
    const keywords = args[2] ?? {};
    const options = kwargs.publish_options ?? {};
    if (!Array.isArray(payload)) throw invalid("args[1] (args) must be a list");
    if (!isDict(keywords)) throw invalid("args[2] (kwargs) must be a dict");
    if (!isDict(options)) throw invalid("kwargs.publish_options must be a dict");
    const bad = invalidOptionKey(MessageType.PUBLISH, options);
    if (bad !== undefined) throw invalid(`publish_options.${bad} has the wrong type`);
    const filter = PublishFilter.from(options);
    if (typeof filter === "string") throw invalid(`publish_options.${filter} must be a list`);
    if (usesPassthru(options)) throw invalid("payload passthru is not available for testaments");
    return { topic, args: payload, kwargs: keywords, options };
  }
}

function scopeOf(kwargs: Dict): TestamentScope {
  const scope = optionalString(kwargs, "scope") ?? "destroyed";
  if (scope !== "detached" && scope !== "destroyed") {
    throw invalid(`kwargs.scope must be "detached" or "destroyed", not "${scope}"`);
  }
  return scope;
}

function invalid(message: string): CallError {
  return new CallError(ErrorUri.INVALID_ARGUMENT, message);
}
