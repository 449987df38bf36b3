/**
 * Runs sync work only inside sync windows: waits for a window to open before starting, and when
 * the window closes mid-run aborts the run (transfers stop; partial blobs stay on disk and resume
 * with HTTP Range) and starts it again once the next window opens. Without the abort, stalled
 * transfers would hit the registry client's idle timeout and be reported as failures.
 *
 * @example
 * ```ts
 * import { BandwidthLimiter } from "./limiter.ts";
 * import { EventLog } from "../events.ts";
 * import { runInSyncWindows } from "./windows.ts";
 * const limiter = new BandwidthLimiter();
 * const result = await runInSyncWindows(limiter, new EventLog(), async (signal) => "synced");
 * ```
 * @module
 */
import type { EventLog } from "../events.ts";
import type { BandwidthLimiter } from "./limiter.ts";

/** Options for {@linkcode runInSyncWindows}. */
export interface SyncWindowOptions {
  /** Stops everything (the promise rejects with its reason). */
  signal?: AbortSignal;
  /** How often a run checks whether its window closed (default 1 s). */
  checkMs?: number;
  /** Most window closings one call sits out before giving up (default 10 000). */
  maxPauses?: number;
  /** Throw {@linkcode SyncWindowClosedError} instead of waiting for a window (one-shot commands). */
  noWait?: boolean;
}

/** Thrown into a run when its sync window closes. */
export class SyncWindowClosedError extends Error {
  constructor() {
    super("outside the sync windows: nothing is fetched until one opens");
    this.name = "SyncWindowClosedError";
  }
}

/**
 * Runs `work` inside sync windows (see the module doc).
 *
 * @example
 * ```ts
 * declare const limiter: BandwidthLimiter;
 * declare const events: EventLog;
 * await runInSyncWindows(limiter, events, (signal) => fetch("http://127.0.0.1:5000/v2/", { signal }));
 * ```
 */
export async function runInSyncWindows<T>(
  limiter: BandwidthLimiter,
  events: EventLog,
  work: (signal: AbortSignal) => Promise<T>,
  options: SyncWindowOptions = {},
): Promise<T> {
  const maxPauses = options.maxPauses ?? 10_000;
  for (let pause = 0; pause <= maxPauses; pause++) {
    if (!limiter.allowed) {
      if (options.noWait) throw new SyncWindowClosedError();
      events.emit("info", "sync.waiting", "outside the sync windows: nothing is fetched until one opens");
      await limiter.whenAllowed(options.signal);
      events.emit("info", "sync.window-open", "a sync window opened: syncing");
    }
    const run = new AbortController();
    const watch = setInterval(() => {
      if (!limiter.allowed) run.abort(new SyncWindowClosedError());
    }, options.checkMs ?? 1_000);
    try {
      return await work(options.signal ? AbortSignal.any([options.signal, run.signal]) : run.signal);
    } catch (e) {
      if (!run.signal.aborted || options.signal?.aborted || options.noWait) throw e;
      events.emit("info", "sync.paused", (run.signal.reason as Error).message);
    } finally {
      clearInterval(watch);
    }
  }
  throw new Error(`sync windows closed ${maxPauses} times during one run; giving up until the next poll`);
}
