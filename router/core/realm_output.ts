/**
 * What completes every output of a realm before the shell sees it: the
 * queued meta events follow its messages, cluster mode's shares ride
 * along, and replies addressed to the realm's internal session go to the
 * router calls waiting for them (whose continuations add their own
 * output).
 *
 * @module
 */

import type { WampMessage } from "../../wamp/mod.ts";
import type { SessionCluster } from "./meta/cluster_sessions.ts";
import type { MetaEvents } from "./meta/events.ts";
import type { BrokerSharing } from "./broker/sharing.ts";
import type { InternalCaller } from "./internal_session.ts";
import { append, type Output, output, RESUME_HELD } from "./output.ts";

/**
 * Completes an output.
 *
 * @param out What a realm entry point returned.
 * @param events The realm's meta events (flushed after `out`'s messages).
 * @param caller The realm's internal caller, once it made a router call.
 * @param sharing Cluster mode: the broker's interest and shared publications.
 * @param sessions Cluster mode: this node's sessions joining and leaving.
 * @returns `out` itself when there is nothing to add, else a new output.
 */
export function completed(
  out: Output,
  events: MetaEvents,
  caller: InternalCaller | undefined,
  sharing: BrokerSharing | undefined,
  sessions: SessionCluster | undefined,
): Output {
  const internalId = caller?.info.id;
  const intercept = caller !== undefined && caller.size > 0 &&
    out.messages.some((m) => m.to === internalId);
  if (!intercept && !events.pending && !sharing?.pending && !sessions?.pending) return out;
  const done = output();
  let replies: WampMessage[] | undefined;
  for (const m of out.messages) {
    if (intercept && m.to === internalId) (replies ??= []).push(m.msg);
    else done.messages.push(m);
  }
  for (const e of out.effects) done.effects.push(e);
  const later = events.flush(done.messages); // the rest of a long queue: a later turn
  if (later !== undefined) done.effects.push(later);
  sharing?.take(done.effects); // cluster mode: interest and shared publications
  sessions?.take(done.effects); // cluster mode: this node's sessions joining and leaving
  if (replies !== undefined) {
    for (const reply of replies) append(done, caller!.receive(reply));
    done.effects.push(RESUME_HELD); // a session may have waited for such an answer
  }
  return done;
}
