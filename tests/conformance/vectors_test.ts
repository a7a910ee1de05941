/**
 * Replays the wamp-proto conformance vectors (`../shared/wamp-vectors/`,
 * see its README) against our serializers and `parseMessage()`:
 *
 * - serialization samples: every json/msgpack/cbor variant must decode to
 *   the sample's `expected_attributes`, and our own encoding must decode
 *   back to the same message (json and msgpack must also reproduce one of
 *   the listed variants byte for byte);
 * - validation samples (`wmsg`): must parse, or throw
 *   `ProtocolViolationError` naming `expected_error.contains`.
 *
 * ubjson and flatbuffers variants show up as ignored steps: we do not
 * implement those serializers. The `validation`/`construction` code strings
 * in the vectors are never evaluated.
 *
 * Needs `--allow-read` for the vector directory; without it, or without the
 * directory, the tests are registered as ignored with the reason in the name.
 *
 * @module
 */

import { deepEqual, equal, fail, ok, throws } from "node:assert/strict";
import { ProtocolViolationError } from "../../wamp/errors.ts";
import { messageTypeName } from "../../wamp/message_type.ts";
import { parseMessage, toWire, type WampMessage } from "../../wamp/messages.ts";
import { binaryToJson, cbor, json, jsonToBinary, msgpack } from "../../wamp/serializers/mod.ts";
import type { Serializer } from "../../wamp/serializers/serializer.ts";
import { plainBytes } from "../wamp/serializer_suite.ts";
import { missing } from "../_helpers/missing.ts";

const VECTORS = new URL("../../../shared/wamp-vectors/", import.meta.url);
const TESTSUITE = new URL("testsuite/", VECTORS);
const SINGLEMESSAGE = new URL("singlemessage/", TESTSUITE);
const AUTH_TRANSPORT = new URL("generated-auth-transport.json", VECTORS);

const OURS: readonly Serializer[] = [json, msgpack, cbor];
/** Serializers we produce byte-identical output for. cbor-x writes maps with a
 * 16-bit length header (`{}` is `b9 0000`, not `a0`): valid CBOR, but not the
 * preferred serialization the vectors list. */
const BYTE_EXACT: ReadonlySet<string> = new Set(["json", "msgpack"]);

interface Variant {
  bytes?: string;
  bytes_hex: string;
  note?: string;
}

interface Sample {
  description: string;
  serializers?: Record<string, Variant[]>;
  expected_attributes?: Record<string, unknown>;
  wmsg?: unknown[];
  expected_error?: { type: string; contains: string };
}

interface VectorFile {
  wamp_message_type: string;
  wamp_message_code: number;
  samples: Sample[];
}

/** Autobahn attribute names → our message fields (same for every type). */
const RENAMES: Readonly<Record<string, string>> = {
  message_type: "type",
  request_id: "request",
  request_type: "requestType",
  session_id: "session",
  publication_id: "publication",
  subscription_id: "subscription",
  registration_id: "registration",
  method: "authmethod",
};

/** Attributes that keep their name. */
const SAME_NAME: ReadonlySet<string> = new Set([
  "realm",
  "details",
  "options",
  "extra",
  "reason",
  "signature",
  "error",
  "topic",
  "procedure",
  "subscription",
  "publication",
  "args",
  "kwargs",
]);

/**
 * Turns a sample's `expected_attributes` into the message we should decode:
 * renames Autobahn's names, drops `null` args/kwargs/payload, puts HELLO and
 * WELCOME `roles` into `details`, and reads the hex `payload` as bytes.
 */
function expectedMessage(attributes: Record<string, unknown>): WampMessage {
  const msg: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "roles") {
      msg.details = { ...(msg.details as object | undefined), roles: value };
    } else if (key === "payload") {
      if (value !== null) msg.payload = Uint8Array.fromHex(value as string);
    } else if (key === "args" || key === "kwargs") {
      if (value !== null) msg[key] = value;
    } else if (key in RENAMES) {
      msg[RENAMES[key]!] = value;
    } else if (SAME_NAME.has(key)) {
      msg[key] = value;
    } else {
      fail(`no mapping for expected attribute "${key}"`);
    }
  }
  return msg as unknown as WampMessage;
}

function frameHex(frame: string | Uint8Array): string {
  return (typeof frame === "string" ? new TextEncoder().encode(frame) : frame)
    .toHex();
}

function variantFrame(
  serializer: Serializer,
  variant: Variant,
): string | Uint8Array {
  const bytes = Uint8Array.fromHex(variant.bytes_hex);
  if (serializer.binary) return bytes;
  const text = new TextDecoder().decode(bytes);
  if (variant.bytes !== undefined) {
    equal(text, variant.bytes, "bytes_hex and bytes disagree");
  }
  return text;
}

