/**
 * What `wamp.reflect.define` descriptions may hold: the realm's limits
 * `descriptionBytesPerSession` and `descriptionBytes`, and what frees
 * their bytes (replacing a description, the registration going; not its
 * definer leaving a registration others keep).
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { ApplicationError, type Registration, type Session } from "../../client/mod.ts";
import { connectLocal, Router } from "../../mod.ts";
import type { LimitOptions } from "../../router/core/limits.ts";
import { Descriptions } from "../../router/core/dealer/descriptions.ts";
import { Registrations } from "../../router/core/dealer/registrations.ts";
import { sequentialIdGenerator } from "../../wamp/mod.ts";
import { sessionInfo } from "../_helpers/session_info.ts";

const DOC = 10_000; // a description's size, about: `{ doc }` counts 8 + 4 more

/** Runs `body` against a router whose realm1 has `limits`; `join` adds a local session. */
async function withRouter(
  limits: LimitOptions,
  body: (join: () => Promise<Session>) => Promise<void>,
): Promise<void> {
  const router = new Router({ realms: [{ name: "realm1", limits }], logger: () => {} });
  const sessions: Session[] = [];
  const join = async () => {
    const session = await connectLocal(router, "realm1");
    sessions.push(session);
    return session;
  };
  try {
    await body(join);
  } finally {
    for (const session of sessions) await session.close().catch(() => {});
    await router.close();
  }
}

/** Defines a description of about `size` bytes: "ok", or the refusal's argument. */
async function define(session: Session, uri: string, size = DOC): Promise<string> {
  try {
    await session.call("wamp.reflect.define", { args: [uri, { doc: "d".repeat(size) }] });
    return "ok";
  } catch (e) {
    if (!(e instanceof ApplicationError)) throw e;
    equal(e.uri, "cloverleaf.error.limit_exceeded");
    return String(e.args[0]);
  }
}

/** Registers `com.example.<name>.<i>` for i < count. */
async function registerMany(
  session: Session,
  name: string,
  count: number,
): Promise<Registration[]> {
  const out = [];
  for (let i = 0; i < count; i++) {
    out.push(await session.register(`com.example.${name}.${i}`, () => {}));
  }
  return out;
}

const PER_SESSION =
  'Cannot define a description: limit "descriptionBytesPerSession" (1048576) exceeded';

Deno.test("wamp.reflect.define refuses past descriptionBytesPerSession; replacing a description frees the old one's bytes", () =>
  withRouter({}, async (join) => {
    const [a, b] = [await join(), await join()];
    await registerMany(a, "a", 120);
    await registerMany(b, "b", 1);
    const results = [];
    for (let i = 0; i < 120; i++) results.push(await define(a, `com.example.a.${i}`));
    // 1 MiB by default: 104 descriptions of 10,012 bytes fit (1,041,248), the 105th does not.
    deepEqual(results.slice(0, 104), new Array(104).fill("ok"));
    deepEqual(results.slice(104), new Array(16).fill(PER_SESSION));
    // Another session has its own budget; a session may redefine what it pays for.
    equal(await define(b, "com.example.b.0"), "ok");
    equal(await define(a, "com.example.a.0"), "ok");
    equal(await define(a, "com.example.a.0", 2 * DOC), PER_SESSION); // 1,051,248
    equal(await define(a, "com.example.a.1", 10), "ok"); // 22 bytes: 1,031,258
    equal(await define(a, "com.example.a.104"), "ok"); // 1,041,270
    equal(await define(a, "com.example.a.105", 7_294), "ok"); // 7,306 bytes: 1,048,576
    equal(await define(a, "com.example.a.106", 0), PER_SESSION);
  }));

