/**
 * The satellite's logs and metrics. Events from the core become structured JSON log lines
 * ({@linkcode logEvents}, through `telemetry/log.ts`, so registered secrets are scrubbed), and a
 * Prometheus registry ({@linkcode SatelliteMetrics}) exposes bytes synced, sync errors, the last
 * successful sync, artifacts, blobs, disk, outbox and bandwidth state at `GET /metrics` (on the
 * built-in registry's listener, outside `/v2/` and without its basic auth: metrics hold no secrets;
 * and on `metricsListen` when configured, e.g. in external-registry mode).
 * Every secret the satellite learns (registration token, device secret, registry and local
 * registry passwords) is handed to the redactor with {@linkcode redactConfig} /
 * {@linkcode redactIdentity} as soon as it is known.
 *
 * @example
 * ```ts
 * import { createLogger } from "../telemetry/log.ts";
 * import { EventLog } from "./events.ts";
 * import { logEvents } from "./telemetry.ts";
 * const events = new EventLog();
 * logEvents(events, createLogger({ level: "info" }));
 * events.emit("info", "sync.start", "syncing 2 artifact(s)", { artifacts: 2 });
 * ```
 * @module
 */
import type { BlobStore } from "../oci/store.ts";
import type { SatelliteConfig } from "../schemas/satellite_config.ts";
import { type Logger, redact, type Redactor } from "../telemetry/log.ts";
import { METRICS_CONTENT_TYPE, MetricsRegistry } from "../telemetry/metrics.ts";
import type { EventLog } from "./events.ts";
import type { SatelliteStatus } from "./status.ts";
import type { Identity } from "./ztr.ts";

/**
 * Registers the secrets of a config file (inline token, local registry passwords).
 *
 * @example
 * ```ts
 * declare const config: SatelliteConfig;
 * redactConfig(config);
 * ```
 */
export function redactConfig(config: SatelliteConfig, redactor: Redactor = redact): void {
  if (config.token) redactor.add(config.token);
  const auth = config.localRegistry.auth;
  if (auth) redactor.addBasic(auth.username, auth.password);
}

/**
 * Registers the secrets of an identity (device secret, registry credentials).
 *
 * @example
 * ```ts
 * declare const identity: Identity;
 * redactIdentity(identity);
 * ```
 */
export function redactIdentity(identity: Identity, redactor: Redactor = redact): void {
  redactor.add(identity.deviceSecret);
  const credentials = identity.registry.credentials;
  if (credentials) redactor.addBasic(credentials.username, credentials.password);
}

/**
 * Writes every event as one JSON log line at its level (`kind` and the event's data as fields).
 * Returns the function that stops logging.
 *
 * @example
 * ```ts
 * declare const events: EventLog;
 * declare const logger: Logger;
 * const stop = logEvents(events, logger);
 * stop();
 * ```
 */
export function logEvents(events: EventLog, logger: Logger): () => void {
  return events.on((event) => {
    if (!logger.enabled(event.level)) return;
    logger[event.level](event.message, { kind: event.kind, ...event.data });
  });
}

/** What the metrics read at scrape time. */
export interface MetricsSource {
  status(): SatelliteStatus;
  /** Image-data bytes received from the central registry (through the bandwidth limiter). */
  bytesFetched(): number;
  /** The cap in force (bytes/s, 0 = unlimited) and whether fetching is allowed now. */
  bandwidth(): { rate: number; allowed: boolean };
  /** Queued outbox entries and how many were dropped. */
  outbox(): Promise<{ size: number; dropped: number }>;
  /** Blobs in the built-in registry (null in external mode). */
  blobs(): Promise<{ count: number; bytes: number } | null>;
  /** When a reconcile last converged (ms since epoch), or null. */
  lastSuccess(): number | null;
}

/**
 * The satellite's Prometheus metrics.
 *
 * @example
 * ```ts
 * declare const source: MetricsSource;
 * const metrics = new SatelliteMetrics(source);
 * const res = await metrics.handle(new Request("http://x/metrics"));
 * ```
 */
export class SatelliteMetrics {
  readonly registry = new MetricsRegistry();
  readonly #source: MetricsSource;
  readonly #bytes;
  readonly #errors;
  readonly #gauges;
  #blobCache: { at: number; value: { count: number; bytes: number } | null } | undefined;
  #outbox = { size: 0, dropped: 0 };

