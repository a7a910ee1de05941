/**
 * Autobahn|JS (npm `autobahn`) as a Meta API client of a Cloverleaf router
 * (spec "Session Meta API"), over a real WebSocket, once per serializer:
 * it subscribes to `wamp.session.on_join`/`on_leave` and calls
 * `wamp.session.count`, `list` and `get`, about Autobahn sessions and
 * Cloverleaf ones. Autobahn hands a lone result argument back unwrapped,
 * so `count` arrives as a number and `list` as an array.
 *
 * @module
 */

import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import {
  type AutobahnError,
  type AutobahnEventDetails,
  type AutobahnModule,
  type Dict,
  Inbox,
  scenario,
  SERIALIZERS,
} from "./_autobahn.ts";

/** An event as an Autobahn handler receives it. */
interface AbEvent {
  args: unknown[];
  kwargs: Dict;
  details: AutobahnEventDetails;
}

/** An Autobahn event handler that fills `inbox`. */
function into(inbox: Inbox<AbEvent>) {
  return (args: unknown[], kwargs: Dict, details: AutobahnEventDetails) =>
    inbox.push({ args, kwargs, details });
}

/** Checks that `e` is an `autobahn.Error` with this URI. */
function isAbError(ab: AutobahnModule, uri: string) {
  return (e: unknown) => {
    ok(e instanceof ab.Error, `expected autobahn.Error, got ${e}`);
    equal((e as AutobahnError).error, uri);
    return true;
  };
}

/** The IDs, sorted, for comparing lists in no particular order. */
function sorted(ids: unknown): number[] {
  ok(Array.isArray(ids), `expected a list of session IDs, got ${Deno.inspect(ids)}`);
  return (ids as number[]).slice().sort();
}

for (const serializer of SERIALIZERS) {
  // An Autobahn watcher sees Autobahn and Cloverleaf sessions join and leave.
  scenario(serializer, "meta_session_on_join_on_leave", async (bed) => {
    const watcher = await bed.autobahn();
    const roles = watcher.welcome.roles as Record<string, { features: Dict }>;
    equal(roles.broker!.features.session_meta_api, true);
    equal(roles.dealer!.features.session_meta_api, true);
    const joins = new Inbox<AbEvent>();
    const leaves = new Inbox<AbEvent>();
    await watcher.session.subscribe("wamp.session.on_join", into(joins));
    await watcher.session.subscribe("wamp.session.on_leave", into(leaves));

    const other = await bed.autobahn();
    const [joined] = await joins.take(1, "on_join of the Autobahn session");
    equal(joined!.args.length, 1);
    const details = joined!.args[0] as Dict;
    equal(details.session, other.session.id);
    equal(details.authid, other.welcome.authid);
    equal(details.authrole, "anonymous");
    equal(details.authmethod, "anonymous");
    equal(details.realm, "realm1");
    equal((details.transport as Dict).type, "websocket");
    equal((details.transport as Dict).serializer, serializer);

    const ours = await bed.cloverleaf();
    const [, ourJoin] = await joins.take(2, "on_join of the Cloverleaf session");
    equal((ourJoin!.args[0] as Dict).session, ours.id);
    equal((ourJoin!.args[0] as Dict).authid, ours.details.authid);

    await ours.close();
    const [ourLeave] = await leaves.take(1, "on_leave of the Cloverleaf session");
    deepEqual(ourLeave!.args, [ours.id, ours.details.authid, "anonymous"]);

    const otherId = other.session.id;
    await other.leave();
    const [, otherLeave] = await leaves.take(2, "on_leave of the Autobahn session");
    deepEqual(otherLeave!.args, [otherId, other.welcome.authid, "anonymous"]);
    equal(joins.items.length, 2);
  });

  // Autobahn calls count/list/get; our client asks about Autobahn's session.
  scenario(serializer, "meta_session_count_list_get", async (bed, ab) => {
    const a = await bed.autobahn();
    const b = await bed.autobahn();
    const ours = await bed.cloverleaf();
    const ids = sorted([a.session.id, b.session.id, ours.id]);

    equal(await a.session.call("wamp.session.count"), 3);
    equal(await a.session.call("wamp.session.count", [["anonymous"]]), 3);
    equal(await a.session.call("wamp.session.count", [["nobody"]]), 0);
    deepEqual(sorted(await a.session.call("wamp.session.list")), ids);
    deepEqual(await a.session.call("wamp.session.list", [["nobody"]]), []);

    const got = await a.session.call("wamp.session.get", [ours.id]) as Dict;
    equal(got.session, ours.id);
    equal(got.authid, ours.details.authid);
    equal(got.authrole, "anonymous");
    equal(got.realm, "realm1");
    await rejects(
      a.session.call("wamp.session.get", [2 ** 53]),
      isAbError(ab, "wamp.error.no_such_session"),
    );

    const aboutB = await ours.meta.sessions.get(b.session.id!);
    equal(aboutB.authid, b.welcome.authid);
    deepEqual([aboutB.transport.type, aboutB.transport.serializer], ["websocket", serializer]);

    await b.leave();
    equal(await ours.meta.sessions.count(), 2);
    deepEqual(sorted(await a.session.call("wamp.session.list")), sorted([a.session.id, ours.id]));
  });
}
