/**
 * The shapes the WAMP Meta API passes around (session, registration and
 * subscription details, kill and testament options), the peer the helpers
 * call through, and the small functions the three helper classes share.
 *
 * @module
 */

import type {
  InvocationPolicy,
  MatchPolicy,
  PublishOptions,
  TransportInfo,
} from "../../wamp/mod.ts";
import type { Result } from "../caller.ts";
import type { Arguments } from "../context.ts";
import type { Event, EventHandler, Subscription } from "../subscription.ts";

/**
 * A session as `wamp.session.get` and `wamp.session.on_join` describe it.
 * Keys added with `wamp.session.modify_details` appear beside these.
 */
export interface SessionDetails {
  /** The session ID. */
  session: number;
  /** The authenticated identity. */
  authid: string;
  /** The authenticated role. */
  authrole: string;
  /** How the session authenticated (`anonymous`, `ticket`, …). */
  authmethod: string;
  /** Who authenticated it. */
  authprovider: string;
  /** The realm joined. */
  realm: string;
  /** The transport under the session. */
  transport: TransportInfo;
  /** Keys added by `wamp.session.modify_details`. */
  [key: string]: unknown;
}

/** A registration as `wamp.registration.get` and `on_create` describe it. */
export interface RegistrationDetails {
  /** The registration ID. */
  id: number;
  /** When it was created, as an ISO 8601 string. */
  created: string;
  /** The procedure URI or pattern. */
  uri: string;
  /** How `uri` matches. */
  match: MatchPolicy;
  /** The shared-registration invocation policy. */
  invoke: InvocationPolicy;
}

/** A subscription as `wamp.subscription.get` and `on_create` describe it. */
export interface SubscriptionDetails {
  /** The subscription ID. */
  id: number;
  /** When it was created, as an ISO 8601 string. */
  created: string;
  /** The topic URI or pattern. */
  uri: string;
  /** How `uri` matches. */
  match: MatchPolicy;
}

/** Registration or subscription IDs per match policy (`….list`). */
export interface MatchLists {
  /** IDs of exact registrations or subscriptions. */
  exact: number[];
  /** IDs of prefix ones. */
  prefix: number[];
  /** IDs of wildcard ones. */
  wildcard: number[];
}

/** Keyword arguments of the `wamp.session.kill*` procedures. */
export interface KillOptions {
  /**
   * The GOODBYE reason the killed sessions get.
   * @default {"wamp.close.normal"}
   */
  reason?: string;
  /** A message for them, sent as GOODBYE.Details.message. */
  message?: string;
}

/** Which testament bucket: published on detach, or on destruction. */
export type TestamentScope = "destroyed" | "detached";

/** Keyword arguments of `wamp.session.add_testament`. */
export interface TestamentOptions {
  /** PUBLISH.Options for the testament (`acknowledge` is ignored). */
  publish_options?: PublishOptions;
  /**
   * The bucket.
   * @default {"destroyed"}
   */
  scope?: TestamentScope;
}

/**
 * What the meta helpers need from a session: `call()` and `subscribe()`,
 * as `Session` has them (a structural type, so any object with these two
 * methods will do).
 */
export interface MetaPeer {
  /**
   * Calls a procedure.
   *
   * @param procedure The procedure URI.
   * @param payload Arguments and keyword arguments.
   * @returns The result.
   */
  call(procedure: string, payload?: Arguments): Promise<Result>;
  /**
   * Subscribes to a topic.
   *
   * @param topic The topic.
   * @param handler Called for each event.
   * @returns The subscription.
   */
  subscribe(topic: string, handler?: EventHandler): Promise<Subscription>;
}

/** The first result argument. */
export function first<T>(result: Result): T {
  return result.args[0] as T;
}

/**
 * The arguments of `wamp.registration.lookup` and
 * `wamp.subscription.lookup`: the URI, then `{ match }` when one is given.
 */
export function lookupArgs(uri: string, match: MatchPolicy | undefined): unknown[] {
  return match === undefined ? [uri] : [uri, { match }];
}

/** Gets `[session, X]` events to a `(session, x, event)` handler. */
export function pairHandler<T>(
  handler: (session: number, value: T, event: Event) => void | Promise<void>,
): (event: Event) => void | Promise<void> {
  return (e) => handler(e.args[0] as number, e.args[1] as T, e);
}
