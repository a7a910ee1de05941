/**
 * Secrets kept off the command line: every flag that carries one
 * (`--ticket`, `--secret`, `--password`, `--private-key`, `--http-token`)
 * has a file form, `--<flag>-file PATH`, whose file holds the secret (one
 * trailing newline is dropped). Argv is what `ps` shows every user; a file
 * of mode 0600, or `/dev/stdin`, is not.
 *
 * @module
 */

/** The suffix of a secret flag's file form: `--ticket-file`. */
export const FILE_SUFFIX = "-file";

/**
 * Reads a secret from a file, for the flag's file form.
 *
 * @param flag The flag, for the error (`--ticket-file`).
 * @param path The file.
 * @returns Its text without one trailing newline.
 * @throws {TypeError} One line naming the flag and the file (never the
 * contents) when it cannot be read or is empty.
 */
export async function readSecretFile(flag: string, path: string): Promise<string> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    const why = error instanceof Error ? error.message.replace(/: readfile .*$/, "") : error;
    throw new TypeError(`Cannot read ${flag} "${path}": ${why}`);
  }
  const secret = text.replace(/\r?\n$/, "");
  if (secret === "") throw new TypeError(`Invalid ${flag} "${path}": the file is empty`);
  return secret;
}

/**
 * A secret given either as `--<name> VALUE` or as `--<name>-file PATH`.
 *
 * @param name The flag's name without dashes (`ticket`).
 * @param value The value of `--<name>`, if given.
 * @param file The value of `--<name>-file`, if given.
 * @returns The secret, or `undefined` when neither was given.
 * @throws {TypeError} When both were given, or the file cannot be read.
 */
export async function secretFlag(
  name: string,
  value: string | undefined,
  file: string | undefined,
): Promise<string | undefined> {
  if (file === undefined) return value;
  if (value !== undefined) {
    throw new TypeError(`Give --${name} or --${name}${FILE_SUFFIX}, not both`);
  }
  return await readSecretFile(`--${name}${FILE_SUFFIX}`, file);
}
