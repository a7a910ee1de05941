/**
 * Autobahn|JS against the Advanced Profile PubSub features of a Cloverleaf
 * router, over a real WebSocket, once per serializer: black/white listing,
 * publisher exclusion, publisher identification and pattern-based
 * subscriptions. Scenarios are named after autobahn-js
 * `packages/autobahn/test/test_pubsub_*.js`; Cloverleaf's own client takes
 * part where a scenario crosses implementations.
 *
 * @module
 */

import { deepEqual, equal } from "node:assert/strict";
import type { Event } from "../../mod.ts";
import { type AutobahnEventDetails, type Dict, Inbox, scenario, SERIALIZERS } from "./_autobahn.ts";

/** An event as an Autobahn handler receives it. */
interface AbEvent {
  args: unknown[];
  kwargs: Dict;
  details: AutobahnEventDetails & {
    publisher_authid?: string;
    publisher_authrole?: string;
  };
}

function into(inbox: Inbox<AbEvent>) {
  return (args: unknown[], kwargs: Dict, details: AutobahnEventDetails) =>
    inbox.push({ args, kwargs, details });
}

/** The first arguments received, sentinel excluded. */
function firstArgs(items: { args: unknown[] }[]): unknown[] {
  return items.map((e) => e.args[0]).filter((a) => a !== "sentinel");
}