Deno.test("wamp.reflect.define refuses past the realm's descriptionBytes; a registration's going frees its description", () =>
  withRouter(
    { descriptionBytes: 50_000, descriptionBytesPerSession: 35_000 },
    async (join) => {
      const [a, b, c] = [await join(), await join(), await join()];
      await registerMany(a, "a", 3);
      const [b0] = await registerMany(b, "b", 3);
      // a and c share this one: it and a's description stay when a leaves.
      await a.register("com.example.shared", () => {}, { invoke: "roundrobin" });
      await c.register("com.example.shared", () => {}, { invoke: "roundrobin" });
      const realm = 'Cannot define a description: limit "descriptionBytes" (50000) exceeded';
      const mine =
        'Cannot define a description: limit "descriptionBytesPerSession" (35000) exceeded';
      deepEqual(
        [
          await define(a, "com.example.a.0"),
          await define(a, "com.example.shared"),
          await define(b, "com.example.b.0"),
          await define(b, "com.example.b.1"), // 40,048 in the realm
          await define(b, "com.example.b.2"), // 50,060
          await define(a, "com.example.a.1"), // 50,060
        ],
        ["ok", "ok", "ok", "ok", realm, realm],
      );
      await a.close(); // a.0 goes with a (30,036 left); the shared registration stays
      const described = await b.call("wamp.reflection.procedure.describe", {
        args: ["com.example.shared"],
      });
      equal((described.kwargs.description as { doc: string }).doc.length, DOC);
      deepEqual(
        [
          await define(b, "com.example.b.2"), // 40,048 in the realm, b 30,036
          await define(c, "com.example.shared", DOC + 5_000), // replaces a's: 45,048
          await define(b, "com.example.b.0", 2 * DOC), // b would hold 40,036
          await define(b, "com.example.b.0", DOC + 4_960), // 50,008 in the realm
          await define(c, "com.example.shared", 2 * DOC + 4_900), // 54,948
        ],
        ["ok", "ok", mine, realm, realm],
      );
      await b0!.unregister(); // b.0 goes: 35,036
      equal(await define(c, "com.example.shared", 2 * DOC + 4_900), "ok"); // 44,936
    },
  ));

Deno.test("a definer leaving shared registrations to another session still pays for their descriptions", () =>
  withRouter(
    { descriptionBytes: 200_000, descriptionBytesPerSession: 35_000 },
    async (join) => {
      const [a, b, honest] = [await join(), await join(), await join()];
      const shared = { invoke: "roundrobin" as const };
      const mine =
        'Cannot define a description: limit "descriptionBytesPerSession" (35000) exceeded';
      const results = [];
      // Review 2B (5): a defined, left each registration to b and went on; a's charge was dropped
      // as it left, so two sessions filled the realm's 16 MiB (273 descriptions of 60 KiB).
      for (let round = 0; round < 3; round++) {
        const held = [];
        for (let i = 0; i < 3; i++) {
          const uri = `com.example.r${round}.p${i}`;
          await b.register(uri, () => {}, shared);
          held.push(await a.register(uri, () => {}, shared));
          results.push(await define(a, uri));
        }
        for (const reg of held) await reg.unregister();
      }
      deepEqual(results, ["ok", "ok", "ok", mine, mine, mine, mine, mine, mine]);
      await registerMany(honest, "honest", 1);
      equal(await define(honest, "com.example.honest.0"), "ok");
      // The descriptions a paid for are still there, served by b.
      const described = await honest.call("wamp.reflection.procedure.describe", {
        args: ["com.example.r0.p2"],
      });
      equal((described.kwargs.description as { doc: string }).doc.length, DOC);
    },
  ));

Deno.test("a description's definer pays for it while it is kept, after leaving the registration too; the realm until the registration goes", () => {
  const descriptions = new Descriptions({ descriptionBytesPerSession: 100, descriptionBytes: 150 });
  const table = new Registrations(sequentialIdGenerator(), Date.now, descriptions.watching());
  const [a, b] = [sessionInfo(1, ["callee"]), sessionInfo(2, ["callee"])];
  const shared = table.add("com.example.p", "exact", "roundrobin", a.id, {});
  table.add("com.example.p", "exact", "roundrobin", b.id, {});
  const own = table.add("com.example.q", "exact", "single", b.id, {});
  equal(descriptions.define(a, shared, { x: 1 }, 80), undefined);
  deepEqual([descriptions.bytes(a.id), descriptions.bytes(b.id), descriptions.bytes()], [
    80,
    0,
    80,
  ]);
  equal(
    descriptions.define(b, own, { x: 1 }, 80),
    'Cannot define a description: limit "descriptionBytes" (150) exceeded',
  );
  // a no longer serves it, b does: the description a paid for is kept, so a still pays for it
  // (freed, a could define again and again on registrations it hands to b: review 2B (5)).
  table.remove(a.id, shared);
  deepEqual([descriptions.bytes(a.id), descriptions.bytes()], [80, 80]);
  equal(descriptions.define(b, shared, { y: 2 }, 60), undefined); // b's now, replacing a's
  deepEqual([descriptions.bytes(a.id), descriptions.bytes(b.id), descriptions.bytes()], [
    0,
    60,
    60,
  ]);
  equal(descriptions.define(b, own, {}, 40), undefined); // b at 100

  equal(
    descriptions.define(b, own, {}, 41),
    'Cannot define a description: limit "descriptionBytesPerSession" (100) exceeded',
  );
  deepEqual(shared.description, { y: 2 });
  table.remove(b.id, shared); // gone with its last callee
  deepEqual([descriptions.bytes(b.id), descriptions.bytes()], [40, 40]);
  // An internal session is limited by the realm's total only.
  equal(descriptions.define({ ...a, transport: "internal" }, own, {}, 120), undefined);
});