  constructor(source: MetricsSource, events?: EventLog) {
    this.#source = source;
    const r = this.registry;
    this.#bytes = r.counter("satellite_sync_bytes_total", "Image bytes fetched from the central registry.");
    this.#errors = r.counter("satellite_errors_total", "Errors by event kind (sync, state, registration).", [
      "kind",
    ]);
    this.#bytes.inc({}, 0); // present from the first scrape
    this.#gauges = {
      info: r.gauge("satellite_info", "Build information (always 1).", ["version", "deno"]),
      registered: r.gauge("satellite_registered", "1 once the device holds an identity."),
      converged: r.gauge("satellite_converged", "1 when the local registry holds the desired set."),
      lastSuccess: r.gauge(
        "satellite_last_sync_success_timestamp_seconds",
        "When a reconcile last converged (0 = never since start).",
      ),
      lastPoll: r.gauge("satellite_last_poll_timestamp_seconds", "When the last poll finished."),
      pollSeconds: r.gauge("satellite_last_poll_duration_seconds", "Duration of the last poll."),
      artifacts: r.gauge("satellite_artifacts", "Desired artifacts by status.", ["status"]),
      blobs: r.gauge("satellite_blobs", "Blobs held by the built-in registry."),
      blobBytes: r.gauge("satellite_blob_bytes", "Bytes of blobs held by the built-in registry."),
      diskFree: r.gauge("satellite_disk_free_bytes", "Free bytes on the data volume (last report)."),
      outbox: r.gauge("satellite_outbox_entries", "Status reports and events waiting for Ground Control."),
      dropped: r.gauge(
        "satellite_outbox_dropped",
        "Outbox entries dropped (oldest first) since last delivery.",
      ),
      rate: r.gauge("satellite_bandwidth_cap_bytes_per_second", "Byte-rate cap in force (0 = unlimited)."),
      allowed: r.gauge("satellite_sync_allowed", "1 inside a sync window (or when none are configured)."),
    };
    events?.on((event) => {
      if (event.level === "error") this.#errors.inc({ kind: event.kind });
    });
  }

  /** Refreshes the values read asynchronously (outbox, blobs; blob stats cached 10 s). */
  async refresh(): Promise<void> {
    this.#outbox = await this.#source.outbox().catch(() => this.#outbox);
    if (!this.#blobCache || Date.now() - this.#blobCache.at > 10_000) {
      this.#blobCache = { at: Date.now(), value: await this.#source.blobs().catch(() => null) };
    }
  }

  /**
   * The exposition text (call {@linkcode refresh} first for fresh outbox and blob figures).
   *
   * @example
   * ```ts
   * metrics.render().includes("satellite_sync_bytes_total");
   * ```
   */
  render(): string {
    const s = this.#source.status();
    const g = this.#gauges;
    const fetched = this.#source.bytesFetched();
    if (fetched > this.#bytes.get()) this.#bytes.inc({}, fetched - this.#bytes.get());
    g.info.set({ version: s.versions.satellite, deno: s.versions.deno }, 1);
    g.registered.set({}, s.registered ? 1 : 0);
    g.converged.set({}, s.converged ? 1 : 0);
    g.lastSuccess.set({}, (this.#source.lastSuccess() ?? 0) / 1000);
    g.lastPoll.set({}, s.lastPoll ? Date.parse(s.lastPoll.at) / 1000 : 0);
    g.pollSeconds.set({}, s.lastPoll ? s.lastPoll.ms / 1000 : 0);
    for (const status of ["synced", "pending", "failed"] as const) {
      g.artifacts.set({ status }, s.counts[status]);
    }
    const blobs = this.#blobCache?.value;
    if (blobs) {
      g.blobs.set({}, blobs.count);
      g.blobBytes.set({}, blobs.bytes);
    }
    if (s.diskFree !== null) g.diskFree.set({}, s.diskFree);
    g.outbox.set({}, this.#outbox.size);
    g.dropped.set({}, this.#outbox.dropped);
    const bandwidth = this.#source.bandwidth();
    g.rate.set({}, bandwidth.rate);
    g.allowed.set({}, bandwidth.allowed ? 1 : 0);
    return this.registry.render();
  }

  /**
   * Answers `GET /metrics`; null for any other path (so it can sit in front of another handler).
   *
   * @example
   * ```ts
   * const res = await metrics.handle(new Request("http://127.0.0.1:8585/metrics"));
   * ```
   */
  async handle(req: Request): Promise<Response | null> {
    if (new URL(req.url).pathname !== METRICS_PATH) return null;
    if (req.method !== "GET" && req.method !== "HEAD") {
      return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
    }
    await this.refresh();
    const body = req.method === "HEAD" ? null : this.render();
    return new Response(body, { headers: { "content-type": METRICS_CONTENT_TYPE } });
  }
}

/**
 * Count and bytes of the blobs in a store (null without one: external mode).
 *
 * @example
 * ```ts
 * declare const store: BlobStore;
 * const { count, bytes } = (await blobStats(store))!;
 * ```
 */
export async function blobStats(store?: BlobStore): Promise<{ count: number; bytes: number } | null> {
  if (!store) return null;
  let count = 0, bytes = 0;
  for await (const digest of store.list()) {
    count++;
    bytes += await store.size(digest) ?? 0;
  }
  return { count, bytes };
}

/** Where metrics are served (outside `/v2/`, so it never collides with the registry API). */
export const METRICS_PATH = "/metrics";
