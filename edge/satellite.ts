/**
 * The Satellite: one object that owns the local database, the local registry, registration, the
 * state poller, the reconcile engine and status reporting. The local registry serves from the first
 * moment (before registration, and while offline); registration runs in the background; then polls
 * follow the over-the-air schedule. Everything else (CLI, systemd, tests) drives this API.
 *
 * @example
 * ```ts
 * import { Satellite } from "./satellite.ts";
 * declare const config: import("../schemas/satellite_config.ts").SatelliteConfig;
 * const satellite = await Satellite.open({ config });
 * satellite.events.on((e) => console.log(e.kind, e.message));
 * satellite.start();
 * await satellite.registered;
 * await satellite.pollOnce();
 * console.log(satellite.status());
 * await satellite.stop();
 * ```
 * @module
 */
import type { SatelliteConfig } from "../schemas/satellite_config.ts";
import { OtaConfig } from "../schemas/satellite_state.ts";
import type { StatusResponse } from "../schemas/status.ts";
import { RegistryClient } from "../oci/client.ts";
import type { BackoffPolicy } from "../oci/retry.ts";
import { AppliedStore } from "./applied.ts";
import type { Clock } from "./bandwidth/clock.ts";
import { BandwidthLimiter } from "./bandwidth/limiter.ts";
import { SatelliteDb } from "./db.ts";
import { EventLog } from "./events.ts";
import { type LocalRegistryHandle, openLocalRegistry, serve, splitListen } from "./local_registry.ts";
import { Outbox } from "./outbox.ts";
import { StatePoller } from "./poller.ts";
import { Reconciler } from "./reconcile.ts";
import { endsAtReport, StatusReporter } from "./reporter.ts";
import { PollLoop } from "./schedule.ts";
import { type PollReport, SyncEngine } from "./sync_engine.ts";
import { buildReport, diskFree, type SatelliteStatus, snapshotStatus } from "./status.ts";
import { blobStats, redactConfig, redactIdentity, SatelliteMetrics } from "./telemetry.ts";
import { DEFAULT_CMDLINE_PATH } from "./token.ts";
import { ensureRegistered, type Identity, saveIdentity } from "./ztr.ts";

export type { PollReport };

/** Options for {@linkcode Satellite.open}. */
export interface SatelliteOptions {
  config: SatelliteConfig;
  /** Kernel command line (tests point it at a file). */
  cmdlinePath?: string;
  /** Base fetch for Ground Control and registry calls (tests wrap it). */
  fetch?: typeof fetch;
  events?: EventLog;
  /** Registration backoff (default 1 s doubling to 5 min). */
  ztrRetry?: BackoffPolicy;
  /** How often to look for a new token while none is usable (default 10 s). */
  tokenWaitMs?: number;
  /** Grace period of online GC (default: 0 read-only, 10 min writable). */
  gcGraceMs?: number;
  /** Serve the built-in registry over HTTP (default true; `sync --once` runs without). */
  serve?: boolean;
  /** Registration attempts before giving up (default: retry forever; `sync --once` uses 1). */
  ztrAttempts?: number;
  /** The bandwidth limiter's clock (calendar and sync windows; tests inject one). */
  clock?: Clock;
  /** Outside sync windows, fail (`SyncWindowClosedError`) instead of waiting (`sync --once`). */
  noSyncWindowWait?: boolean;
}

/**
 * The satellite.
 *
 * @example
 * ```ts
 * declare const satellite: Satellite;
 * satellite.status().counts;
 * ```
 */
export class Satellite {
  readonly config: SatelliteConfig;
  readonly events: EventLog;
  readonly db: SatelliteDb;
  readonly local: LocalRegistryHandle;
  readonly outbox: Outbox;
  /** Prometheus metrics (served at `/metrics` on the registry listener and on `metricsListen`). */
  readonly metrics: SatelliteMetrics;
  /** Resolves with the identity once registered (at once on a registered device). */
  readonly registered: Promise<Identity>;
  /** The over-the-air config in force. */
  ota: OtaConfig = OtaConfig.parse({});
  identity: Identity | undefined;
  readonly #options: SatelliteOptions;
  readonly #limiter: BandwidthLimiter;
  readonly #stop = new AbortController();
  readonly #resolveRegistered: (identity: Identity) => void;
  #poller: StatePoller | undefined;
  #reconciler: Reconciler | undefined;
  #engine: SyncEngine | undefined;
  #reporter: StatusReporter | undefined;
  #loop: PollLoop | undefined;
  #init: Promise<Identity> | undefined;
  #diskFree: number | null = null;
  /** Work started in the background (settled entries remove themselves). */
  #background = new Set<Promise<unknown>>();
  #metricsServer: { close(): Promise<void> } | undefined;

