/**
 * A registration as the application holds it ({@linkcode Registration}),
 * and the callee role's ways to end it or move it to a new session's ID.
 *
 * @module
 */

// The callee role's way to end or move a registration, kept off the public class.
let end: (reg: Registration, revoked?: string) => void;
let rebind: (reg: Registration, id: number, unregister: () => Promise<void>) => void;

/**
 * A registered procedure. Dispose it (`await using`) or call
 * {@linkcode Registration.unregister} to withdraw it.
 */
export class Registration implements AsyncDisposable {
  static {
    end = (reg, revoked) => reg.#end(revoked);
    rebind = (reg, id, unregister) => {
      reg.#id = id;
      reg.#unregister = unregister;
    };
  }
  /** The procedure URI or pattern registered. */
  readonly procedure: string;
  /**
   * Whether it outlives its session: made through a `Connection`, it is
   * registered again on each new session (and stays active in between).
   */
  readonly durable: boolean;
  #id: number;
  #active = true;
  #revoked: string | undefined;
  #unregister: () => Promise<void>;

  /**
   * Created by the session; not meant to be constructed directly.
   *
   * @param id The registration ID.
   * @param procedure The procedure URI or pattern.
   * @param unregister How to unregister.
   * @param durable Whether it outlives its session (see {@linkcode Registration.durable}).
   */
  constructor(
    id: number,
    procedure: string,
    unregister: () => Promise<void>,
    durable = false,
  ) {
    this.#id = id;
    this.procedure = procedure;
    this.#unregister = unregister;
    this.durable = durable;
  }

  /** The router's registration ID (a durable registration gets a new one per session). */
  get id(): number {
    return this.#id;
  }

  /** False once unregistered, revoked, or the session (a durable one: its connection) ended. */
  get active(): boolean {
    return this.#active;
  }

  /**
   * Why the router revoked the registration (`registration_revocation`):
   * its reason, or `""` without one; `undefined` unless revoked.
   */
  get revoked(): string | undefined {
    return this.#revoked;
  }

  #end(revoked?: string): void {
    if (!this.#active) return;
    this.#active = false;
    this.#revoked = revoked;
  }

  /** Withdraws the registration (nothing to do once inactive). */
  async unregister(): Promise<void> {
    if (!this.#active) return;
    this.#active = false;
    await this.#unregister();
  }

  /** Unregisters (for `await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.unregister();
  }
}

/**
 * Ends a registration: revoked, its session ended, or a durable one for
 * good (its `Connection` stopped, or the router refused it on a new
 * session). Internal.
 *
 * @param registration The registration.
 * @param revoked Why, when the router revoked or refused it.
 */
export function endRegistration(registration: Registration, revoked?: string): void {
  end(registration, revoked);
}

/**
 * Moves a durable registration to its new session's registration ID.
 * Internal: the callee role's.
 *
 * @param registration The registration.
 * @param id Its new ID.
 * @param unregister How to unregister it now.
 */
export function rebindRegistration(
  registration: Registration,
  id: number,
  unregister: () => Promise<void>,
): void {
  rebind(registration, id, unregister);
}
