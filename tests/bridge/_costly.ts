/** Test helper: an acceptor whose handlers cost the router a fixed time per message. */

import type { Router } from "../../mod.ts";
import type { PeerAcceptor, PeerHandler, WampMessage } from "../../wamp/mod.ts";

/**
 * An acceptor whose handlers take `costMs` for each message after a
 * session's first (its HELLO), so what a test measures is the pacing, not
 * this machine's speed; `seen` is told of each message as it is handed on.
 * A function for `costMs` is asked for each message (a cost a test changes).
 */
export function costly(
  router: Router,
  costMs: number | (() => number),
  seen: (msg: WampMessage) => void = () => {},
): PeerAcceptor {
  const cost = typeof costMs === "number" ? () => costMs : costMs;
  return {
    attach(peer, options): PeerHandler {
      const handler = router.attach(peer, options);
      let count = 0;
      return {
        receive(msg) {
          seen(msg);
          if (count++ > 0) {
            const until = Date.now() + cost();
            while (Date.now() < until) { /* the router at work */ }
          }
          handler.receive(msg);
        },
        fail: (error) => handler.fail(error),
        closed: () => handler.closed(),
        get joined(): boolean {
          return handler.joined === true;
        },
      };
    },
  };
}
