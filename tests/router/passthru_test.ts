/** The payload-passthru (PPT) option helpers of router/core/passthru.ts. */

import { deepEqual, equal } from "node:assert/strict";
import { copyPassthru, hasPassthruKey, PPT_KEYS } from "../../router/core/passthru.ts";

Deno.test("hasPassthruKey and copyPassthru cover exactly PPT_KEYS", () => {
  equal(hasPassthruKey({}), false);
  equal(hasPassthruKey({ acknowledge: true, ppt: "x" }), false);
  for (const key of PPT_KEYS) {
    equal(hasPassthruKey({ [key]: "x" }), true, key);
    deepEqual(copyPassthru({ [key]: "x", other: 1 }, {}), { [key]: "x" });
  }
  deepEqual(copyPassthru({ acknowledge: true }, { a: 1 }), { a: 1 });
  deepEqual(copyPassthru({ enc_algo: "cryptobox" }, {}, true), { enc_algo: "cryptobox" });
});
