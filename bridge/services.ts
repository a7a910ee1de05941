/**
 * Outgoing REST services as procedures: a CALL to a configured procedure
 * becomes one HTTP request to its configured URL (placeholders filled from
 * the call's arguments, URL-encoded, so the host is always the configured
 * one), and the response becomes the RESULT, or ERROR
 * `cloverleaf.error.http_status` for a status of 400 or more. The realm
 * serves the procedure itself (as it serves the meta API), so callers are
 * authorized as for any call.
 *
 * @module
 */

import { CallError } from "../router/core/errors.ts";
import { deferred, type RouterProcedure } from "../router/core/procedures.ts";
import { realmOf, type Router } from "../router/router.ts";
import { type Dict, ErrorUri, type Payload } from "../wamp/mod.ts";
import { type Logger, type LogLevel, quietLogger } from "../wamp/log.ts";
import type { HttpServiceOptions } from "./config.ts";
import { BridgeError } from "./errors.ts";
import { readBounded } from "../transports/stream/bytes.ts";
import { unsafeValue } from "../wamp/payload.ts";
import { parseJson } from "./inbound.ts";

/**
 * Fills a URL template: `{name}` from kwargs, `{0}` from args, each value
 * URL-encoded.
 *
 * @param template The configured URL.
 * @param args The call's positional arguments.
 * @param kwargs The call's keyword arguments.
 * @returns The URL.
 * @throws {CallError} `wamp.error.invalid_argument` for a missing value, a
 * value `.` or `..` (a dot segment), or
 * when the result would not stay on the configured origin.
 *
 * @example
 * ```ts
 * import { fillTemplate } from "./services.ts";
 * import { equal, throws } from "node:assert/strict";
 *
 * equal(
 *   fillTemplate("http://api.local/users/{id}?q={0}", ["a b"], { id: "x/../y" }),
 *   "http://api.local/users/x%2F..%2Fy?q=a%20b",
 * );
 * throws(() => fillTemplate("http://api.local/users/{id}/profile", [], { id: ".." }));
 * ```
 */
