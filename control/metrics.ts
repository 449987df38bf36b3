/**
 * Ground Control's Prometheus metrics (`GET /metrics`) on the shared `telemetry/metrics.ts`
 * registry: requests by route and status class, registrations, status reports, rate-limit refusals,
 * and state pushes pending or waiting to be retried.
 *
 * @example
 * ```ts
 * import { createControlMetrics } from "./metrics.ts";
 * const metrics = createControlMetrics(() => ({ pending: 0, retries: 0 }));
 * metrics.ztr.inc({ result: "registered" });
 * console.log(metrics.registry.render());
 * ```
 * @module
 */
import { type Counter, MetricsRegistry } from "../telemetry/metrics.ts";
import { FleetMetrics } from "./fleet_metrics.ts";

/** The metrics Ground Control updates. */
export interface ControlMetrics {
  registry: MetricsRegistry;
  /** Labels: method, route, status (`2xx`...). */
  requests: Counter;
  /** Labels: result (`registered` / `rejected`). */
  ztr: Counter;
  statusReports: Counter;
  rateLimited: Counter;
  /** Fleet figures from status reports (bytes synced, errors, last success, disk). */
  fleet: FleetMetrics;
}

/**
 * Creates the metrics; `pushes` is read at scrape time.
 *
 * @example
 * ```ts
 * createControlMetrics(() => ({ pending: 3, retries: 1 })).registry.render();
 * ```
 */
export function createControlMetrics(pushes: () => { pending: number; retries: number }): ControlMetrics {
  const registry = new MetricsRegistry();
  const metrics: ControlMetrics = {
    registry,
    requests: registry.counter(
      "ground_control_http_requests_total",
      "HTTP requests by method, route and status class.",
      ["method", "route", "status"],
    ),
    ztr: registry.counter("ground_control_ztr_total", "Registration token exchanges by result.", ["result"]),
    statusReports: registry.counter("ground_control_status_reports_total", "Status reports accepted."),
    rateLimited: registry.counter(
      "ground_control_rate_limited_total",
      "Requests refused by a per-credential rate limit.",
    ),
    fleet: new FleetMetrics(registry),
  };
  registry.gauge("ground_control_state_pushes_pending", "State pushes running or queued.")
    .collector(() => [{ labels: {}, value: pushes().pending }]);
  registry.gauge("ground_control_state_push_retries", "State pushes waiting to be retried.")
    .collector(() => [{ labels: {}, value: pushes().retries }]);
  return metrics;
}
