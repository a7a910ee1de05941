/**
 * What an admitted bridge request holds of its path, and when each part is
 * freed: its source's pending place once its body arrived (signed: once
 * verified), its slot (signed: once verified, a place for verifying
 * before), its source's stream count once released.
 */

import { equal } from "node:assert/strict";
import { Admitted, type PathPlaces } from "../../bridge/admission.ts";
import { resolveBridgeOptions } from "../../bridge/config.ts";
import type { SignedFields } from "../../bridge/auth.ts";
import { SourceLimit } from "../../transports/sources.ts";

const PEER = "tcp4:10.0.0.1:5000";
const FIELDS: SignedFields = { key: "app1", timestamp: "t", seq: "1", nonce: "n", signature: "s" };

/** A path whose sources may have one request pending and one stream each. */
function path(): PathPlaces {
  return {
    options: resolveBridgeOptions({
      path: "/p",
      type: "publisher",
      realm: "realm1",
      role: "app",
      auth: "none",
      maxInFlight: 4,
    }, "bridges[0]"),
    inFlight: 0,
    verifying: 0,
    pending: new SourceLimit(1),
    streams: new SourceLimit(1),
  };
}

/** Whether `p` counts a request of PEER's as pending. */
const pending = (p: PathPlaces) => !p.pending.admits(PEER);

/**
 * A signed request's arrival shows only its key, which is public: it stays
 * pending until verified (released at its body's arrival, a client could
 * keep any number of unverified bodies coming from one address).
 */
Deno.test("Admitted: a signed request is pending until verified (take()), not until its body arrived", () => {
  const p = path();
  const signed = new Admitted(p, new URL("http://x/p"), 100, FIELDS, PEER);
  equal(p.verifying, 1);
  equal(p.inFlight, 0);
  signed.arrived();
  equal(pending(p), true, "arrived, not verified: still pending");
  equal(signed.take(), true);
  equal(pending(p), false);
  equal(p.verifying, 0);
  equal(p.inFlight, 1);
});

Deno.test("Admitted: an open request takes its slot from its head and is pending until its body arrived", () => {
  const p = path();
  const open = new Admitted(p, new URL("http://x/p"), 100, undefined, PEER);
  equal(p.inFlight, 1);
  equal(pending(p), true);
  open.arrived();
  equal(pending(p), false);
  equal(p.inFlight, 1);
});

Deno.test("Admitted.answered() frees its source's places and a place for verifying, release() then its slot", () => {
  const p = path();
  const refused = new Admitted(p, new URL("http://x/p"), 100, FIELDS, PEER); // its signature wrong
  refused.arrived();
  refused.answered();
  equal(pending(p), false);
  equal(p.streams.admits(PEER), true);
  equal(p.verifying, 0);
  const open = new Admitted(p, new URL("http://x/p"), 100, undefined, PEER);
  open.answered();
  equal(pending(p), false);
  equal(p.inFlight, 1, "its slot waits for the router");
  open.release();
  open.release();
  equal(p.inFlight, 0);
});
