/**
 * The admin listener: Prometheus metrics, health and readiness, and a
 * live dashboard page, served beside a router's WAMP listeners.
 *
 * @module
 */

export { type AdminOptions, type AdminServer, serveAdmin } from "./server.ts";
