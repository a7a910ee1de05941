/**
 * Procedure reflection (spec "Interface Reflection", a sketch): the router
 * serves `wamp.reflection.procedure.list` and `.describe`, and callees attach
 * a description to their procedure with `wamp.reflect.define`.
 *
 * The spec defines no payload shapes; Cloverleaf's are:
 * - `wamp.reflection.procedure.list()` → `[[uri, …]]`, the registered
 *   procedures and patterns, sorted (kept in order as they come and go:
 *   a call copies the list), or `cloverleaf.error.limit_exceeded` past
 *   `MAX_LIST_CHARS`, or `wamp.error.payload_size_exceeded` past what the
 *   caller can receive (`mergedUris`);
 * - `wamp.reflection.procedure.describe(uri)` → kwargs `{ procedure, match,
 *   invoke, created, callees, description? }` for the registration a call
 *   to `uri` reaches (or the pattern itself), else `no_such_procedure`;
 * - `wamp.reflect.define(uri, description)` (kwargs `match` to name a
 *   pattern registration) → sets the description of a registration the
 *   calling session serves, else `no_such_registration`; at most 64 KiB
 *   (estimated), within the realm's limits `descriptionBytesPerSession`
 *   and `descriptionBytes` (`descriptions.ts`), else
 *   `cloverleaf.error.limit_exceeded`.
 *
 * @module
 */

import {
  type Dict,
  ErrorUri,
  isMatchPolicy,
  type MatchPolicy,
  ReflectionUri,
} from "../../../wamp/mod.ts";
import type { Dealer, Registration, RegistrationObserver } from "./dealer.ts";
import { type DescriptionLimits, Descriptions } from "./descriptions.ts";
import type { RpcEnvelope } from "./remote.ts";
import { CallError } from "../errors.ts";
import { keptPayloadSize } from "../limits.ts";
import { mergedUris, type RouterProcedures } from "../procedures.ts";
import { SortedUris } from "../sorted_uris.ts";
import type { Effect } from "../output.ts";

/** In cluster mode, the realm's queue of effects for the shell (its broker's `sharing`). */
export type ReflectionCluster = () =>
  | { readonly realm: string; queue(effect: Effect): void }
  | undefined;

/** The largest description `wamp.reflect.define` keeps (estimated bytes). */
const MAX_DESCRIPTION_BYTES = 64 * 1024;

/**
 * What procedure reflection keeps beside the dealer, fed by the observer
 * {@linkcode ProcedureCatalog.watching} gives the dealer: the registered
 * procedures in order, and the descriptions' costs.
 */
export class ProcedureCatalog {
  /** The procedures and patterns registered, in order. */
  readonly uris: SortedUris = new SortedUris();
  /** What the descriptions cost whom, against the realm's limits. */
  readonly descriptions: Descriptions;

  /**
   * Creates an empty catalog.
   *
   * @param limits The realm's limits (`descriptionBytesPerSession`,
   * `descriptionBytes`).
   */
  constructor(limits?: DescriptionLimits) {
    this.descriptions = new Descriptions(limits);
  }

  /**
   * The observer to give the dealer: keeps the catalog as registrations
   * come and go, then tells `observer`.
   *
   * @param observer The observer told next (the registration meta events).
   * @returns The dealer's observer.
   */
  watching(observer?: RegistrationObserver): RegistrationObserver {
    const next = this.descriptions.watching(observer);
    return {
      registered: (callee, reg, created) => {
        if (created) this.uris.add(reg.procedure);
        next.registered(callee, reg, created);
      },
      unregistered: (callee, reg, deleted) => {
        if (deleted) this.uris.delete(reg.procedure);
        next.unregistered(callee, reg, deleted);
      },
      described: next.described!,
    };
  }
}

/**
 * The reflection procedures over a dealer, keyed by URI, for
 * `Realm.provide`.
 *
 * @param dealer The realm's dealer.
 * @param catalog What the dealer's observer keeps for them
 * ({@linkcode ProcedureCatalog.watching}).
 * @param cluster In cluster mode, where a definition goes to the shared
 * registration table, so that every node describes the procedure.
 * @returns URI → handler.
 */
export function procedureReflection(
  dealer: Dealer,
  catalog: ProcedureCatalog,
  cluster: ReflectionCluster = () => undefined,
): RouterProcedures {
  const find = (uri: unknown, match: unknown): Registration | undefined => {
    if (typeof uri !== "string") throw new CallError(ErrorUri.INVALID_ARGUMENT, "expected a URI");
    if (match === undefined) return dealer.match(uri) ?? exactly(dealer, uri);
    return isMatchPolicy(match) ? exactly(dealer, uri, match) : undefined;
  };
  return {
    [ReflectionUri.PROCEDURE_LIST]: (caller) => ({
      args: [mergedUris([catalog.uris], "procedures", caller.sendLimit)],
    }),
    [ReflectionUri.PROCEDURE_DESCRIBE]: (_caller, args, kwargs) => {
      const reg = find(args[0], kwargs.match);
      if (reg === undefined) throw new CallError(ErrorUri.NO_SUCH_PROCEDURE);
      return { kwargs: describe(reg) };
    },
    [ReflectionUri.DEFINE]: (caller, args, kwargs) => {
      const match = kwargs.match ?? "exact";
      const reg = isMatchPolicy(match) ? exactly(dealer, args[0], match) : undefined;
      const description = args[1];
      if (reg === undefined || !reg.callees.includes(caller.id)) {
        throw new CallError(
          ErrorUri.NO_SUCH_REGISTRATION,
          "only a callee of the procedure may define it",
        );
      }
      if (typeof description !== "object" || description === null || Array.isArray(description)) {
        throw new CallError(ErrorUri.INVALID_ARGUMENT, "the description must be a dict");
      }
      const size = keptPayloadSize([description], MAX_DESCRIPTION_BYTES);
      if (size > MAX_DESCRIPTION_BYTES) {
        const why = `the description must be at most ${MAX_DESCRIPTION_BYTES} bytes`;
        throw new CallError(ErrorUri.INVALID_ARGUMENT, why);
      }
      const refused = catalog.descriptions.define(caller, reg, description as Dict, size);
      if (refused !== undefined) throw new CallError(ErrorUri.LIMIT_EXCEEDED, refused);
      const queue = cluster();
      queue?.queue({
        kind: "cluster",
        node: "",
        envelope: {
          k: "define",
          realm: queue.realm,
          procedure: reg.procedure,
          match: reg.match,
          description: description as Dict,
          session: caller.id,
        } satisfies RpcEnvelope,
      });
      return {};
    },
  };
}

function exactly(
  dealer: Dealer,
  uri: unknown,
  match: MatchPolicy = "exact",
): Registration | undefined {
  return typeof uri === "string" ? dealer.lookup(uri, match) : undefined;
}

function describe(reg: Registration): Dict {
  const out: Dict = {
    procedure: reg.procedure,
    match: reg.match,
    invoke: reg.invoke,
    created: reg.created,
    callees: reg.callees.length,
  };
  if (reg.description !== undefined) out.description = reg.description;
  return out;
}