Deno.test("Descriptions.synced: another node's description frees what this node's session defined; its own coming back is counted again", () => {
  const descriptions = new Descriptions({ descriptionBytesPerSession: 100, descriptionBytes: 150 });
  const table = new Registrations(sequentialIdGenerator(), Date.now, descriptions.watching());
  const a = sessionInfo(1, ["callee"]);
  const reg = table.add("com.example.p", "exact", "roundrobin", a.id, {});
  const mine = { doc: "a".repeat(30) };
  equal(descriptions.define(a, reg, mine, 50), undefined);
  // The table gives a's own back (decoded: another object): a still pays, the description stays.
  const echo = structuredClone(mine);
  table.describe(reg, echo, a.id);
  deepEqual([descriptions.bytes(a.id), descriptions.bytes()], [50, 50]);
  equal(reg.description, mine);
  // Another node's session defined it after: a's is gone here, so is its charge (it paid 50 for
  // a description no longer kept); the other node counts its own.
  const theirs = { doc: "b" };
  table.describe(reg, theirs, undefined);
  deepEqual([descriptions.bytes(a.id), descriptions.bytes(), reg.description], [0, 0, theirs]);
  table.describe(reg, theirs, undefined); // told again (a callee's change): nothing changes
  deepEqual([descriptions.bytes(a.id), descriptions.bytes()], [0, 0]);
  // The table ends with a's after all (the two writes raced): a pays for it again, its estimate.
  table.describe(reg, echo, a.id);
  const size = descriptions.bytes(a.id);
  ok(size > 30, `${size}`);
  deepEqual([descriptions.bytes(), reg.description], [size, echo]);
  table.remove(a.id, reg);
  deepEqual([descriptions.bytes(a.id), descriptions.bytes()], [0, 0]);
});

Deno.test("Descriptions: a session left past its limit by two nodes' racing definitions may still define smaller ones", () => {
  const LIMIT = 100_000;
  const d = new Descriptions({ descriptionBytesPerSession: LIMIT });
  const x = sessionInfo(7, ["callee"]);
  type Kept = Parameters<Descriptions["define"]>[1];
  const regs = Array.from({ length: 4 }, () => ({ procedure: "p" }) as unknown as Kept);
  const doc = (c: string) => ({ doc: c.repeat(45_000) });
  const SIZE = 45_012;
  for (const reg of regs.slice(0, 2)) equal(d.define(x, reg, doc("a"), SIZE), undefined);
  // Another node's session defines over both: x's charge is freed here, so it defines two more.
  for (const reg of regs.slice(0, 2)) d.synced(reg, doc("b"), undefined);
  for (const reg of regs.slice(2)) equal(d.define(x, reg, doc("c"), SIZE), undefined);
  // x's own writes win the race after all (retried at the new revision): charged again.
  for (const reg of regs.slice(0, 2)) d.synced(reg, doc("a"), x.id);
  ok(d.bytes(x.id) > LIMIT, `x pays ${d.bytes(x.id)}`);
  equal(d.define(x, regs[0]!, { x: 1 }, 10), undefined, "a smaller description goes through");
  ok(d.define(x, regs[1]!, doc("d"), SIZE + 1) !== undefined, "a larger one is refused");
});
