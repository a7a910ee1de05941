/**
 * The conformance suite every {@linkcode Serializer} must pass, after hono's
 * `src/router/common.case.test.ts`: `serializers_test.ts` runs it for json,
 * msgpack and cbor.
 *
 * @module
 */

import { deepEqual, equal, notDeepEqual, notStrictEqual, ok, throws } from "node:assert/strict";
import { ProtocolViolationError } from "../../wamp/errors.ts";
import { MAX_ID } from "../../wamp/ids.ts";
import { MessageType } from "../../wamp/message_type.ts";
import type { WampMessage } from "../../wamp/messages.ts";
import type { Serializer } from "../../wamp/serializers/serializer.ts";

/** One message of every kind, with payloads where the kind allows them. */
export const SAMPLE_MESSAGES: readonly WampMessage[] = [
  {
    type: MessageType.HELLO,
    realm: "com.example.realm",
    details: {
      roles: { caller: { features: { call_canceling: true } } },
      authmethods: ["ticket"],
    },
  },
  {
    type: MessageType.WELCOME,
    session: 9129137332,
    details: { roles: { broker: {} } },
  },
  {
    type: MessageType.ABORT,
    details: { message: "bye" },
    reason: "wamp.error.no_such_realm",
    args: ["a"],
    kwargs: { b: 1 },
  },
  {
    type: MessageType.CHALLENGE,
    authmethod: "wampcra",
    extra: { challenge: '{"nonce":1}' },
  },
  {
    type: MessageType.AUTHENTICATE,
    signature: "gir1mSx+deCDUV7FgLvsQNTi6n3W",
    extra: {},
  },
  {
    type: MessageType.GOODBYE,
    details: {},
    reason: "wamp.close.goodbye_and_out",
  },
  {
    type: MessageType.ERROR,
    requestType: MessageType.CALL,
    request: 7814135,
    details: {},
    error: "com.myapp.error",
    args: [1, 2.5, -3, "x", true, false, null],
    kwargs: { nested: { list: [{}, []] } },
  },
  {
    type: MessageType.PUBLISH,
    request: 239714735,
    options: { acknowledge: true, exclude: [1, 2] },
    topic: "com.myapp.mytopic1",
    args: ["Hello, world!"],
  },
  { type: MessageType.PUBLISHED, request: 239714735, publication: 4429313566 },
  {
    type: MessageType.SUBSCRIBE,
    request: 713845233,
    options: { match: "prefix" },
    topic: "com.myapp.",
  },
  {
    type: MessageType.SUBSCRIBED,
    request: 713845233,
    subscription: 5512315355,
  },
  {
    type: MessageType.UNSUBSCRIBE,
    request: 85346237,
    subscription: 5512315355,
  },
  { type: MessageType.UNSUBSCRIBED, request: 85346237 },
  {
    type: MessageType.UNSUBSCRIBED,
    request: 0,
    details: { subscription: 5512315355, reason: "wamp.subscription.revoked" },
  },
  {
    type: MessageType.EVENT,
    subscription: 5512315355,
    publication: 112233445566,
    details: { publisher: 3 },
    args: [],
    kwargs: { temperature: 21.5, unicode: "héllo 世界" },
  },
  {
    type: MessageType.CALL,
    request: 7814135,
    options: { timeout: 1000, receive_progress: true },
    procedure: "com.myapp.myprocedure1",
    args: [[1, [2, [3]]]],
  },
  { type: MessageType.CANCEL, request: 7814135, options: { mode: "kill" } },
  {
    type: MessageType.RESULT,
    request: 7814135,
    details: { progress: true },
    args: [42],
  },
  {
    type: MessageType.REGISTER,
    request: 25349185,
    options: { match: "wildcard" },
    procedure: "com..myprocedure1",
  },
  { type: MessageType.REGISTERED, request: 25349185, registration: 2103333224 },
  {
    type: MessageType.UNREGISTER,
    request: 788923562,
    registration: 2103333224,
  },
  { type: MessageType.UNREGISTERED, request: 788923562 },
  {
    type: MessageType.UNREGISTERED,
    request: 0,
    details: { registration: 2103333224 },
  },
  {
    type: MessageType.INVOCATION,
    request: 6131533,
    registration: 9823526,
    details: { caller: 9129137332 },
    args: ["x"],
    kwargs: { y: -0.5 },
  },
  {
    type: MessageType.INTERRUPT,
    request: 6131533,
    options: { mode: "killnowait" },
  },
  { type: MessageType.YIELD, request: 6131533, options: {} },
  { type: MessageType.EVENT_RECEIVED, publication: 5512315355 },
];

