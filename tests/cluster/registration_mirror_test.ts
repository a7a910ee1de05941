/**
 * The registration table's mirror against what it cannot read: keys of
 * another shape, tokens no `keyToken` wrote, values that are not msgpack or
 * not of their kind. Each is logged and counts as absent; nothing escapes
 * the mirror's timer (which would end the process, on every node and every
 * restart). Then the same over a real nats-server: nodes keep serving, and
 * a head written over with garbage is taken by the next REGISTER.
 */

import { deepEqual, equal } from "node:assert/strict";
import { encode } from "@msgpack/msgpack";
import { keyToken } from "../../cluster/registrations.ts";
import { type KvEntry, RegistrationMirror } from "../../cluster/registration_mirror.ts";
import type { CalleeEntry } from "../../router/core/dealer/remote.ts";
import { startNats } from "../_helpers/nats.ts";
import { until } from "../_helpers/router.ts";
import { bucket, close, entry, type Member, members } from "./_table.ts";

const head = (procedure: string) => `${keyToken("r")}.exact.${keyToken(procedure)}`;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let revision = 0;
const put = (key: string, value: unknown): KvEntry => ({
  key,
  value: value instanceof Uint8Array ? value : encode(value),
  revision: ++revision,
  operation: "PUT",
});

/** What a mirror told, and logged, after `entries`. */
async function mirrored(entries: KvEntry[]) {
  const logged: string[] = [];
  const mirror = new RegistrationMirror(new Set(), (_level, line) => logged.push(line));
  const told = new Map<string, readonly CalleeEntry[]>();
  const described = new Map<string, unknown[]>();
  mirror.change = (_realm, procedure, _match, _invoke, callees, description, definer) => {
    told.set(procedure, callees);
    described.set(procedure, [description, definer]);
  };
  for (const one of entries) mirror.apply(one);
  await pause(10); // the mirror tells on a timer
  return { told, described, logged, mirror };
}

Deno.test("the mirror logs and skips every entry it cannot read, and tells the others", async () => {
  const good = entry("n1", 7);
  const { told, logged } = await mirrored([
    put(head("com.ok"), { invoke: "single", epoch: "e" }),
    put(`${head("com.ok")}.n1.7`, ["e", good]),
    put("_=ZZ.exact._x", { invoke: "single", epoch: "e" }), // a token that is not %-escaping
    put(`${head("com.null")}`, { invoke: "single", epoch: "e" }),
    put(`${head("com.null")}.n1.8`, ["e", null]), // a callee without its entry
    put(`${head("com.head")}`, null),
    put(`${head("com.policy")}`, { invoke: "everyone", epoch: "e" }),
    put(`${head("com.mark")}`, { invoke: "single", epoch: "e", next: "n1" }),
    put(`${head("com.bytes")}`, new Uint8Array([0xc1])), // not msgpack
    put(`${head("com.other")}`, { invoke: "single", epoch: "e" }),
    put(`${head("com.other")}.n1.9`, ["e", entry("n2", 9)]), // names another node's key
    put(`${head("com.ok")}.d`, ["e", "not a dict"]),
    put("x", {}),
    put("_r.exact", {}),
    put("_r.glob._p", { invoke: "single", epoch: "e" }),
    put(`${head("com.ok")}.n1.7.8`, ["e", good]),
  ]);
  deepEqual(told.get("com.ok"), [good]);
  for (
    const procedure of ["com.null", "com.head", "com.policy", "com.mark", "com.bytes", "com.other"]
  ) {
    deepEqual(told.get(procedure) ?? [], [], procedure);
  }
  equal(told.has("x"), false); // the realm and procedure of _=ZZ._x are unknown: not told
  equal(logged.filter((l) => l.includes("malformed value")).length, 7, logged.join("\n"));
  equal(logged.filter((l) => l.includes("not a key of the table")).length, 4, logged.join("\n"));
});

Deno.test("the mirror tells a description with the node and session that defined it, when written", async () => {
  const procedures = ["com.new", "com.old", "com.bad"];
  const { described, logged } = await mirrored([
    ...procedures.flatMap((p) => [
      put(head(p), { invoke: "single", epoch: "e" }),
      put(`${head(p)}.n1.1`, ["e", entry("n1", 1)]),
    ]),
    put(`${head("com.new")}.d`, ["e", { doc: 1 }, "n1", 1]),
    put(`${head("com.old")}.d`, ["e", { doc: 2 }]), // an earlier version's: no definer
    put(`${head("com.bad")}.d`, ["e", { doc: 3 }, "n1", "1"]),
  ]);
  deepEqual(described.get("com.new"), [{ doc: 1 }, ["n1", 1]]);
  deepEqual(described.get("com.old"), [{ doc: 2 }, undefined]);
  deepEqual(described.get("com.bad"), [undefined, undefined]);
  equal(logged.filter((l) => l.includes("malformed value")).length, 1, logged.join("\n"));
});

Deno.test("a callee's value written over with garbage takes the callee out", async () => {
  const { told } = await mirrored([
    put(head("com.p"), { invoke: "roundrobin", epoch: "e" }),
    put(`${head("com.p")}.n1.1`, ["e", entry("n1", 1)]),
    put(`${head("com.p")}.n1.2`, ["e", entry("n1", 2)]),
    put(`${head("com.p")}.n1.2`, ["e", { node: "n1" }]),
  ]);
  deepEqual(told.get("com.p"), [entry("n1", 1)]);
});

Deno.test("nodes keep serving past malformed keys, and a head that is garbage is registered over", async () => {
  const nats = await startNats();
  const all = await members(nats.url, "garbage", 2);
  const { nc, kv } = await bucket(nats, "garbage");
  try {
    const [a, b] = all as [Member, Member];
    await kv.put("_=ZZ.exact._x", encode({ invoke: "single", epoch: "e" }));
    await kv.put(`${head("com.g")}`, encode("garbage"));
    await kv.put(`${head("com.g")}.n1.7`, encode(["e", null]));
    equal(await a.table.claim("r", "com.g", "exact", "single", entry(a.node.id, 1)), undefined);
    await until(() => b.seen.get("com.g")?.length === 1, 5000, "B sees A's callee");
    equal(await b.table.claim("r", "com.h", "exact", "single", entry(b.node.id, 2)), undefined);
    await until(() => a.seen.get("com.h")?.length === 1, 5000, "A sees B's callee");
  } finally {
    await nc.close();
    await close(all);
    await nats.stop();
  }
});
