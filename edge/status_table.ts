/**
 * `satellite status` for people: a summary block, then one table row per artifact (status,
 * repository, digest, tags, groups), with failures' errors under the table. Scripts use `--json`.
 *
 * @example
 * ```ts
 * import { formatStatus } from "./status_table.ts";
 * declare const status: import("./status.ts").SatelliteStatus;
 * console.log(formatStatus(status));
 * ```
 * @module
 */
import { formatBytes } from "./progress.ts";
import type { SatelliteStatus } from "./status.ts";

/**
 * Left-aligned columns separated by two spaces (the last column is not padded).
 *
 * @example
 * ```ts
 * formatTable([["A", "BB"], ["ccc", "d"]]); // "A    BB\nccc  d"
 * ```
 */
export function formatTable(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => widths[i] = Math.max(widths[i] ?? 0, cell.length));
  return rows.map((row) =>
    row.map((cell, i) => i === row.length - 1 ? cell : cell.padEnd(widths[i])).join("  ").trimEnd()
  ).join("\n");
}

/**
 * Human-readable status.
 *
 * @example
 * ```ts
 * declare const status: SatelliteStatus;
 * formatStatus(status).startsWith("satellite"); // true
 * ```
 */
export function formatStatus(status: SatelliteStatus): string {
  const groups = Object.entries(status.applied.groups).map(([n, g]) => `${n} (seq ${g.seq})`).join(", ");
  const summary = formatTable([
    ["satellite", status.satellite ?? "(not registered)"],
    ["local registry", `${status.localRegistry.mode} ${status.localRegistry.url}`],
    ["central registry", status.centralRegistry ?? "-"],
    ["state", status.applied.satellite ? `seq ${status.applied.satellite.seq}` : "none yet"],
    ["groups", groups || "-"],
    [
      "artifacts",
      `${status.counts.synced} synced, ${status.counts.pending} pending, ${status.counts.failed} failed` +
      (status.converged ? " (converged)" : ""),
    ],
    ...(status.bytesSynced > 0 ? [["bytes synced", formatBytes(status.bytesSynced)]] : []),
    ...(status.diskFree !== null ? [["disk free", formatBytes(status.diskFree)]] : []),
    ...(status.lastPoll
      ? [["last poll", `${status.lastPoll.at} (${status.lastPoll.ms.toFixed(0)} ms)`]]
      : []),
    ["last error", status.lastError ?? "-"],
    ["versions", `satellite ${status.versions.satellite}, deno ${status.versions.deno}`],
  ].map(([k, v]) => [`${k}:`, v]));
  if (status.artifacts.length === 0) return summary;
  const rows = [["STATUS", "REPOSITORY", "DIGEST", "TAGS", "GROUPS"]];
  for (const a of status.artifacts) {
    rows.push([a.status, a.repository, a.digest.slice(0, 19), a.tags.join(",") || "-", a.groups.join(",")]);
  }
  const errors = status.artifacts.filter((a) => a.error && a.status === "failed")
    .map((a) => `error ${a.repository}@${a.digest.slice(0, 19)}: ${a.error}`);
  return [summary, "", formatTable(rows), ...errors].join("\n");
}
