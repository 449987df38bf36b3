/**
 * The satellite software version, reported at registration and in every status report.
 *
 * @example
 * ```ts
 * import { SATELLITE_VERSION } from "./version.ts";
 * console.log(SATELLITE_VERSION);
 * ```
 * @module
 */

/** The satellite version. */
export const SATELLITE_VERSION = "0.1.0";
