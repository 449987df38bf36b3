/**
 * The satellite's sync cycle: serialised state polls, and one reconcile at a time run inside the
 * bandwidth policy's sync windows. A poll never waits for a running reconcile (so an over-the-air
 * change, such as a lower cap, reaches transfers in flight); a change found meanwhile makes the
 * reconcile run again when it ends. Keeps the figures the status shows (last poll, last error,
 * convergence, last success).
 *
 * @example
 * ```ts
 * import { SyncEngine } from "./sync_engine.ts";
 * declare const options: import("./sync_engine.ts").SyncEngineOptions;
 * const engine = new SyncEngine(options);
 * const report = await engine.pollOnce();
 * report.reconcile?.synced;
 * ```
 * @module
 */
import type { OtaConfig } from "../schemas/satellite_state.ts";
import type { BandwidthLimiter } from "./bandwidth/limiter.ts";
import { runInSyncWindows } from "./bandwidth/windows.ts";
import { CoalescedRun } from "./coalesce.ts";
import { desiredSet, warnConflicts } from "./desired.ts";
import type { EventLog } from "./events.ts";
import type { PollOutcome, StatePoller } from "./poller.ts";
import type { Reconciler, ReconcileResult } from "./reconcile.ts";

/** What one {@linkcode SyncEngine.pollOnce} did. */
export interface PollReport {
  outcome: PollOutcome;
  /** Present when a reconcile ran. */
  reconcile?: ReconcileResult;
  ms: number;
}

/** The last poll, as the status shows it. */
export interface LastPoll {
  at: string;
  ms: number;
  requests: number;
  changed: boolean;
  errors: string[];
}

/** Options for {@linkcode SyncEngine}. */
export interface SyncEngineOptions {
  poller: StatePoller;
  reconciler: Reconciler;
  limiter: BandwidthLimiter;
  events: EventLog;
  /** The over-the-air config in force (concurrency, platforms). */
  ota: () => OtaConfig;
  /** A new satellite state was accepted: apply its config. */
  applyOta: (config: OtaConfig) => void;
  /** Something Ground Control should hear about happened (a refusal, a reconcile that did work). */
  report: () => void;
  /** Stops polls and transfers. */
  signal: AbortSignal;
  /** Fail with SyncWindowClosedError instead of waiting for a sync window (`sync --once`). */
  noWait?: boolean;
}

/**
 * Polls and reconciles.
 *
 * @example
 * ```ts
 * declare const engine: SyncEngine;
 * await engine.pollAndKick();
 * engine.converged;
 * ```
 */
export class SyncEngine {
  readonly #o: SyncEngineOptions;
  readonly #reconcile = new CoalescedRun(() => this.#reconcileOnce());
  #pollChain: Promise<unknown> = Promise.resolve();
  /** Every group the satellite state names has a state in force (removals allowed). */
  #complete = false;
  /** The local registry holds the desired set (false before any satellite state is known). */
  converged: boolean;
  lastPoll: LastPoll | undefined;
  lastError: string | null = null;
  /** When a reconcile last converged (ms since epoch). */
  lastSuccessAt: number | null = null;

  constructor(options: SyncEngineOptions) {
    this.#o = options;
    this.converged = options.poller.satellite !== null &&
      options.reconciler.isConverged(desiredSet(options.poller.groups.values()));
  }

  /**
   * One poll, and a reconcile when a state changed or the last one did not converge; resolves when
   * that reconcile is done.
   *
   * @example
   * ```ts
   * const { outcome } = await engine.pollOnce();
   * ```
   */
  async pollOnce(): Promise<PollReport> {
    const { outcome, started } = await this.#pollStates();
    const reconcile = outcome.changed || !this.converged ? await this.#reconcile.request() : undefined;
    return { outcome, reconcile, ms: performance.now() - started };
  }

  /**
   * One poll; a due reconcile starts in the background (the poll loop's step).
   *
   * @example
   * ```ts
   * await engine.pollAndKick();
   * ```
   */
  async pollAndKick(): Promise<void> {
    const { outcome } = await this.#pollStates();
    if (outcome.changed || !this.converged) this.#reconcile.request().catch(() => {});
  }

  /** Settles when no poll or reconcile is running. */
  settled(): Promise<unknown> {
    return Promise.allSettled([this.#pollChain, this.#reconcile.running]);
  }

  #pollStates(): Promise<{ outcome: PollOutcome; started: number }> {
    const run = this.#pollChain.then(() => this.#pollNow());
    this.#pollChain = run.catch(() => {});
    return run;
  }

  async #pollNow(): Promise<{ outcome: PollOutcome; started: number }> {
    const { poller, reconciler, events } = this.#o;
    const started = performance.now();
    const outcome = await poller.poll(this.#o.signal);
    if (outcome.changed && outcome.satellite) this.#o.applyOta(outcome.satellite.state.config);
    this.#complete = outcome.complete;
    if (outcome.changed) {
      this.converged = reconciler.isConverged(desiredSet(outcome.groups.values())) && outcome.complete;
      this.#reconcile.markDirty();
    }
    const { requests, changed, errors } = outcome;
    if (errors.length > 0) this.lastError = errors.join("; ");
    const ms = performance.now() - started;
    this.lastPoll = { at: new Date().toISOString(), ms, requests, changed, errors };
    events.emit("debug", "poll.done", `poll: ${requests} request(s), ${ms.toFixed(1)} ms`, {
      requests,
      changed,
    });
    if (outcome.refused.length > 0) this.#o.report();
    return { outcome, started };
  }

  async #reconcileOnce(): Promise<ReconcileResult> {
    let complete = false;
    const reconcile = await runInSyncWindows(this.#o.limiter, this.#o.events, (signal) => {
      // Taken when the run starts (after waiting for a window), so it is the latest state.
      const desired = desiredSet(this.#o.poller.groups.values());
      warnConflicts(desired, this.#o.events);
      complete = this.#complete;
      const ota = this.#o.ota();
      return this.#o.reconciler.reconcile(desired, {
        allowRemovals: complete,
        concurrency: ota.concurrency,
        platforms: ota.platforms,
        signal,
      });
    }, { signal: this.#o.signal, noWait: this.#o.noWait });
    const was = this.converged;
    this.converged = reconcile.converged && complete;
    if (this.converged) this.lastSuccessAt = Date.now();
    this.lastError = reconcile.failed > 0 ? `${reconcile.failed} artifact(s) failed to sync` : null;
    // Report what changed (not every no-op retry while some state is unknown).
    if (reconcile.synced + reconcile.failed + reconcile.removed > 0 || was !== this.converged) {
      this.#o.report();
    }
    return reconcile;
  }
}
