/**
 * `wamp.session.modify_details` past the 64 KiB limit on a session of
 * another node answers `limit_exceeded`, as on the session's own node.
 * Real nats-server, our client over WebSocket.
 */

import { equal, rejects } from "node:assert/strict";
import { isUri, joinNode, startCluster } from "./_cluster.ts";

const META = { meta: { kill: true, modifyDetails: true } } as const;

Deno.test("modify_details past the limit on another node's session: limit_exceeded, the details unchanged", async () => {
  await using c = await startCluster(2, "modlimit", META);
  const [a, b] = c.nodes;
  const admin = await joinNode(a!, "msgpack");
  const other = await joinNode(b!, "cbor");
  const deadline = Date.now() + 5000;
  while (!(await admin.meta.sessions.list()).includes(other.id)) {
    if (Date.now() > deadline) throw new Error("A never saw B's session");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await admin.meta.sessions.modifyDetails(other.id, { label: "x" });
  const big = "x".repeat(70 * 1024);
  await rejects(
    admin.meta.sessions.modifyDetails(other.id, { blob: big }),
    isUri("cloverleaf.error.limit_exceeded"),
  );
  await rejects( // the same on B itself
    other.meta.sessions.modifyDetails(other.id, { blob: big }),
    isUri("cloverleaf.error.limit_exceeded"),
  );
  const got = await admin.meta.sessions.get(other.id);
  equal(got.label, "x");
  equal(got.blob, undefined);
  await rejects(
    admin.meta.sessions.modifyDetails(4242, { a: 1 }),
    isUri("wamp.error.no_such_session"),
  );
  for (const s of [admin, other]) await s.close();
});
