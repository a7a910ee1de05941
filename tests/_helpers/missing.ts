/**
 * A test whose component (a reference file, a third-party peer, `openssl`)
 * is missing fails, saying what is missing: it does not pass, nor is it
 * ignored, silently. `.ci/run` installs what a fresh machine lacks.
 */

/**
 * Registers `name` as a test that fails with `why`.
 *
 * @param name The test's name.
 * @param why What is missing and how to get it.
 */
export function missing(name: string, why: string): void {
  Deno.test(name, () => {
    throw new Error(`missing: ${why}`);
  });
}
