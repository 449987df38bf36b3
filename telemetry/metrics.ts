/**
 * A tiny Prometheus registry: counters and gauges with labels, rendered in the text exposition
 * format 0.0.4 (`# HELP`, `# TYPE`, escaped label values), and a Hono handler for `/metrics`.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { MetricsRegistry } from "./metrics.ts";
 * const metrics = new MetricsRegistry();
 * const bytes = metrics.counter("satellite_bytes_synced_total", "Bytes fetched from the central registry.");
 * const free = metrics.gauge("satellite_disk_free_bytes", "Free bytes on the data volume.", ["volume"]);
 * bytes.inc({}, 1024);
 * free.set({ volume: "/var/lib/satellite" }, 8e9);
 * const app = new Hono().get("/metrics", metrics.handler());
 * ```
 * @module
 */
import type { Context } from "hono";

/** Content type of the text exposition format. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Label values by label name. */
export type Labels = Record<string, string | number | boolean>;

/**
 * Escapes a `# HELP` text (backslash and newline).
 *
 * @example
 * ```ts
 * escapeHelp("a\\b\nc"); // "a\\\\b\\nc"
 * ```
 */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/**
 * Escapes a label value (backslash, double quote and newline).
 *
 * @example
 * ```ts
 * escapeLabelValue('say "hi"'); // 'say \\"hi\\"'
 * ```
 */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/**
 * Formats a sample value as Prometheus expects (`+Inf`, `-Inf`, `NaN`).
 *
 * @example
 * ```ts
 * formatValue(Infinity); // "+Inf"
 * ```
 */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** A metric family with one value per label combination. */
abstract class Metric {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  abstract readonly type: "counter" | "gauge";
  protected readonly values = new Map<string, { labels: Record<string, string>; value: number }>();

  constructor(name: string, help: string, labelNames: readonly string[]) {
    if (!METRIC_NAME.test(name)) throw new Error(`metric name "${name}" must match ${METRIC_NAME}`);
    for (const label of labelNames) {
      if (!LABEL_NAME.test(label) || label.startsWith("__")) {
        throw new Error(`label name "${label}" of ${name} must match ${LABEL_NAME} and not start with __`);
      }
    }
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
  }

  /** Checks labels against the declared names and returns the series key. */
  protected series(labels: Labels): { key: string; labels: Record<string, string> } {
    const names = Object.keys(labels);
    const unknown = names.filter((n) => !this.labelNames.includes(n));
    const missing = this.labelNames.filter((n) => !(n in labels));
    if (unknown.length > 0 || missing.length > 0) {
      throw new Error(
        `${this.name}: labels must be exactly [${this.labelNames.join(", ")}]` +
          (unknown.length ? `; unknown: ${unknown.join(", ")}` : "") +
          (missing.length ? `; missing: ${missing.join(", ")}` : ""),
      );
    }
    const clean: Record<string, string> = {};
    for (const name of this.labelNames) clean[name] = String(labels[name]);
    return { key: JSON.stringify(this.labelNames.map((n) => clean[n])), labels: clean };
  }

  protected add(labels: Labels, delta: number): void {
    const { key, labels: clean } = this.series(labels);
    const entry = this.values.get(key);
    if (entry) entry.value += delta;
    else this.values.set(key, { labels: clean, value: delta });
  }

  /** The current value of one series (0 when never touched). */
  get(labels: Labels = {}): number {
    return this.values.get(this.series(labels).key)?.value ?? 0;
  }

  /** Forgets every series (e.g. artifacts that were removed). */
  reset(): void {
    this.values.clear();
  }

  /** Runs before rendering; gauges with a collector refresh themselves here. */
  collect(): void {}

  /** The family in exposition format. */
  render(): string {
    this.collect();
    const lines = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`];
    for (const { labels, value } of this.values.values()) {
      const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
      lines.push(`${this.name}${pairs.length ? `{${pairs.join(",")}}` : ""} ${formatValue(value)}`);
    }
    return lines.join("\n") + "\n";
  }
}

/**
 * A monotonically increasing count.
 *
 * @example
 * ```ts
 * const c = new MetricsRegistry().counter("pulls_total", "Pulls.", ["status"]);
 * c.inc({ status: "ok" });
 * ```
 */
export class Counter extends Metric {
  readonly type = "counter" as const;

  /** Adds `value` (default 1; must not be negative). */
  inc(labels: Labels = {}, value = 1): void {
    if (!(value >= 0)) throw new Error(`${this.name}: a counter only goes up (got ${value})`);
    this.add(labels, value);
  }
}

/**
 * A value that goes up and down; optionally computed at scrape time by a collector.
 *
 * @example
 * ```ts
 * const g = new MetricsRegistry().gauge("queue_depth", "Queued entries.");
 * g.set({}, 3);
 * g.collector(() => [{ labels: {}, value: 4 }]);
 * ```
 */
export class Gauge extends Metric {
  readonly type = "gauge" as const;
  #collector?: () => { labels: Labels; value: number }[];

  set(labels: Labels, value: number): void {
    const { key, labels: clean } = this.series(labels);
    this.values.set(key, { labels: clean, value });
  }

  inc(labels: Labels = {}, value = 1): void {
    this.add(labels, value);
  }

  dec(labels: Labels = {}, value = 1): void {
    this.add(labels, -value);
  }

  /** Computes the series at every scrape (replacing what was set). */
  collector(fn: () => { labels: Labels; value: number }[]): void {
    this.#collector = fn;
  }

  override collect(): void {
    if (!this.#collector) return;
    this.values.clear();
    for (const { labels, value } of this.#collector()) this.set(labels, value);
  }
}

/**
 * The registry: creates metrics (once per name) and renders them all.
 *
 * @example
 * ```ts
 * const registry = new MetricsRegistry();
 * registry.counter("a_total", "A.").inc();
 * registry.render(); // "# HELP a_total A.\n# TYPE a_total counter\na_total 1\n"
 * ```
 */
export class MetricsRegistry {
  readonly #metrics = new Map<string, Metric>();

  /** Creates (or returns the existing) counter. */
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.#register(name, () => new Counter(name, help, labelNames), Counter);
  }

  /** Creates (or returns the existing) gauge. */
  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.#register(name, () => new Gauge(name, help, labelNames), Gauge);
  }

  /** Every family in exposition format; a failing collector is skipped, not fatal to the scrape. */
  render(): string {
    const parts: string[] = [];
    for (const metric of this.#metrics.values()) {
      try {
        parts.push(metric.render());
      } catch {
        // One broken collector must not hide every other metric.
      }
    }
    return parts.join("");
  }

  /**
   * A Hono handler serving {@linkcode render}.
   *
   * @example
   * ```ts
   * import { Hono } from "hono";
   * new Hono().get("/metrics", new MetricsRegistry().handler());
   * ```
   */
  handler(): (c: Context) => Response {
    return (c) => c.body(this.render(), 200, { "content-type": METRICS_CONTENT_TYPE });
  }

  #register<M extends Metric>(name: string, create: () => M, kind: new (...args: never[]) => M): M {
    const existing = this.#metrics.get(name);
    if (existing) {
      if (!(existing instanceof kind)) {
        throw new Error(`metric ${name} is already registered as a ${existing.type}`);
      }
      return existing;
    }
    const metric = create();
    this.#metrics.set(name, metric);
    return metric;
  }
}
