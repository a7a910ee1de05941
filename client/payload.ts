/**
 * The runtime check at the client's API edge: a payload (what `publish()`
 * and `call()` take, what an endpoint returns or passes to `progress()`)
 * is `{ args?, kwargs? }`, never a bare value or an array in Autobahn's
 * positional style, which would otherwise go out as an empty payload.
 *
 * @module
 */

/**
 * Checks a payload and says what is wrong with it.
 *
 * Accepted: `undefined` (no payload), or an object whose `args` (if
 * present) is an array and whose `kwargs` (if present) is a non-array
 * object. An object with neither `args` nor `kwargs` must be empty (or
 * carry only `options`, for a YIELD), so `{ result: 5 }` is refused too;
 * other keys next to `args`/`kwargs` (a `Result` or an `Event` passed on
 * as it is) are ignored.
 *
 * @param payload What the application passed or returned.
 * @param where Who passed it, for the message: `Session.publish()`, …
 * @returns A `TypeError` naming `where`, or `undefined` when it is fine.
 */
export function payloadError(payload: unknown, where: string): TypeError | undefined {
  if (payload === undefined) return undefined;
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
    return new TypeError(
      `${where}: the payload must be { args?: unknown[], kwargs?: object }, got ${
        describe(payload)
      }${Array.isArray(payload) ? " (positional arguments go in { args: [...] })" : ""}`,
    );
  }
  const { args, kwargs } = payload as { args?: unknown; kwargs?: unknown };
  if (args !== undefined && !Array.isArray(args)) {
    return new TypeError(`${where}: "args" must be an array, got ${describe(args)}`);
  }
  if (
    kwargs !== undefined && (typeof kwargs !== "object" || kwargs === null || Array.isArray(kwargs))
  ) {
    return new TypeError(`${where}: "kwargs" must be an object, got ${describe(kwargs)}`);
  }
  if (args === undefined && kwargs === undefined) {
    for (const key in payload) {
      if (key === "options") continue;
      return new TypeError(
        `${where}: the payload must be { args?: unknown[], kwargs?: object }, got an object with "${key}"`,
      );
    }
  }
  return undefined;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === "string") return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (typeof value === "object") return "an object";
  return `the ${typeof value} ${String(value).slice(0, 40)}`;
}
