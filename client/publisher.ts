/**
 * The publisher role: PUBLISH, acknowledged (PUBLISHED or ERROR) or not.
 *
 * @module
 */

import { MessageType, type PublishMessage, type PublishOptions } from "../wamp/mod.ts";
import type { Arguments, SessionContext } from "./context.ts";
import { payloadError } from "./payload.ts";

/** The publisher half of a session. Internal: the session delegates to it. */
export class Publisher {
  #ctx: SessionContext;

  /**
   * @param ctx The session.
   */
  constructor(ctx: SessionContext) {
    this.#ctx = ctx;
  }

  /**
   * Publishes an event; see `Session.publish()`.
   *
   * @param topic The topic.
   * @param payload Arguments and keyword arguments.
   * @param options PUBLISH options.
   * @returns The publication ID when acknowledged.
   * @throws {TypeError} When `payload` is not `{ args?, kwargs? }`.
   */
  async publish(
    topic: string,
    payload: Arguments = {},
    options: PublishOptions = {},
  ): Promise<number | undefined> {
    const wrong = payloadError(payload, `Session.publish(${topic})`);
    if (wrong !== undefined) throw wrong;
    const make = (request: number): PublishMessage => ({
      type: MessageType.PUBLISH,
      request,
      options,
      topic,
      ...payload,
    });
    if (options.acknowledge !== true) {
      this.#ctx.send(make(this.#ctx.nextRequest()));
      return undefined;
    }
    const reply = await this.#ctx.request(make);
    return (reply as { publication: number }).publication;
  }
}