for (const serializer of SERIALIZERS) {
  // test_pubsub_exclude / test_pubsub_eligible: an Autobahn publisher
  // narrows its audience by session ID, authid and authrole; Autobahn and
  // Cloverleaf subscribers see exactly what they are allowed to.
  scenario(serializer, "pubsub_exclude_eligible", async (bed) => {
    const pub = await bed.autobahn();
    const a = await bed.autobahn();
    const b = await bed.autobahn();
    const ours = await bed.cloverleaf();
    equal(pub.session.features!.publisher?.subscriber_blackwhite_listing, true);
    const topic = "com.myapp.topic3";
    const aInbox = new Inbox<AbEvent>();
    const bInbox = new Inbox<AbEvent>();
    const ourInbox = new Inbox<Event>();
    await a.session.subscribe(topic, into(aInbox));
    await b.session.subscribe(topic, into(bInbox));
    await ours.subscribe(topic, ourInbox.push);
    const aId = a.session.id!;
    const bId = b.session.id!;
    const send = (arg: string, options: Dict) =>
      pub.session.publish(topic, [arg], {}, { acknowledge: true, ...options });
    await send("exclude b", { exclude: [bId] });
    await send("eligible a", { eligible: [aId] });
    await send("eligible a+ours", { eligible: [aId, ours.id] });
    await send("exclude_authid ours", { exclude_authid: [ours.details.authid] });
    await send("eligible_authrole anonymous", { eligible_authrole: ["anonymous"] });
    await send("exclude_authrole anonymous", { exclude_authrole: ["anonymous"] });
    await send("sentinel", {});
    const wanted = (items: string[]) => [...items, "sentinel"].length;
    const aWant = ["exclude b", "eligible a", "eligible a+ours", "exclude_authid ours"];
    const bWant = ["exclude_authid ours"];
    const ourWant = ["exclude b", "eligible a+ours"];
    for (const list of [aWant, bWant, ourWant]) list.push("eligible_authrole anonymous");
    deepEqual(firstArgs(await aInbox.take(wanted(aWant), "a's events")), aWant);
    deepEqual(firstArgs(await bInbox.take(wanted(bWant), "b's events")), bWant);
    deepEqual(firstArgs(await ourInbox.take(wanted(ourWant), "our events")), ourWant);
    // And the other way round: our publisher, Autobahn subscribers.
    await ours.publish(topic, { args: ["ours: exclude a"] }, {
      acknowledge: true,
      exclude: [aId],
    });
    await ours.publish(topic, { args: ["sentinel"] }, { acknowledge: true });
    deepEqual(firstArgs(await bInbox.take(wanted(bWant) + 2, "b's events")).slice(-1), [
      "ours: exclude a",
    ]);
    deepEqual(firstArgs(await aInbox.take(wanted(aWant) + 1, "a's events")), aWant);
  });

  // test_pubsub_excludeme: the publisher gets its own event only with
  // exclude_me false, also through a pattern subscription.
  scenario(serializer, "pubsub_excludeme_pattern", async (bed) => {
    const a = await bed.autobahn();
    const inbox = new Inbox<AbEvent>();
    await a.session.subscribe("com.myapp", into(inbox), { match: "prefix" });
    await a.session.publish("com.myapp.t", ["default"], {}, { acknowledge: true });
    await a.session.publish("com.myapp.t", ["false"], {}, {
      acknowledge: true,
      exclude_me: false,
    });
    const [only] = await inbox.take(1, "the publisher's own event");
    deepEqual(only!.args, ["false"]);
    equal(only!.details.topic, "com.myapp.t");
    equal(inbox.items.length, 1);
  });

  // test_pubsub_publisher_disclose_me: disclose_me reveals the publisher,
  // with authid and authrole, across implementations.
  scenario(serializer, "pubsub_disclose_me", async (bed) => {
    const pub = await bed.autobahn();
    const sub = await bed.autobahn();
    const ours = await bed.cloverleaf();
    equal(sub.session.features!.subscriber?.publisher_identification, true);
    const topic = "com.myapp.identified";
    const abInbox = new Inbox<AbEvent>();
    const ourInbox = new Inbox<Event>();
    await sub.session.subscribe(topic, into(abInbox));
    await ours.subscribe(topic, ourInbox.push);
    await pub.session.publish(topic, ["hidden"], {}, { acknowledge: true });
    await pub.session.publish(topic, ["disclosed"], {}, {
      acknowledge: true,
      disclose_me: true,
    });
    const [hidden, shown] = await abInbox.take(2, "Autobahn's events");
    equal(hidden!.details.publisher, undefined);
    equal(shown!.details.publisher, pub.session.id);
    equal(shown!.details.publisher_authrole, "anonymous");
    const [, ourShown] = await ourInbox.take(2, "our events");
    deepEqual(
      [ourShown!.details.publisher, ourShown!.details.publisher_authrole],
      [pub.session.id, "anonymous"],
    );
    equal(typeof ourShown!.details.publisher_authid, "string");
    // Our client discloses itself to Autobahn.
    await ours.publish(topic, { args: ["ours"] }, { acknowledge: true, disclose_me: true });
    const [, , fromOurs] = await abInbox.take(3, "our disclosed event");
    equal(fromOurs!.details.publisher, ours.id);
    equal(fromOurs!.details.publisher_authid, ours.details.authid);
  });

  // test_pubsub_prefix_sub / test_pubsub_wildcard_sub: Autobahn pattern
  // subscriptions get every matching event with the concrete topic, one
  // EVENT per matching subscription.
  scenario(serializer, "pubsub_prefix_wildcard_sub", async (bed) => {
    const sub = await bed.autobahn();
    const pub = await bed.cloverleaf();
    equal(sub.session.features!.subscriber?.pattern_based_subscription, true);
    const prefix = new Inbox<AbEvent>();
    const wildcard = new Inbox<AbEvent>();
    const exact = new Inbox<AbEvent>();
    await sub.session.subscribe("com.myapp.topic", into(prefix), { match: "prefix" });
    await sub.session.subscribe("com.myapp..update", into(wildcard), { match: "wildcard" });
    await sub.session.subscribe("com.myapp.topic1.update", into(exact));
    for (const topic of ["com.myapp.topic1.update", "com.myapp.topic2.delete", "com.other"]) {
      await pub.publish(topic, { args: [topic] }, { acknowledge: true });
    }
    await pub.publish("com.myapp.x.update", { args: ["last"] }, { acknowledge: true });
    const p = await prefix.take(2, "prefix events");
    const w = await wildcard.take(2, "wildcard events");
    const e = await exact.take(1, "exact events");
    deepEqual(p.map((x) => x.details.topic), [
      "com.myapp.topic1.update",
      "com.myapp.topic2.delete",
    ]);
    deepEqual(w.map((x) => x.details.topic), ["com.myapp.topic1.update", "com.myapp.x.update"]);
    equal(e[0]!.details.topic, "com.myapp.topic1.update");
    equal(p[0]!.details.publication, w[0]!.details.publication);
    equal(p[0]!.details.publication, e[0]!.details.publication);
    equal(exact.items.length, 1);
  });
}
