/**
 * Prometheus text exposition of Ground Control's counters (`GET /metrics`).
 *
 * @example
 * ```ts
 * import { renderMetrics } from "./metrics.ts";
 * declare const ctx: import("./context.ts").ControlContext;
 * console.log(await renderMetrics(ctx));
 * ```
 * @module
 */
import type { ControlContext } from "./context.ts";

function escapeLabel(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

/**
 * Renders the metrics as Prometheus text format 0.0.4.
 *
 * @example
 * ```ts
 * declare const ctx: ControlContext;
 * (await renderMetrics(ctx)).includes("ground_control_ztr_total"); // true
 * ```
 */
export function renderMetrics(ctx: ControlContext): Promise<string> {
  const lines: string[] = [];
  const metric = (name: string, type: string, help: string, samples: [string, number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
  };
  const c = ctx.counters;
  metric(
    "ground_control_http_requests_total",
    "counter",
    "HTTP requests by method, route and status class.",
    [...c.requests].map(([key, n]) => {
      const [method, route, status] = key.split(" ");
      return [`{method="${escapeLabel(method)}",route="${escapeLabel(route)}",status="${status}"}`, n];
    }),
  );
  metric("ground_control_ztr_total", "counter", "Registration token exchanges by result.", [
    ['{result="registered"}', c.ztrSuccess],
    ['{result="rejected"}', c.ztrRejected],
  ]);
  metric("ground_control_status_reports_total", "counter", "Status reports accepted.", [[
    "",
    c.statusReports,
  ]]);
  metric("ground_control_rate_limited_total", "counter", "Requests refused by a per-credential rate limit.", [
    [
      "",
      c.rateLimited,
    ],
  ]);
  metric("ground_control_state_pushes_pending", "gauge", "State pushes running or queued.", [[
    "",
    ctx.publisher.pending,
  ]]);
  metric("ground_control_state_publish_retries", "gauge", "State pushes waiting to be retried.", [[
    "",
    ctx.publisher.pendingRetries,
  ]]);
  return Promise.resolve(lines.join("\n") + "\n");
}
