/**
 * Registration meta API (feature `registration_meta_api`): the dealer's
 * observer publishes `wamp.registration.on_create` (before `on_register`)
 * and `on_delete` (after `on_unregister`), and the procedures read the
 * dealer's table.
 *
 * @module
 */

import { type Dict, ErrorUri, MetaProcedure, MetaTopic } from "../../../wamp/mod.ts";
import type { Dealer } from "../dealer/dealer.ts";
import { CallError } from "../errors.ts";
import type { RouterProcedures } from "../procedures.ts";
import type { Registration, RegistrationObserver } from "../dealer/registrations.ts";
import { dictArg, idArg, matchOption, stringArg } from "./args.ts";
import type { MetaEvents } from "./events.ts";

/** RegistrationDetails as the meta API reports them. */
export function registrationDetails(reg: Registration): Dict {
  return {
    id: reg.id,
    created: reg.created,
    uri: reg.procedure,
    match: reg.match,
    invoke: reg.invoke,
  };
}

/**
 * The observer that publishes registration meta events.
 *
 * @param events Where meta events go.
 * @returns An observer for the dealer.
 */
export function registrationEvents(events: MetaEvents): RegistrationObserver {
  return {
    registered(callee, reg, created) {
      if (created) {
        events.publish(MetaTopic.REGISTRATION_ON_CREATE, () => [callee, registrationDetails(reg)]);
      }
      events.publish(MetaTopic.REGISTRATION_ON_REGISTER, () => [callee, reg.id]);
    },
    unregistered(callee, reg, deleted) {
      events.publish(MetaTopic.REGISTRATION_ON_UNREGISTER, () => [callee, reg.id]);
      if (deleted) events.publish(MetaTopic.REGISTRATION_ON_DELETE, () => [callee, reg.id]);
    },
  };
}

/**
 * The registration meta procedures over a dealer, keyed by URI.
 *
 * @param dealer The realm's dealer.
 * @returns URI → handler, for `Realm.provide`.
 */
export function registrationProcedures(dealer: Dealer): RouterProcedures {
  const get = (args: unknown[]): Registration => {
    const id = idArg(args, 0, "registration");
    const reg = dealer.registration(id);
    if (reg === undefined) {
      throw new CallError(ErrorUri.NO_SUCH_REGISTRATION, `no registration ${id}`);
    }
    return reg;
  };
  return {
    [MetaProcedure.REGISTRATION_LIST]: () => {
      const lists: Record<string, number[]> = { exact: [], prefix: [], wildcard: [] };
      for (const reg of dealer.registrations()) lists[reg.match]!.push(reg.id);
      return { args: [lists] };
    },
    [MetaProcedure.REGISTRATION_LOOKUP]: (_caller, args) => {
      const procedure = stringArg(args, 0, "procedure");
      const match = matchOption(dictArg(args, 1, "options"));
      return { args: [dealer.lookup(procedure, match)?.id ?? null] };
    },
    [MetaProcedure.REGISTRATION_MATCH]: (_caller, args) => ({
      args: [dealer.match(stringArg(args, 0, "procedure"))?.id ?? null],
    }),
    [MetaProcedure.REGISTRATION_GET]: (_caller, args) => ({
      args: [registrationDetails(get(args))],
    }),
    [MetaProcedure.REGISTRATION_LIST_CALLEES]: (_caller, args) => ({
      args: [[...get(args).callees]],
    }),
    [MetaProcedure.REGISTRATION_COUNT_CALLEES]: (_caller, args) => ({
      args: [get(args).callees.length],
    }),
  };
}
