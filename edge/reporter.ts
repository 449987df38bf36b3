/**
 * Status reporting to Ground Control through the KV outbox: reports and events are queued first (so
 * nothing is lost while Ground Control or the uplink is down) and delivered in order with
 * `POST <gc>/api/device/status` and the device secret. Every queued report is delivered, oldest
 * first, each carrying the events queued before it (events queued after the last report travel with
 * a fresh snapshot), and the outbox's dropped count. After a failed delivery the next attempt waits
 * with exponential backoff and jitter (the outbox's policy), so a fleet coming back does not hit
 * Ground Control at once. Ground Control's answer may rotate the registry credentials.
 *
 * The reporter's outbox should end batches at status entries ({@linkcode endsAtReport}).
 *
 * @example
 * ```ts
 * import { StatusReporter } from "./reporter.ts";
 * declare const options: import("./reporter.ts").StatusReporterOptions;
 * const reporter = new StatusReporter(options);
 * await reporter.queueReport(options.snapshot());
 * await reporter.flush();
 * ```
 * @module
 */
import {
  type StatusEvent,
  type StatusReport,
  type StatusReportInput,
  StatusResponse,
} from "../schemas/status.ts";
import { parseJsonOrThrow } from "../schemas/validate.ts";
import type { Outbox, OutboxBatch } from "./outbox.ts";
import type { OutboxEntry } from "../schemas/status.ts";
import type { SatelliteEvent } from "./events.ts";

/**
 * `endsBatch` for the reporter's outbox: one report per delivery.
 *
 * @example
 * ```ts
 * import { Outbox } from "./outbox.ts";
 * const outbox = new Outbox(await Deno.openKv(":memory:"), { endsBatch: endsAtReport });
 * ```
 */
export const endsAtReport = (entry: OutboxEntry): boolean => entry.type === "status";

/**
 * Ground Control refused a report; `retryAfterMs` from its `Retry-After` (0 when absent).
 *
 * @example
 * ```ts
 * throw new DeliveryError("Ground Control answered 429", 1000);
 * ```
 */
export class DeliveryError extends Error {
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number) {
    super(message);
    this.name = "DeliveryError";
    this.retryAfterMs = retryAfterMs;
  }
}

/** Most per-artifact entries a report queued during an outage keeps (failed ones only). */
export const OUTAGE_ARTIFACTS = 100;

/**
 * A report as queued while Ground Control is unreachable: counts, applied states, errors and
 * versions, but per-artifact entries only for (at most {@linkcode OUTAGE_ARTIFACTS}) failures, so a
 * long outage with thousands of artifacts cannot fill the disk with copies of the same list. The
 * first report after reconnecting carries the full list again.
 *
 * @example
 * ```ts
 * declare const report: StatusReportInput;
 * compactReport(report).artifacts;
 * ```
 */
export function compactReport(report: StatusReportInput): StatusReportInput {
  const failed = (report.artifacts ?? []).filter((a) => a.status === "failed");
  return { ...report, artifacts: failed.slice(0, OUTAGE_ARTIFACTS) };
}

/** Event kinds too chatty for Ground Control. */
const LOCAL_ONLY = new Set(["sync.progress", "poll.done"]);

/** Options for {@linkcode StatusReporter}. */
export interface StatusReporterOptions {
  outbox: Outbox;
  groundControlUrl: string;
  /** The device secret once registered (undefined before: nothing is sent). */
  deviceSecret: () => string | undefined;
  /** A fresh status report (used when a delivery carries only events). */
  snapshot: () => StatusReportInput;
  /** Called with Ground Control's answer (credential rotation, desired digests). */
  onResponse?: (response: StatusResponse) => Promise<void>;
  fetch?: typeof fetch;
  timeoutMs?: number;
  /** Stops deliveries and timers. */
  signal?: AbortSignal;
}

/**
 * Queues and delivers status.
 *
 * @example
 * ```ts
 * declare const reporter: StatusReporter;
 * await reporter.flush();
 * ```
 */
export class StatusReporter {
  readonly #options: StatusReporterOptions;
  #flushing: Promise<number> | undefined;
  /** Reports delivered since start. */
  delivered = 0;
  /** The last delivery failure, if the last attempt failed. */
  lastError: string | null = null;
  /** Consecutive failed deliveries. */
  failures = 0;
  /** No delivery attempt before this time (ms since epoch) unless forced: backoff after failures. */
  retryAt = 0;

