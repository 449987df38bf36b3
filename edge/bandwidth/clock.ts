/**
 * An injectable clock, so rate limits, calendar windows and backoff can be tested without waiting:
 * {@linkcode realClock} for production, {@linkcode ManualClock} for tests.
 *
 * @example
 * ```ts
 * import { ManualClock, realClock } from "./clock.ts";
 * const clock = new ManualClock(Date.parse("2025-01-06T08:00:00Z"));
 * const slept = clock.sleep(1000);
 * await clock.advance(1000);
 * await slept;
 * realClock.now();
 * ```
 * @module
 */
import { sleep } from "../../oci/retry.ts";

/** What time it is, and waiting. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason when the signal aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * The wall clock, with `setTimeout` for sleeping.
 *
 * @example
 * ```ts
 * await realClock.sleep(10);
 * ```
 */
export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleep(Math.max(0, ms), signal),
};

interface Sleeper {
  deadline: number;
  resolve(): void;
}

/** Bound on the wake-ups one {@linkcode ManualClock.advance} performs, so a bug can't spin forever. */
const MAX_WAKEUPS_PER_ADVANCE = 1_000_000;

/**
 * A clock that only moves when told to. `advance` wakes sleepers in deadline order and lets the
 * woken code run (a macrotask turn) before moving on, so chains of sleeps behave as in real time.
 *
 * @example
 * ```ts
 * const clock = new ManualClock(0);
 * let woke = false;
 * clock.sleep(500).then(() => woke = true);
 * await clock.advance(499); // woke === false
 * await clock.advance(1); // woke === true
 * ```
 */
export class ManualClock implements Clock {
  #now: number;
  #sleepers: Sleeper[] = [];

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  /** Number of pending sleeps (for tests that wait until a task is parked). */
  get pending(): number {
    return this.#sleepers.length;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const sleeper: Sleeper = {
        deadline: this.#now + Math.max(0, ms),
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.#sleepers = this.#sleepers.filter((s) => s !== sleeper);
        reject(signal!.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#sleepers.push(sleeper);
    });
  }

  /** Moves time forward by `ms`, waking every sleeper whose deadline passes, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await settle();
    for (let i = 0; i < MAX_WAKEUPS_PER_ADVANCE; i++) {
      const due = this.#sleepers.filter((s) => s.deadline <= target);
      if (due.length === 0) break;
      const deadline = Math.min(...due.map((s) => s.deadline));
      this.#now = Math.max(this.#now, deadline);
      const woken = this.#sleepers.filter((s) => s.deadline <= this.#now);
      this.#sleepers = this.#sleepers.filter((s) => s.deadline > this.#now);
      for (const s of woken) s.resolve();
      await settle();
    }
    this.#now = target;
    await settle();
  }

  /** Sets the time (forward only) as {@linkcode advance} would. */
  advanceTo(time: number): Promise<void> {
    return this.advance(Math.max(0, time - this.#now));
  }
}

/** Lets every queued microtask and one macrotask turn run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