/**
 * Replaces every `Uint8Array` subclass (cbor-x's `Buffer`) with a plain
 * `Uint8Array`, so strict deep equality compares bytes, not prototypes.
 */
export function plainBytes(value: unknown): unknown {
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (Array.isArray(value)) return value.map(plainBytes);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, plainBytes(v)]),
    );
  }
  return value;
}

function roundTrip(serializer: Serializer, msg: WampMessage): unknown {
  return plainBytes(serializer.decode(serializer.encode(msg)));
}

function assertViolation(
  serializer: Serializer,
  frame: string | Uint8Array,
): void {
  throws(() => serializer.decode(frame), ProtocolViolationError);
}

function truncate(frame: string | Uint8Array): string | Uint8Array {
  return frame.slice(0, Math.floor(frame.length / 2));
}

/**
 * Registers the serializer conformance tests for one serializer.
 *
 * @param serializer The serializer under test.
 */
export function runSerializerSuite(serializer: Serializer): void {
  const name = serializer.name;

  Deno.test(`${name}.encode() and decode() round-trip every message kind`, async (t) => {
    for (const msg of SAMPLE_MESSAGES) {
      const label = `${JSON.stringify(msg).slice(0, 60)}`;
      await t.step(label, () => {
        deepEqual(roundTrip(serializer, msg), msg);
      });
    }
  });

  Deno.test(`${name}.encode() produces ${serializer.binary ? "binary" : "text"} frames`, () => {
    const frame = serializer.encode(SAMPLE_MESSAGES[0]!);
    equal(frame instanceof Uint8Array, serializer.binary);
    equal(typeof frame === "string", !serializer.binary);
  });

  Deno.test(`${name}.encode() and decode() keep IDs up to 2^53 as integers`, () => {
    for (
      const id of [
        1,
        2 ** 31,
        2 ** 32 - 1,
        2 ** 32,
        2 ** 32 + 1,
        9129137332,
        MAX_ID - 1,
        MAX_ID,
      ]
    ) {
      const msg: WampMessage = {
        type: MessageType.PUBLISHED,
        request: id,
        publication: id,
      };
      const back = serializer.decode(serializer.encode(msg));
      deepEqual(back, msg, `id ${id}`);
    }
  });

  Deno.test(`${name}.encode() and decode() keep large and negative payload numbers`, () => {
    const numbers = [
      0,
      -1,
      -(2 ** 31),
      -(2 ** 32),
      -(2 ** 32) - 1,
      -9129137332,
      2 ** 40,
      1e300,
      0.1,
    ];
    const msg: WampMessage = {
      type: MessageType.RESULT,
      request: 1,
      details: {},
      args: numbers,
      kwargs: { deep: { list: numbers } },
    };
    deepEqual(roundTrip(serializer, msg), msg);
  });

  Deno.test(`${name}.encode() and decode() keep binary payloads`, () => {
    const bytes = new Uint8Array([
      0x10,
      0xe3,
      0xff,
      0x90,
      0x00,
      0x01,
      0x7f,
      0x80,
    ]);
    const msg: WampMessage = {
      type: MessageType.EVENT,
      subscription: 1,
      publication: 2,
      details: {},
      args: [bytes, "text", { nested: [bytes] }, new Uint8Array(0)],
      kwargs: { blob: bytes, big: new Uint8Array(70_000).fill(0xab) },
    };
    const back = serializer.decode(serializer.encode(msg));
    if (back.type !== MessageType.EVENT) {
      throw new Error(`decoded ${back.type}`);
    }
    ok(back.args?.[0] instanceof Uint8Array, "args[0] is a Uint8Array");
    ok(back.kwargs?.blob instanceof Uint8Array, "kwargs.blob is a Uint8Array");
    deepEqual(plainBytes(back), msg);
  });

  Deno.test(`${name}.encode() and decode() keep a transparent payload`, () => {
    const payload = new Uint8Array([0x83, 0xa5, 0x63, 0x6f, 0x6c]);
    const msg: WampMessage = {
      type: MessageType.PUBLISH,
      request: 1,
      options: { enc_algo: "cryptobox", enc_serializer: "msgpack" },
      topic: "com.myapp.encrypted",
      payload,
    };
    deepEqual(roundTrip(serializer, msg), msg);
  });

  Deno.test(`${name}.decode() rejects a truncated frame`, () => {
    for (const msg of SAMPLE_MESSAGES) {
      assertViolation(serializer, truncate(serializer.encode(msg)));
    }
  });

  Deno.test(`${name}.decode() rejects an empty frame`, () => {
    assertViolation(serializer, serializer.binary ? new Uint8Array(0) : "");
  });

  Deno.test(`${name}.decode() rejects garbage and keeps the cause`, () => {
    const frames: (string | Uint8Array)[] = serializer.binary
      ? [
        new Uint8Array([0xc1]),
        new Uint8Array([0x93, 0x11]),
        new Uint8Array([0x83, 0x11]),
      ]
      : ["not json", "[16,", "[17,1,2]]", new Uint8Array([0xff, 0xfe, 0x5b])];
    for (const frame of frames) {
      throws(
        () => serializer.decode(frame),
        (error: unknown) =>
          error instanceof ProtocolViolationError &&
          error.cause !== undefined &&
          error.message.startsWith(`Cannot decode ${name} message`),
      );
    }
  });

  Deno.test(`${name}.decode() rejects a well-formed value that is not a message`, () => {
    // 0x0a is the integer 10 in both msgpack and CBOR.
    const frame = serializer.binary ? new Uint8Array([0x0a]) : "10";
    throws(() => serializer.decode(frame), {
      name: "ProtocolViolationError",
      message: /non-empty list/,
    });
  });

  Deno.test(`${name}.decode() validates the decoded message`, () => {
    const good = serializer.encode({
      type: MessageType.PUBLISHED,
      request: 1,
      publication: 2,
    });
    deepEqual(serializer.decode(good), {
      type: MessageType.PUBLISHED,
      request: 1,
      publication: 2,
    });
    const bad = serializer.encode(
      {
        type: MessageType.PUBLISH,
        request: 1,
        // @ts-expect-error: a known key of the wrong type, which decode() refuses
        options: { acknowledge: "yes" },
        topic: "t",
      },
    );
    throws(() => serializer.decode(bad), {
      name: "ProtocolViolationError",
      message: /acknowledge/,
    });
  });

  if (serializer.binary) {
    Deno.test(`${name}.decode() rejects a text frame`, () => {
      throws(() => serializer.decode("[17,1,2]"), {
        name: "ProtocolViolationError",
        message: /text frame/,
      });
    });
  } else {
    Deno.test(`${name}.decode() accepts the UTF-8 bytes of a text frame`, () => {
      const frame = new TextEncoder().encode('[36,1,2,{},["héllo"]]');
      deepEqual(serializer.decode(frame), {
        type: MessageType.EVENT,
        subscription: 1,
        publication: 2,
        details: {},
        args: ["héllo"],
      });
    });
  }

  Deno.test(`${name}.encode() encodes a different message object afresh`, () => {
    const a: WampMessage = {
      type: MessageType.PUBLISHED,
      request: 1,
      publication: 2,
    };
    const b: WampMessage = {
      type: MessageType.PUBLISHED,
      request: 1,
      publication: 3,
    };
    const frameA = serializer.encode(a);
    const bytesA = plainBytes(frameA);
    const frameB = serializer.encode(b);
    notDeepEqual(plainBytes(frameB), bytesA);
    deepEqual(serializer.decode(frameB), b);
    // Going back to a is not served from a stale cache, and a's frame is intact.
    deepEqual(plainBytes(serializer.encode(a)), bytesA);
    deepEqual(plainBytes(frameA), bytesA);
    // An equal but distinct object gets its own frame.
    const copy: WampMessage = { ...a };
    const frameCopy = serializer.encode(copy);
    deepEqual(plainBytes(frameCopy), bytesA);
    if (serializer.binary) notStrictEqual(frameCopy, frameA);
  });
}
