/**
 * Fleet figures for Ground Control's `/metrics`, from the status reports satellites send: image
 * bytes synced across the fleet, failed artifacts and satellites with errors, when a satellite last
 * reported a converged sync, artifacts by status, and the lowest free disk. Kept in memory from the
 * latest report per satellite (rebuilt as reports arrive after a restart), so scrapes cost nothing
 * per satellite and the series do not grow with the fleet.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "../telemetry/metrics.ts";
 * import { FleetMetrics } from "./fleet_metrics.ts";
 * const registry = new MetricsRegistry();
 * const fleet = new FleetMetrics(registry);
 * fleet.record("shop-1", { reportedAt: new Date().toISOString(), bytesSynced: 1024, diskFree: 8e9, counts: { desired: 1, synced: 1, pending: 0, failed: 0 }, lastError: null });
 * registry.render();
 * ```
 * @module
 */
import type { MetricsRegistry } from "../telemetry/metrics.ts";

/** The parts of a status report the fleet figures use. */
export interface FleetReport {
  reportedAt: string;
  bytesSynced: number;
  diskFree: number | null;
  counts: { desired: number; synced: number; pending: number; failed: number };
  lastError: string | null;
}

interface Latest {
  bytesSynced: number;
  diskFree: number | null;
  counts: FleetReport["counts"];
  error: boolean;
}

/**
 * Aggregates the latest report of every satellite.
 *
 * @example
 * ```ts
 * declare const fleet: FleetMetrics;
 * fleet.forget("shop-1");
 * ```
 */
export class FleetMetrics {
  readonly #latest = new Map<string, Latest>();
  readonly #bytes;
  #lastSuccess = 0;

  constructor(registry: MetricsRegistry) {
    this.#bytes = registry.counter(
      "ground_control_fleet_bytes_synced_total",
      "Image bytes satellites report having fetched from the central registry.",
    );
    this.#bytes.inc({}, 0);
    const sum = (pick: (l: Latest) => number) => {
      let total = 0;
      for (const latest of this.#latest.values()) total += pick(latest);
      return total;
    };
    registry.gauge(
      "ground_control_fleet_artifacts",
      "Artifacts across the fleet by status (latest reports).",
      [
        "status",
      ],
    ).collector(() =>
      (["synced", "pending", "failed"] as const).map((status) => ({
        labels: { status },
        value: sum((l) => l.counts[status]),
      }))
    );
    registry.gauge(
      "ground_control_fleet_satellites_with_errors",
      "Satellites whose latest report has an error.",
    )
      .collector(() => [{ labels: {}, value: sum((l) => l.error ? 1 : 0) }]);
    registry.gauge(
      "ground_control_fleet_last_sync_success_timestamp_seconds",
      "When a satellite last reported everything synced (0 = not since start).",
    ).collector(() => [{ labels: {}, value: this.#lastSuccess / 1000 }]);
    registry.gauge("ground_control_fleet_disk_free_min_bytes", "Lowest free disk any satellite reports.")
      .collector(() => {
        const free = [...this.#latest.values()].flatMap((l) => l.diskFree === null ? [] : [l.diskFree]);
        return free.length ? [{ labels: {}, value: Math.min(...free) }] : [];
      });
    registry.gauge("ground_control_fleet_reporting_satellites", "Satellites that reported since start.")
      .collector(() => [{ labels: {}, value: this.#latest.size }]);
  }

  /**
   * Takes a satellite's report into account.
   *
   * @example
   * ```ts
   * declare const report: FleetReport;
   * fleet.record("shop-1", report);
   * ```
   */
  record(name: string, report: FleetReport): void {
    const previous = this.#latest.get(name);
    // bytesSynced counts since the satellite process started: a smaller value means it restarted.
    const delta = previous && report.bytesSynced >= previous.bytesSynced
      ? report.bytesSynced - previous.bytesSynced
      : report.bytesSynced;
    if (delta > 0) this.#bytes.inc({}, delta);
    const { counts } = report;
    const error = report.lastError !== null || counts.failed > 0;
    if (!error && counts.pending === 0 && counts.synced === counts.desired) {
      this.#lastSuccess = Math.max(this.#lastSuccess, Date.parse(report.reportedAt) || 0);
    }
    this.#latest.set(name, { bytesSynced: report.bytesSynced, diskFree: report.diskFree, counts, error });
  }

  /** Drops a satellite (revoked or deleted). */
  forget(name: string): void {
    this.#latest.delete(name);
  }
}