async function checkSerializationSample(
  t: Deno.TestContext,
  sample: Sample,
): Promise<void> {
  const expected = expectedMessage(sample.expected_attributes!);
  const listed = sample.serializers!;
  for (const serializer of OURS) {
    const variants = listed[serializer.name] ?? [];
    for (const [i, variant] of variants.entries()) {
      await t.step(
        `${serializer.name} #${i + 1} decodes to expected_attributes`,
        () => {
          const msg = serializer.decode(variantFrame(serializer, variant));
          deepEqual(plainBytes(msg), expected);
        },
      );
    }
    await t.step(`${serializer.name}: our encoding decodes back`, () => {
      const frame = serializer.encode(expected);
      deepEqual(plainBytes(serializer.decode(frame)), expected);
    });
    if (BYTE_EXACT.has(serializer.name) && variants.length > 0) {
      await t.step(
        `${serializer.name}: re-encoding reproduces a listed variant`,
        () => {
          // Re-encode what we decoded, so dict keys keep the vector's order.
          const decoded = serializer.decode(
            variantFrame(serializer, variants[0]!),
          );
          const ours = frameHex(serializer.encode(decoded));
          ok(
            variants.some((v) => v.bytes_hex === ours),
            `our ${serializer.name} bytes ${ours} match none of the listed variants`,
          );
        },
      );
    }
  }
  for (const [name, variants] of Object.entries(listed)) {
    if (OURS.some((s) => s.name === name)) continue;
    for (const i of variants.keys()) {
      await t.step({
        name: `${name} #${i + 1} (serializer not implemented)`,
        ignore: true,
        fn() {},
      });
    }
  }
}

function checkValidationSample(sample: Sample): void {
  const wire = sample.wmsg!;
  const error = sample.expected_error;
  if (error === undefined) {
    const msg = parseMessage(structuredClone(wire));
    deepEqual(toWire(msg), wire);
    return;
  }
  equal(error.type, "protocol_violation");
  throws(
    () => parseMessage(structuredClone(wire)),
    (e: unknown) => {
      ok(e instanceof ProtocolViolationError, `threw ${e}`);
      ok(
        e.message.includes(error.contains),
        `"${e.message}" lacks "${error.contains}"`,
      );
      return true;
    },
  );
}

function vectorFiles(dir: URL, prefix = ""): string[] {
  const entries = [...Deno.readDirSync(dir)].sort((a, b) => a.name.localeCompare(b.name));
  return entries.flatMap((entry) => {
    if (entry.isDirectory) {
      return vectorFiles(
        new URL(`${entry.name}/`, dir),
        `${prefix}${entry.name}/`,
      );
    }
    return entry.isFile && entry.name.endsWith(".json") ? [`${prefix}${entry.name}`] : [];
  });
}

function exists(url: URL): boolean {
  try {
    Deno.statSync(url);
    return true;
  } catch {
    return false;
  }
}

const readable = Deno.permissions.querySync({ name: "read", path: VECTORS }).state ===
  "granted";

if (!readable) {
  missing("wamp-vectors", "run with --allow-read to read ../shared/wamp-vectors");
} else if (!exists(SINGLEMESSAGE)) {
  missing("wamp-vectors", `${SINGLEMESSAGE.pathname} does not exist`);
} else {
  for (const path of vectorFiles(SINGLEMESSAGE)) {
    const file: VectorFile = JSON.parse(
      Deno.readTextFileSync(new URL(path, SINGLEMESSAGE)),
    );
    Deno.test(`wamp-vectors singlemessage/${path} (${file.wamp_message_type})`, async (t) => {
      equal(messageTypeName(file.wamp_message_code), file.wamp_message_type);
      for (const sample of file.samples) {
        if (sample.serializers !== undefined) {
          await t.step(
            sample.description,
            (t) => checkSerializationSample(t, sample),
          );
        } else if (sample.wmsg !== undefined) {
          await t.step(sample.description, () => checkValidationSample(sample));
        } else {
          fail(
            `sample "${sample.description}" has neither serializers nor wmsg`,
          );
        }
      }
    });
  }
}

if (readable && exists(AUTH_TRANSPORT)) {
  Deno.test("wamp-vectors generated-auth-transport.json json_binary", () => {
    const data = JSON.parse(Deno.readTextFileSync(AUTH_TRANSPORT));
    const vectors = data.json_binary as {
      bytes_hex: string;
      json_text: string;
    }[];
    ok(vectors.length > 0);
    for (const { bytes_hex, json_text } of vectors) {
      const bytes = Uint8Array.fromHex(bytes_hex);
      deepEqual(jsonToBinary(JSON.parse(json_text)), bytes);
      equal(JSON.stringify(binaryToJson(bytes)), json_text);
      const frame = `[36,1,2,{},[${json_text}],{"k":${json_text}}]`;
      const msg: WampMessage = {
        type: 36,
        subscription: 1,
        publication: 2,
        details: {},
        args: [bytes],
        kwargs: { k: bytes },
      };
      deepEqual(json.decode(frame), msg);
      equal(json.encode(msg), frame);
    }
  });
} else {
  missing("wamp-vectors generated-auth-transport.json json_binary", "the file is not readable");
}
