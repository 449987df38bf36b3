import assert from "node:assert/strict";
import { MetricsRegistry } from "../telemetry/metrics.ts";
import { FleetMetrics } from "./fleet_metrics.ts";

const report = (bytesSynced: number, failed = 0, diskFree: number | null = 5e9) => ({
  reportedAt: "2025-01-06T12:00:00Z",
  bytesSynced,
  diskFree,
  counts: { desired: 2, synced: 2 - failed, pending: 0, failed },
  lastError: failed ? "1 artifact(s) failed to sync" : null,
});

Deno.test("fleet metrics: bytes across restarts, errors, last success, disk", () => {
  const registry = new MetricsRegistry();
  const fleet = new FleetMetrics(registry);
  fleet.record("a", report(100));
  fleet.record("a", report(250)); // +150
  fleet.record("a", report(40)); // restarted: +40
  fleet.record("b", report(10, 1, 1e9));
  const text = registry.render();
  for (
    const line of [
      "ground_control_fleet_bytes_synced_total 300",
      'ground_control_fleet_artifacts{status="failed"} 1',
      'ground_control_fleet_artifacts{status="synced"} 3',
      "ground_control_fleet_satellites_with_errors 1",
      `ground_control_fleet_last_sync_success_timestamp_seconds ${Date.parse("2025-01-06T12:00:00Z") / 1000}`,
      "ground_control_fleet_disk_free_min_bytes 1000000000",
      "ground_control_fleet_reporting_satellites 2",
    ]
  ) assert.ok(text.includes(`${line}\n`), `${line} in\n${text}`);
  fleet.forget("b");
  assert.ok(registry.render().includes("ground_control_fleet_satellites_with_errors 0\n"));
});
