/**
 * SASLprep (RFC 4013), the string preparation WAMP-SCRAM applies to
 * passwords before the key derivation, so that visually equal passwords
 * derive the same key.
 *
 * @module
 */

/** RFC 3454 table B.1: characters commonly mapped to nothing. */
const MAPPED_TO_NOTHING =
  /[\u00AD\u034F\u1806\u180B-\u180D\u200B-\u200D\u2060\uFE00-\uFE0F\uFEFF]/gu;
/** RFC 3454 table C.1.2: non-ASCII space characters, mapped to U+0020. */
const NON_ASCII_SPACE = /[\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]/gu;
/**
 * RFC 3454 tables C.2.1 to C.9, which SASLprep prohibits: control
 * characters, private use, non-characters, surrogates, characters
 * inappropriate for plain text or canonical representation, characters
 * that change display properties, and tagging characters.
 */
const PROHIBITED = new RegExp(
  "[\\p{Cc}\\p{Co}\\p{Cs}\\p{Noncharacter_Code_Point}\\u0340\\u0341\\u06DD\\u070F" +
    "\\u180E\\u200C-\\u200F\\u2028-\\u202E\\u2060-\\u2063\\u206A-\\u206F\\u2FF0-\\u2FFB" +
    "\\uFEFF\\uFFF9-\\uFFFD\\u{1D173}-\\u{1D17A}\\u{E0001}\\u{E0020}-\\u{E007F}]",
  "u",
);

/**
 * Prepares a string with SASLprep as a query string (unassigned code points
 * are allowed, as RFC 5802 asks for passwords): removes the characters
 * mapped to nothing, maps non-ASCII spaces to U+0020, applies NFKC and
 * rejects prohibited characters. The bidirectional-text check (RFC 3454
 * section 6) is not applied: JavaScript has no Bidi_Class lookup. ASCII
 * text without control characters comes back unchanged.
 *
 * @param text The string, e.g. a password.
 * @returns The prepared string.
 * @throws {RangeError} If the prepared string holds a prohibited character.
 */
export function saslprep(text: string): string {
  const prepared = text.replace(MAPPED_TO_NOTHING, "").replace(NON_ASCII_SPACE, " ")
    .normalize("NFKC");
  const bad = PROHIBITED.exec(prepared);
  if (bad !== null) {
    const code = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
    throw new RangeError(`Cannot prepare string with SASLprep: prohibited character U+${code}`);
  }
  return prepared;
}