  private constructor(options: SatelliteOptions, db: SatelliteDb, local: LocalRegistryHandle) {
    this.#options = options;
    this.config = options.config;
    this.events = options.events ?? new EventLog();
    this.db = db;
    this.local = local;
    this.outbox = new Outbox(db.kv, { limit: options.config.outboxLimit, endsBatch: endsAtReport });
    this.#limiter = new BandwidthLimiter({ fetch: options.fetch, clock: options.clock });
    const { promise, resolve } = Promise.withResolvers<Identity>();
    this.registered = promise;
    this.#resolveRegistered = resolve;
    if (options.config.groundControlUrl) {
      this.#reporter = new StatusReporter({
        outbox: this.outbox,
        groundControlUrl: options.config.groundControlUrl,
        deviceSecret: () => this.identity?.deviceSecret,
        snapshot: () => buildReport(this.status()),
        onResponse: (response) => this.#onStatusResponse(response),
        fetch: options.fetch,
        signal: this.#stop.signal,
      });
    }
    this.events.on((event) => {
      this.#reporter?.queueEvent(event).catch(() => {});
    });
    this.metrics = new SatelliteMetrics({
      status: () => this.status(),
      bytesFetched: () => this.#limiter.bytesPassed,
      bandwidth: () => this.bandwidth,
      outbox: async () => ({ size: await this.outbox.size(), dropped: await this.outbox.dropped() }),
      blobs: () => blobStats(this.local.registry?.store),
      lastSuccess: () => this.#engine?.lastSuccessAt ?? null,
    }, this.events);
  }

  /** The bandwidth cap in force (bytes/s, 0 = unlimited), whether fetching is allowed, bytes fetched. */
  get bandwidth(): { rate: number; allowed: boolean; bytesFetched: number } {
    return {
      rate: this.#limiter.rate,
      allowed: this.#limiter.allowed,
      bytesFetched: this.#limiter.bytesPassed,
    };
  }

  /**
   * Opens the database and starts the local registry (serving at once).
   *
   * @example
   * ```ts
   * declare const config: SatelliteConfig;
   * const satellite = await Satellite.open({ config });
   * ```
   */
  static async open(options: SatelliteOptions): Promise<Satellite> {
    redactConfig(options.config);
    const db = await SatelliteDb.open(options.config.dataDir);
    let satellite: Satellite | undefined;
    const metrics = (req: Request) => satellite?.metrics.handle(req) ?? Promise.resolve(null);
    try {
      const local = await openLocalRegistry(options.config, {
        gcGraceMs: options.gcGraceMs,
        serve: options.serve,
        front: metrics,
      });
      satellite = new Satellite(options, db, local);
      const listen = options.config.metricsListen;
      if (listen && options.serve !== false) {
        satellite.#metricsServer = await serve(
          splitListen(listen),
          async (req) => await metrics(req) ?? new Response("not found\n", { status: 404 }),
        );
      }
      return satellite;
    } catch (e) {
      await satellite?.local.close();
      db.close();
      throw e;
    }
  }

  /**
   * Registers (in the background, retrying) and then starts polling on the OTA schedule.
   *
   * @example
   * ```ts
   * satellite.start();
   * ```
   */
  start(): void {
    this.#track(
      this.#run().catch((e) => {
        if (!this.#stop.signal.aborted) {
          this.events.emit("error", "satellite.failed", `satellite stopped: ${(e as Error).message}`);
        }
      }),
    );
  }

  /**
   * Registers if needed and prepares poller, reconciler and reporter (no polling loop).
   *
   * @example
   * ```ts
   * await satellite.init();
   * await satellite.pollOnce();
   * ```
   */
  init(): Promise<Identity> {
    this.#init ??= this.#initOnce();
    return this.#init;
  }

  async #initOnce(): Promise<Identity> {
    const identity = await ensureRegistered({
      db: this.db,
      config: this.config,
      cmdlinePath: this.#options.cmdlinePath ?? DEFAULT_CMDLINE_PATH,
      events: this.events,
      fetch: this.#options.fetch,
      signal: this.#stop.signal,
      retry: this.#options.ztrRetry,
      tokenWaitMs: this.#options.tokenWaitMs,
      attempts: this.#options.ztrAttempts,
    });
    redactIdentity(identity);
    this.identity = identity;
    const clients = this.#clients(identity);
    this.#poller = new StatePoller({
      registry: clients.state,
      stateReference: identity.state.reference,
      satelliteName: identity.satellite.name,
      publicKeyBase64: identity.stateSigningKey.publicKey,
      store: new AppliedStore(this.db, this.config.dataDir),
      events: this.events,
    });
    await this.#poller.init();
    if (this.#poller.satellite) this.#applyOta(this.#poller.satellite.state.config);
    this.#reconciler = await Reconciler.create({
      db: this.db,
      source: clients.data,
      target: this.local.target,
      events: this.events,
      collectGarbage: this.local.collectGarbage,
    });
    this.#engine = new SyncEngine({
      poller: this.#poller,
      reconciler: this.#reconciler,
      limiter: this.#limiter,
      events: this.events,
      ota: () => this.ota,
      applyOta: (config) => this.#applyOta(config),
      report: () => this.#track(this.reportNow()),
      signal: this.#stop.signal,
      noWait: this.#options.noSyncWindowWait,
    });
    this.#resolveRegistered(identity);
    return identity;
  }

  /** Two clients of the central registry: state polls unthrottled, image data through the limiter. */
  #clients(identity: Identity) {
    const credentials = identity.registry.credentials
      ? { username: identity.registry.credentials.username, password: identity.registry.credentials.password }
      : undefined;
    return {
      state: new RegistryClient({ baseUrl: identity.registry.url, credentials, fetch: this.#options.fetch }),
      data: new RegistryClient({ baseUrl: identity.registry.url, credentials, fetch: this.#limiter.fetch }),
    };
  }

  async #run(): Promise<void> {
    await this.init();
    this.#loop = new PollLoop(() => this.#engine!.pollAndKick(), this.ota.poll);
    this.#loop.start();
    // Report once at start: Ground Control sees the device at once (and may rotate credentials).
    this.#track(this.reportNow());
    this.#scheduleReports();
  }

  #scheduleReports(): void {
    this.#reporter?.schedule(this.ota.reportIntervalSeconds * 1000, () => this.#freshReport());
  }

  async #freshReport() {
    this.#diskFree = await diskFree(this.config.dataDir);
    return buildReport(this.status());
  }

  /**
   * Queues a status report now and tries to deliver it (subject to the backoff after failures).
   *
   * @example
   * ```ts
   * await satellite.reportNow();
   * ```
   */
  async reportNow(): Promise<void> {
    if (this.#reporter) await this.#reporter.report(await this.#freshReport());
  }

  #applyOta(next: OtaConfig): void {
    const before = JSON.stringify(this.ota);
    this.ota = next;
    this.#limiter.setPolicy(next.bandwidth);
    this.#loop?.setSchedule(next.poll);
    if (before !== JSON.stringify(next)) {
      this.events.emit("info", "config.applied", "over-the-air config applied", {
        poll: next.poll,
        concurrency: next.concurrency,
        logLevel: next.logLevel,
      });
      this.#scheduleReports();
    }
  }

  async #onStatusResponse(response: StatusResponse): Promise<void> {
    const rotated = response.credentials;
    if (!rotated || !this.identity) return;
    const current = this.identity.registry.credentials;
    if (current?.username === rotated.username && current.password === rotated.password) return;
    this.identity = { ...this.identity, registry: { ...this.identity.registry, credentials: rotated } };
    redactIdentity(this.identity);
    await saveIdentity(this.db, this.identity);
    const clients = this.#clients(this.identity);
    this.#poller?.setRegistry(clients.state);
    this.#reconciler?.setSource(clients.data);
    // Polls may have been failing with the old credentials: try the new ones now.
    if (this.#loop) this.#track(this.#engine!.pollAndKick());
    this.events.emit(
      "info",
      "credentials.rotated",
      `registry credentials rotated (expire ${rotated.expiresAt})`,
    );
  }

  /**
   * One poll, and a reconcile when a state changed or the last one did not converge; resolves when
   * that reconcile is done (see {@linkcode SyncEngine}).
   *
   * @example
   * ```ts
   * const report = await satellite.pollOnce();
   * report.outcome.requests;
   * ```
   */
  async pollOnce(): Promise<PollReport> {
    await this.init();
    return await this.#engine!.pollOnce();
  }

  #track(work: Promise<unknown>): void {
    const tracked = work.catch(() => {}).finally(() => this.#background.delete(tracked));
    this.#background.add(tracked);
  }

  /**
   * A snapshot of what the satellite holds and how it is doing.
   *
   * @example
   * ```ts
   * satellite.status().converged;
   * ```
   */
  status(): SatelliteStatus {
    return snapshotStatus({
      identity: this.identity,
      local: { mode: this.local.mode, url: this.local.url },
      satellite: this.#poller?.satellite ?? null,
      groups: this.#poller?.groups ?? new Map(),
      records: this.#reconciler?.records.all() ?? [],
      bytesSynced: this.#reconciler?.bytesTotal ?? 0,
      diskFree: this.#diskFree,
      converged: this.#engine?.converged ?? false,
      lastPoll: this.#engine?.lastPoll,
      lastError: this.#engine?.lastError ?? null,
    });
  }

  /** Flushes queued status to Ground Control now (tests, `sync --once`). */
  flushStatus(): Promise<number> {
    return this.#reporter?.flush(this.#stop.signal, { force: true }) ?? Promise.resolve(0);
  }

  /**
   * Stops polling, transfers, the registry server and closes the database.
   *
   * @example
   * ```ts
   * await satellite.stop();
   * ```
   */
  async stop(): Promise<void> {
    this.#stop.abort(new Error("satellite stopping"));
    this.#reporter?.close();
    await this.#loop?.stop();
    await Promise.allSettled([this.#engine?.settled(), ...this.#background]);
    await this.#metricsServer?.close();
    await this.local.close();
    this.db.close();
  }
}