export function fillTemplate(template: string, args: unknown[], kwargs: Dict): string {
  const filled = template.replace(/\{([A-Za-z0-9_]+)\}/g, (_, name: string) => {
    const value = /^\d+$/.test(name) ? args[Number(name)] : kwargs[name];
    if (
      typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean"
    ) {
      throw new CallError(ErrorUri.INVALID_ARGUMENT, `missing URL parameter "${name}"`);
    }
    const text = String(value);
    // Encoded or not, a dot segment climbs the path: /users/{id}/profile with ".." is /profile.
    if (text === "." || text === "..") {
      throw new CallError(
        ErrorUri.INVALID_ARGUMENT,
        `URL parameter "${name}" may not be "${text}"`,
      );
    }
    return encodeURIComponent(text);
  });
  const origin = (url: string) => /^https?:\/\/[^/?#]+/.exec(url)?.[0];
  if (origin(filled) !== origin(template)) {
    throw new CallError(ErrorUri.INVALID_ARGUMENT, "the URL must stay on the configured host");
  }
  return filled;
}

/**
 * A URL as the log shows it: without its user info, query and fragment,
 * which may hold a key (`?api_key=`).
 */
function shownUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

/**
 * Why a request failed, for the log: the fetch error's text and its
 * cause's (Deno's names the URL, which is replaced by the one shown).
 */
function failure(error: unknown, url: string): string {
  const cause = (error as Error).cause;
  const text = [error, ...(cause === undefined ? [] : [cause])]
    .map((e) => e instanceof Error ? e.message : String(e)).join(": ");
  const shown = shownUrl(url);
  return [url, new URL(url).href].reduce((t, secret) => t.replaceAll(secret, shown), text);
}

/**
 * The HTTP exchange of one call: status, headers and body, or a CallError.
 * A caller's ERROR names the procedure and what went wrong, never the URL
 * (its host, port and query are the operator's); the URL shown and why go
 * to `log`.
 */
async function exchange(
  service: HttpServiceOptions,
  url: string,
  kwargs: Dict,
  log: (level: LogLevel, message: string, reason: string) => void,
): Promise<Payload> {
  const init: RequestInit = {
    method: service.method,
    headers: { ...service.headers },
    redirect: "manual", // a redirect must not lead to another host
    signal: AbortSignal.timeout(service.timeout),
  };
  if (service.method !== "GET" && kwargs.body !== undefined) {
    init.body = JSON.stringify(kwargs.body);
    (init.headers as Record<string, string>)["content-type"] ??= "application/json";
  }
  const request = `${service.method} ${shownUrl(url)}`;
  // A timeout while the head or the body is still coming is wamp.error.timeout.
  const failed = (error: unknown): CallError => {
    const timeout = error instanceof DOMException && error.name === "TimeoutError";
    const said = timeout
      ? `no answer in ${service.timeout} ms`
      : "the service could not be reached";
    log("warn", `${request}: ${said}`, timeout ? ErrorUri.TIMEOUT : failure(error, url));
    return new CallError(
      timeout ? ErrorUri.TIMEOUT : BridgeError.UNAVAILABLE,
      `${service.procedure}: ${said}`,
    );
  };
  let response: Response;
  let bytes: Uint8Array | undefined;
  try {
    response = await fetch(url, init);
    bytes = await readBounded(response, service.maxResponseSize);
  } catch (error) {
    throw failed(error);
  }
  if (bytes === undefined) {
    throw new CallError(
      ErrorUri.LIMIT_EXCEEDED,
      `the response is over ${service.maxResponseSize} bytes`,
    );
  }
  const body = responseBody(bytes, (response.headers.get("content-type") ?? "").includes("json"));
  const status = response.status;
  if (status >= 400) {
    log("debug", `${request}: HTTP ${status}`, BridgeError.HTTP_STATUS);
    throw new CallError(BridgeError.HTTP_STATUS, `${service.procedure}: HTTP ${status}`, {
      status,
      body,
    });
  }
  const contentType = response.headers.get("content-type");
  return {
    args: [body],
    kwargs: { status, ...(contentType === null ? {} : { content_type: contentType }) },
  };
}

/**
 * A response body as the result carries it: JSON as WAMP's JSON reads it
 * (`"\u0000"` and Base64 are bytes), else the text; what another serializer
 * could not carry (a `__proto__` key, nesting past 64 levels) goes as the
 * text, and text that starts with U+0000 as the bytes (JSON callers would
 * read it as binary, and were closed when it was not Base64).
 */
function responseBody(bytes: Uint8Array, json: boolean): unknown {
  const text = new TextDecoder().decode(bytes);
  if (json) {
    try {
      const value = parseJson(text);
      if (unsafeValue(value) === undefined) return value;
    } catch {
      // not JSON (or not Base64) after all: the text
    }
  }
  return text.charCodeAt(0) === 0 ? bytes : text;
}

/**
 * The router procedure for one service: the HTTP exchange runs as a task
 * effect (the shell awaits it), its outcome answers the CALL. A request
 * that failed (no answer in time, the service not reached) is a `warn`
 * line (`event` `http_service_failed`), an HTTP status of 400 or more a
 * `debug` line (`http_service_status`), each with the URL without its
 * query: callers cause them at will, so they are limited as failed logins
 * are, per the calling session's source (its `peer`), so that one noisy
 * caller does not hide the others' failures.
 *
 * @param service The service.
 * @param logger Where those lines go (the router's log).
 * @returns The procedure.
 */
export function serviceProcedure(
  service: HttpServiceOptions,
  logger: Logger = quietLogger,
): RouterProcedure {
  let inFlight = 0;
  return (caller, args, kwargs) => {
    const url = fillTemplate(service.url, args, kwargs);
    if (inFlight >= service.maxInFlight) {
      throw new CallError(
        ErrorUri.LIMIT_EXCEEDED,
        `${service.maxInFlight} requests to ${service.procedure} already in flight`,
      );
    }
    inFlight++;
    return deferred((reply) => ({
      messages: [],
      effects: [{
        kind: "task",
        run: () =>
          exchange(
            service,
            url,
            kwargs,
            (level, message, reason) =>
              logger(level, `HTTP service ${service.procedure}: ${message}`, {
                realm: caller.realm,
                session: caller.id,
                authid: caller.authid,
                peer: caller.peer, // the log's limit counts these lines per caller's source
                reason,
                event: level === "debug" ? "http_service_status" : "http_service_failed",
              }),
          ),
        resume: (settled) =>
          reply(() => {
            inFlight--;
            if (settled.ok) return settled.value as Payload;
            if (settled.error instanceof CallError) throw settled.error;
            throw new CallError(ErrorUri.RUNTIME_ERROR, String(settled.error));
          }),
      }],
    }));
  };
}

/**
 * What is wrong with services a router would serve: a realm it does not
 * have, or a procedure another serves in its realm (the last would win).
 *
 * @param router The router.
 * @param services The resolved services.
 * @param keys Each service's config key, for the errors (`httpServices[i]`).
 * @returns The faults: each one line naming its key.
 */
export function httpServiceFaults(
  router: Router,
  services: readonly HttpServiceOptions[],
  keys: readonly string[] = services.map((_, i) => `httpServices[${i}]`),
): { key: string; message: string }[] {
  const faults: { key: string; message: string }[] = [];
  const served = new Map<string, string>();
  services.forEach((service, i) => {
    const at = keys[i]!;
    const name = service.realm ?? router.realmNames[0];
    if (name === undefined || realmOf(router, name) === undefined) {
      const key = `${at}.realm`;
      faults.push({ key, message: `Invalid config "${key}": no realm ${JSON.stringify(name)}` });
      return;
    }
    const first = served.get(`${name}\0${service.procedure}`);
    if (first === undefined) return void served.set(`${name}\0${service.procedure}`, at);
    const key = `${at}.procedure`;
    const reason = `"${service.procedure}" is already served by ${first}`;
    faults.push({ key, message: `Invalid config "${key}": ${reason}` });
  });
  return faults;
}

/**
 * Serves each service's procedure in its realm (the first realm when it
 * names none).
 *
 * @param router The router.
 * @param services The resolved services.
 * @param keys Each service's config key, for the errors, or the path of
 * their list (`httpServices`: `httpServices[i]` each).
 * @throws {TypeError} The first of {@linkcode httpServiceFaults}, before
 * any is served.
 */
export function provideHttpServices(
  router: Router,
  services: readonly HttpServiceOptions[],
  keys: readonly string[] | string = "httpServices",
): void {
  const each = typeof keys === "string" ? services.map((_, i) => `${keys}[${i}]`) : keys;
  const fault = httpServiceFaults(router, services, each)[0];
  if (fault !== undefined) throw new TypeError(fault.message);
  for (const service of services) {
    realmOf(router, service.realm ?? router.realmNames[0]!)!
      .provide(service.procedure, serviceProcedure(service, router.log));
  }
}
