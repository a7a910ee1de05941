/**
 * `cloverleaf meta`: the realm's sessions, registrations and
 * subscriptions through the WAMP Meta API, one JSON line each.
 *
 * @module
 */

import { ApplicationError, type MatchLists, type Session } from "../../client/mod.ts";
import { type ClientCommand, printJson, UsageError } from "./common.ts";
import { type ConnectFlags, join } from "./connect.ts";

const WHAT = ["sessions", "session", "registrations", "subscriptions"] as const;

function ids(lists: MatchLists): number[] {
  return [...lists.exact, ...lists.prefix, ...lists.wildcard];
}

/** `get` of something listed a moment ago, or undefined when it is gone since (left, unregistered). */
async function gone<T>(get: Promise<T>): Promise<T | undefined> {
  try {
    return await get;
  } catch (error) {
    if (error instanceof ApplicationError && /^wamp\.error\.no_such_/.test(error.uri)) {
      return undefined;
    }
    throw error;
  }
}

async function show(session: Session, what: string, id: string | undefined): Promise<void> {
  const meta = session.meta;
  switch (what) {
    case "sessions":
      for (const id of await meta.sessions.list()) {
        const details = await gone(meta.sessions.get(id));
        if (details !== undefined) printJson(details);
      }
      return;
    case "session":
      printJson(await meta.sessions.get(Number(id)));
      return;
    case "registrations":
      for (const id of ids(await meta.registrations.list())) {
        const details = await gone(meta.registrations.get(id));
        const callees = await gone(meta.registrations.listCallees(id));
        if (details !== undefined && callees !== undefined) printJson({ ...details, callees });
      }
      return;
    case "subscriptions":
      for (const id of ids(await meta.subscriptions.list())) {
        const details = await gone(meta.subscriptions.get(id));
        const subscribers = await gone(meta.subscriptions.listSubscribers(id));
        if (details !== undefined && subscribers !== undefined) {
          printJson({ ...details, subscribers });
        }
      }
      return;
  }
}

/** `cloverleaf meta sessions|session <id>|registrations|subscriptions`. */
export const metaCommand: ClientCommand = {
  name: "meta",
  usage: `Usage: cloverleaf meta sessions [options]
       cloverleaf meta session <id> [options]
       cloverleaf meta registrations [options]
       cloverleaf meta subscriptions [options]

Asks the realm through the WAMP Meta API and prints one JSON line per
session (its details: session, authid, authrole, authmethod, ...), per
registration (id, uri, match, invoke, created, callees) or per
subscription (id, uri, match, created, subscribers). The meta command's own
session is among the sessions. A refusal (wamp.error.not_authorized) prints
its URI on stderr and exits 1.`,
  options: {},
  async run(values, positionals) {
    const [what, id, extra] = positionals;
    if (what === undefined || !(WHAT as readonly string[]).includes(what)) {
      throw new UsageError(
        `${
          what === undefined ? "Missing" : `Unknown "${what}":`
        } expected sessions, session <id>, registrations or subscriptions`,
      );
    }
    const unexpected = what === "session" ? extra : id;
    if (unexpected !== undefined) throw new UsageError(`Unexpected argument "${unexpected}"`);
    if (what === "session" && (id === undefined || !/^\d+$/.test(id))) {
      throw new UsageError(`Missing or invalid <id> after "session": expected a session ID`);
    }
    const session = await join(values as ConnectFlags);
    try {
      await show(session, what, id);
      return 0;
    } finally {
      await session.close();
    }
  },
};
