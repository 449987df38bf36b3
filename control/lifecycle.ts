/**
 * Satellite lifecycle and drift, derived on read from timestamps and the report interval (never a
 * stored status field, so it cannot go stale): `revoked` once revoked; `pending` until the token
 * is exchanged; then `online` when seen within 2x the report interval, `stale` within 10x, else
 * `offline`.
 *
 * @example
 * ```ts
 * import { deriveLifecycle } from "./lifecycle.ts";
 * deriveLifecycle({ registeredAt: "2025-01-01T00:00:00Z", revokedAt: null }, "2025-01-01T00:00:30Z", 60, new Date("2025-01-01T00:01:00Z")); // "online"
 * ```
 * @module
 */
import type { Lifecycle } from "../schemas/control.ts";
import type { AppliedStates } from "../schemas/status.ts";

/** Multiples of the report interval that bound `online` and `stale`. */
export const ONLINE_WITHIN = 2;
export const STALE_WITHIN = 10;

/**
 * The lifecycle of a satellite at `now`.
 *
 * @example
 * ```ts
 * deriveLifecycle({ registeredAt: null, revokedAt: null }, null, 60, new Date()); // "pending"
 * ```
 */
export function deriveLifecycle(
  sat: { registeredAt: string | null; revokedAt: string | null },
  lastSeenAt: string | null,
  reportIntervalSeconds: number,
  now: Date,
): Lifecycle {
  if (sat.revokedAt) return "revoked";
  if (!sat.registeredAt) return "pending";
  const seen = Math.max(Date.parse(lastSeenAt ?? sat.registeredAt), Date.parse(sat.registeredAt));
  const ageSeconds = (now.getTime() - seen) / 1000;
  if (ageSeconds <= ONLINE_WITHIN * reportIntervalSeconds) return "online";
  if (ageSeconds <= STALE_WITHIN * reportIntervalSeconds) return "stale";
  return "offline";
}

/** Desired state digests for one satellite (what the status response carries). */
export interface Desired {
  satellite?: string;
  groups: Record<string, string>;
}

/**
 * True when what a satellite reported applying differs from what is desired.
 *
 * @example
 * ```ts
 * hasDrift({ groups: { g: "sha256:a" } }, { groups: {} }); // true
 * ```
 */
export function hasDrift(desired: Desired, applied: AppliedStates): boolean {
  if (desired.satellite && applied.satellite?.digest !== desired.satellite) return true;
  for (const [group, digest] of Object.entries(desired.groups)) {
    if (applied.groups[group]?.digest !== digest) return true;
  }
  return false;
}
