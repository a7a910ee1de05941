/**
 * Runs a test body against a resource, then disposes of it. Unlike `await
 * using`, which reports a failing body plus a failing teardown as a bare
 * `SuppressedError`, this reports both.
 *
 * @param resource The resource (disposed of whatever the body did).
 * @param fn The body.
 */
export async function useThenDispose<T extends AsyncDisposable>(
  resource: T,
  fn: (resource: T) => Promise<void>,
): Promise<void> {
  let failure: unknown;
  try {
    await fn(resource);
  } catch (error) {
    failure = error;
  }
  try {
    await resource[Symbol.asyncDispose]();
  } catch (error) {
    if (failure === undefined) throw error;
    const first = failure instanceof Error ? failure.stack ?? failure.message : String(failure);
    throw new Error(`${first}\n...and then: ${(error as Error).message}`);
  }
  if (failure !== undefined) throw failure;
}
