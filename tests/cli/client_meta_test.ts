/**
 * `cloverleaf meta` as a subprocess against a router this test starts on
 * 127.0.0.1, and the connection flags over TLS (`--ca`, `--private-key`,
 * `--channel-binding`).
 */

import { deepEqual, equal, match, ok } from "node:assert/strict";
import { connect } from "../../mod.ts";
import { cryptosignKeyPair } from "../../wamp/mod.ts";
import { startRouter } from "../_helpers/router.ts";
import { jsonLines, runClient } from "./_client.ts";

Deno.test("cli meta sessions, session and registrations show the realm", async () => {
  await using t = await startRouter();
  const other = await connect(t.url, { realm: "realm1" });
  await other.register("com.example.listed", () => {});
  const sessions = await runClient(["meta", "sessions", "--url", t.url]);
  equal(sessions.code, 0, sessions.stderr);
  const lines = jsonLines(sessions) as { session: number; authrole: string }[];
  equal(lines.length, 2, "the other session and the meta command's own");
  ok(lines.some((s) => s.session === other.id && s.authrole === "anonymous"));

  const one = await runClient(["meta", "session", String(other.id), "--url", t.url]);
  equal(one.code, 0, one.stderr);
  equal((jsonLines(one)[0] as { session: number }).session, other.id);

  const registrations = await runClient(["meta", "registrations", "--url", t.url]);
  equal(registrations.code, 0, registrations.stderr);
  const [reg] = jsonLines(registrations) as { uri: string; callees: number[] }[];
  equal(reg!.uri, "com.example.listed");
  deepEqual(reg!.callees, [other.id]);

  const gone = await runClient(["meta", "session", "1", "--url", t.url]);
  equal(gone.code, 1);
  match(gone.stderr, /^cloverleaf: wamp\.error\.no_such_session/);
  await other.close();
});

Deno.test("cli client commands over wss:// and tcps:// trust --ca, and bind a cryptosign login to the channel", async () => {
  const key = cryptosignKeyPair();
  await using t = await startRouter({
    tls: true,
    realms: [{
      name: "realm1",
      auth: {
        cryptosign: { principals: { carol: { role: "device", authorizedKeys: [key.publicKey] } } },
      },
    }],
  });
  const dir = await Deno.makeTempDir({ prefix: "cloverleaf_ca_" });
  try {
    const ca = `${dir}/ca.pem`;
    await Deno.writeTextFile(ca, t.ca!);
    const wss = t.listener.urls.websocket!;
    const tcps = t.listener.urls.rawsocket!;
    match(wss, /^wss:/);
    match(tcps, /^tcps:/);
    for (const [url, binding] of [[wss, []], [tcps, ["--channel-binding", "tls-unique"]]]) {
      const out = await runClient([
        "meta",
        "sessions",
        "--url",
        url as string,
        "--ca",
        ca,
        "--private-key",
        key.seed,
        ...binding as string[],
      ]);
      equal(out.code, 0, out.stderr);
      const [own] = jsonLines(out) as { authid: string; authmethod: string }[];
      equal(own!.authid, "carol");
      equal(own!.authmethod, "cryptosign");
    }
    const untrusted = await runClient([
      "meta",
      "sessions",
      "--url",
      wss,
      "--private-key",
      key.seed,
    ]);
    equal(untrusted.code, 1);
    match(untrusted.stderr, /^cloverleaf: Cannot connect/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
