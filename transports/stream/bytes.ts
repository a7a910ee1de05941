/**
 * Byte-array helpers shared by the framings and the socket code (one
 * `concat`, in `wamp/bytes.ts`, for the client and the router alike).
 *
 * @module
 */

export { concat } from "../../wamp/bytes.ts";
