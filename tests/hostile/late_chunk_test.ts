/**
 * A callee that ends many of a caller's progressive calls at once (final
 * YIELDs, or leaving) must not get the honest caller ABORTed: the
 * caller's next chunk of each was already on the wire, and the spec has
 * the dealer discard a continuation of a call that is over. The router
 * remembered only the last 256 such calls; past that, such a chunk was
 * taken for a request ID out of sequence. Over RawSocket, JSON.
 */

import { deepEqual, equal } from "node:assert/strict";
import { rawJsonClient } from "../_helpers/raw_rawsocket.ts";
import { startRouter, until } from "../_helpers/router.ts";

const STREAMS = { progressive_call_invocations: true, call_canceling: true };

for (const ending of ["final YIELDs", "leaving"] as const) {
  Deno.test(`late chunks: a callee ending 300 streaming calls by ${ending} gets the caller no ABORT`, async () => {
    await using t = await startRouter();
    const url = t.listener.urls.rawsocket!;
    const callee = await rawJsonClient(url, 0xf1);
    callee.send([1, "realm1", { roles: { callee: { features: STREAMS } } }]);
    await callee.until((m) => m[0] === 2);
    callee.send([64, 1, {}, "com.upload"]);
    await callee.until((m) => m[0] === 65);
    const caller = await rawJsonClient(url, 0xf1);
    caller.send([1, "realm1", { roles: { caller: { features: STREAMS } } }]);
    await caller.until((m) => m[0] === 2);
    const calls = 300;
    caller.send(
      ...Array.from(
        { length: calls },
        (_, i) => [48, i + 1, { progress: true }, "com.upload", [0]],
      ),
    );
    const invocations = () => callee.seen.filter((m) => m[0] === 68);
    await until(() => invocations().length === calls, 5000, "the INVOCATIONs");
    if (ending === "leaving") callee.close();
    else callee.send(...invocations().map((m) => [70, m[1], {}, ["done"]]));
    const answers = () => caller.seen.filter((m) => m[0] === 50 || m[0] === 8);
    await until(() => answers().length === calls, 5000, "every call answered");
    // Each call's next chunk, sent before its answer was read; then a new call.
    caller.send(...Array.from({ length: calls }, (_, i) => [48, i + 1, {}, "com.upload", [1]]));
    caller.send([48, calls + 1, {}, "com.none"]);
    const refused = await caller.until((m) => m[0] === 8 && m[2] === calls + 1);
    equal(refused[4], "wamp.error.no_such_procedure");
    deepEqual(caller.seen.filter((m) => m[0] === 3), [], "no ABORT");
    equal(caller.closed, false);
    caller.close();
    callee.close();
  });
}
