/**
 * The satellite's status: a snapshot for humans (`satellite status`) and the report for Ground
 * Control (`schemas/status.ts`), both built from the same facts.
 *
 * @example
 * ```ts
 * import { buildReport, snapshotStatus } from "./status.ts";
 * const status = snapshotStatus({ local: { mode: "builtin", url: "http://127.0.0.1:8585" }, satellite: null, groups: new Map(), records: [], bytesSynced: 0, converged: false, lastError: null });
 * buildReport(status).counts;
 * ```
 * @module
 */
import type { StatusReportInput } from "../schemas/status.ts";
import type { AppliedGroup, AppliedSatelliteRecord } from "./applied.ts";
import type { ArtifactRecord } from "./records.ts";
import { SATELLITE_VERSION } from "./version.ts";
import type { Identity } from "./ztr.ts";

/** What `satellite status` shows. */
export interface SatelliteStatus {
  satellite: string | null;
  registered: boolean;
  registeredAt: string | null;
  centralRegistry: string | null;
  localRegistry: { mode: string; url: string };
  applied: {
    satellite?: { digest: string; seq: number };
    groups: Record<string, { digest: string; seq: number }>;
  };
  counts: { desired: number; synced: number; pending: number; failed: number };
  artifacts: ArtifactRecord[];
  bytesSynced: number;
  diskFree: number | null;
  converged: boolean;
  lastPoll?: { at: string; ms: number; requests: number; changed: boolean; errors: string[] };
  lastError: string | null;
  versions: { satellite: string; deno: string };
}

/** The facts a snapshot is made of. */
export interface StatusFacts {
  identity?: Identity;
  local: { mode: string; url: string };
  satellite: AppliedSatelliteRecord | null;
  groups: ReadonlyMap<string, AppliedGroup>;
  records: ArtifactRecord[];
  bytesSynced: number;
  diskFree?: number | null;
  converged: boolean;
  lastPoll?: SatelliteStatus["lastPoll"];
  lastError: string | null;
}

/**
 * Builds a status snapshot.
 *
 * @example
 * ```ts
 * declare const facts: StatusFacts;
 * snapshotStatus(facts).counts.synced;
 * ```
 */
export function snapshotStatus(facts: StatusFacts): SatelliteStatus {
  const counts = { desired: facts.records.length, synced: 0, pending: 0, failed: 0 };
  for (const r of facts.records) {
    if (r.status === "synced") counts.synced++;
    else if (r.status === "failed") counts.failed++;
    else counts.pending++;
  }
  const groups: Record<string, { digest: string; seq: number }> = {};
  for (const [name, g] of facts.groups) groups[name] = { digest: g.digest, seq: g.seq };
  return {
    satellite: facts.identity?.satellite.name ?? null,
    registered: facts.identity !== undefined,
    registeredAt: facts.identity?.registeredAt ?? null,
    centralRegistry: facts.identity?.registry.url ?? null,
    localRegistry: facts.local,
    applied: {
      ...(facts.satellite ? { satellite: { digest: facts.satellite.digest, seq: facts.satellite.seq } } : {}),
      groups,
    },
    counts,
    artifacts: facts.records,
    bytesSynced: facts.bytesSynced,
    diskFree: facts.diskFree ?? null,
    converged: facts.converged,
    lastPoll: facts.lastPoll,
    lastError: facts.lastError,
    versions: { satellite: SATELLITE_VERSION, deno: Deno.version.deno },
  };
}

/**
 * The report Ground Control receives, built from a snapshot.
 *
 * @example
 * ```ts
 * declare const status: SatelliteStatus;
 * buildReport(status).applied;
 * ```
 */
export function buildReport(status: SatelliteStatus): StatusReportInput {
  return {
    satellite: status.satellite ?? "unregistered",
    reportedAt: new Date().toISOString(),
    applied: status.applied,
    artifacts: status.artifacts.map((a) => ({
      repository: a.repository,
      digest: a.digest,
      tags: a.tags,
      status: a.status,
      ...(a.error && a.status === "failed" ? { error: a.error.slice(0, 4096) } : {}),
    })),
    counts: status.counts,
    bytesSynced: status.bytesSynced,
    diskFree: status.diskFree,
    lastError: status.lastError?.slice(0, 4096) ?? null,
    versions: status.versions,
  };
}

/**
 * Free bytes on the filesystem holding `path` (via `df`), or null when unknown.
 *
 * @example
 * ```ts
 * await diskFree("/var/lib/satellite");
 * ```
 */
export async function diskFree(path: string): Promise<number | null> {
  try {
    const out = await new Deno.Command("df", {
      args: ["-P", "-B1", path],
      stdout: "piped",
      stderr: "null",
    }).output();
    if (!out.success) return null;
    const line = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
    const available = Number(line.split(/\s+/)[3]);
    return Number.isFinite(available) ? available : null;
  } catch {
    return null;
  }
}