  #reportTimer: ReturnType<typeof setTimeout> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: StatusReporterOptions) {
    this.#options = options;
    options.signal?.addEventListener("abort", () => this.close(), { once: true });
  }

  /**
   * Queues a report and tries to deliver it; after a failed delivery a retry is scheduled at the
   * backoff time ({@linkcode retryAt}), so queued reports go out soon after Ground Control is back.
   *
   * @example
   * ```ts
   * declare const report: StatusReportInput;
   * await reporter.report(report);
   * ```
   */
  async report(report: StatusReportInput): Promise<void> {
    await this.queueReport(this.failures > 0 ? compactReport(report) : report).catch(() => {});
    await this.#deliver();
  }

  async #deliver(): Promise<void> {
    const wasFailing = this.failures > 0;
    await this.flush(this.#options.signal);
    clearTimeout(this.#retryTimer);
    if (wasFailing && this.failures === 0) {
      // Back after an outage: the queued reports were compact; send the full picture now.
      await this.queueReport(this.#options.snapshot()).catch(() => {});
      await this.flush(this.#options.signal);
    }
    if (this.failures === 0 || this.#options.signal?.aborted) return;
    this.#retryTimer = setTimeout(() => this.#deliver(), Math.max(0, this.retryAt - Date.now()));
  }

  /**
   * (Re)starts periodic reports: every `intervalMs`, `makeReport()` is queued and delivered.
   *
   * @example
   * ```ts
   * declare const makeReport: () => Promise<StatusReportInput>;
   * reporter.schedule(60_000, makeReport);
   * ```
   */
  schedule(intervalMs: number, makeReport: () => Promise<StatusReportInput>): void {
    clearTimeout(this.#reportTimer);
    if (this.#options.signal?.aborted) return;
    this.#reportTimer = setTimeout(() => {
      makeReport().then((r) => this.report(r)).catch(() => {}).finally(() =>
        this.schedule(intervalMs, makeReport)
      );
    }, intervalMs);
  }

  /** Stops the timers (deliveries in progress finish). */
  close(): void {
    clearTimeout(this.#reportTimer);
    clearTimeout(this.#retryTimer);
  }

  /**
   * Queues an event if Ground Control should see it.
   *
   * @example
   * ```ts
   * declare const event: SatelliteEvent;
   * await reporter.queueEvent(event);
   * ```
   */
  async queueEvent(event: SatelliteEvent): Promise<void> {
    if (event.level === "debug" || LOCAL_ONLY.has(event.kind)) return;
    const entry: StatusEvent = {
      at: event.at,
      kind: event.kind.slice(0, 64),
      message: event.message.slice(0, 4096),
      ...(event.data ? { data: event.data } : {}),
    };
    await this.#options.outbox.enqueue({ type: "event", event: entry });
  }

  /**
   * Queues a status report.
   *
   * @example
   * ```ts
   * await reporter.queueReport({ satellite: "shop-1", reportedAt: new Date().toISOString(), versions: { satellite: "0.1.0", deno: Deno.version.deno } });
   * ```
   */
  async queueReport(report: StatusReportInput): Promise<void> {
    await this.#options.outbox.enqueue({ type: "status", report });
  }

  /**
   * Delivers what is queued (one attempt per batch; a failure leaves the queue for the next flush and
   * sets {@linkcode retryAt}; until then flushes are skipped unless `force`). Concurrent calls share
   * one delivery. Returns the entries delivered.
   *
   * @example
   * ```ts
   * const n = await reporter.flush(AbortSignal.timeout(30_000));
   * ```
   */
  flush(signal?: AbortSignal, options: { force?: boolean } = {}): Promise<number> {
    if (!this.#options.deviceSecret()) return Promise.resolve(0);
    if (!options.force && !this.#flushing && Date.now() < this.retryAt) return Promise.resolve(0);
    const deliveredBefore = this.delivered;
    this.#flushing ??= this.#options.outbox.deliver((batch) => this.#send(batch, signal), {
      maxAttempts: 1,
      signal,
    }).then((n) => {
      this.lastError = null;
      this.failures = 0;
      this.retryAt = 0;
      return n;
    }, (e) => {
      this.lastError = (e as Error).message;
      // A backlog cut short (e.g. by Ground Control's rate limit) made progress: keep the backoff
      // short, so catching up after a long outage does not stall at the maximum delay.
      this.failures = this.delivered > deliveredBefore ? 1 : this.failures + 1;
      const retryAfterMs = e instanceof DeliveryError ? e.retryAfterMs : 0;
      this.retryAt = Date.now() + Math.max(retryAfterMs, this.#options.outbox.backoffMs(this.failures));
      return 0;
    }).finally(() => this.#flushing = undefined);
    return this.#flushing;
  }

  async #send(batch: OutboxBatch<OutboxEntry>, signal?: AbortSignal): Promise<void> {
    const events: StatusEvent[] = [];
    let report: StatusReport | StatusReportInput | undefined;
    for (const { value } of batch.items) {
      if (value.type === "event") events.push(value.event);
      else {
        report = value.report;
        events.push(...value.report.events);
      }
    }
    const body = { ...(report ?? this.#options.snapshot()), events, dropped: batch.dropped };
    const timeout = AbortSignal.timeout(this.#options.timeoutMs ?? 30_000);
    const res = await (this.#options.fetch ?? fetch)(
      new URL("/api/device/status", this.#options.groundControlUrl),
      {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${this.#options.deviceSecret()}`,
        },
        body: JSON.stringify(body),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      },
    );
    const text = await res.text();
    if (!res.ok) {
      const retryAfter = Number(res.headers.get("retry-after"));
      throw new DeliveryError(
        `Ground Control answered ${res.status} to the status report: ${text.slice(0, 300)}`,
        Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter, 3600) * 1000 : 0,
      );
    }
    this.delivered++;
    const response = parseJsonOrThrow(StatusResponse, text, "status response from Ground Control");
    await this.#options.onResponse?.(response);
  }
}
