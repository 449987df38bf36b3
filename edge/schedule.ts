/**
 * When to poll: a cron expression (croner) or a fixed interval, each plus random jitter so a fleet
 * spreads its load. {@linkcode PollLoop} runs polls one at a time and picks up a new schedule at
 * once (it arrives over the air inside the satellite state).
 *
 * @example
 * ```ts
 * import { nextPollDelay, PollLoop } from "./schedule.ts";
 * nextPollDelay({ intervalSeconds: 30, jitterSeconds: 0 }, 0, 0); // 30000
 * const loop = new PollLoop(async () => {}, { intervalSeconds: 30, jitterSeconds: 3 });
 * loop.start();
 * await loop.stop();
 * ```
 * @module
 */
import { Cron } from "croner";
import type { PollSchedule } from "../schemas/satellite_state.ts";
import { sleep } from "../oci/retry.ts";

/**
 * Milliseconds from `now` until the next poll, given when the last one started.
 *
 * @example
 * ```ts
 * nextPollDelay({ cron: "0 * * * *", intervalSeconds: 30, jitterSeconds: 0 }, Date.now(), Date.now());
 * ```
 */
export function nextPollDelay(
  schedule: Pick<PollSchedule, "intervalSeconds" | "jitterSeconds"> & { cron?: string },
  lastStart: number,
  now: number,
  random: () => number = Math.random,
): number {
  const jitter = random() * schedule.jitterSeconds * 1000;
  if (schedule.cron) {
    const cron = new Cron(schedule.cron, { paused: true });
    const next = cron.nextRun(new Date(now))?.getTime();
    cron.stop();
    if (next !== undefined) return Math.max(0, next - now) + jitter;
  }
  return Math.max(0, lastStart + schedule.intervalSeconds * 1000 - now) + jitter;
}

/**
 * Checks a cron expression; returns an error message or undefined.
 *
 * @example
 * ```ts
 * cronProblem("not cron"); // "..."
 * ```
 */
export function cronProblem(pattern: string): string | undefined {
  try {
    new Cron(pattern, { paused: true }).stop();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * Runs `poll` on a schedule, never two at once; `setSchedule` and `trigger` wake it early.
 *
 * @example
 * ```ts
 * const loop = new PollLoop(async () => console.log("poll"), { intervalSeconds: 5, jitterSeconds: 1 });
 * loop.start();
 * loop.trigger();
 * await loop.stop();
 * ```
 */
export class PollLoop {
  readonly #poll: () => Promise<void>;
  #schedule: Pick<PollSchedule, "intervalSeconds" | "jitterSeconds"> & { cron?: string };
  #stop = new AbortController();
  #wake = new AbortController();
  #running: Promise<void> | undefined;
  #immediate = true;

  constructor(
    poll: () => Promise<void>,
    schedule: Pick<PollSchedule, "intervalSeconds" | "jitterSeconds"> & { cron?: string },
  ) {
    this.#poll = poll;
    this.#schedule = schedule;
  }

  /** The schedule in force. */
  get schedule(): Pick<PollSchedule, "intervalSeconds" | "jitterSeconds"> & { cron?: string } {
    return this.#schedule;
  }

  /**
   * Starts polling (the first poll runs at once).
   *
   * @example
   * ```ts
   * loop.start();
   * ```
   */
  start(): void {
    if (this.#running) return;
    this.#running = this.#run();
  }

  /**
   * Replaces the schedule; the wait in progress is recomputed.
   *
   * @example
   * ```ts
   * loop.setSchedule({ intervalSeconds: 60, jitterSeconds: 5 });
   * ```
   */
  setSchedule(schedule: Pick<PollSchedule, "intervalSeconds" | "jitterSeconds"> & { cron?: string }): void {
    const same = schedule.cron === this.#schedule.cron &&
      schedule.intervalSeconds === this.#schedule.intervalSeconds &&
      schedule.jitterSeconds === this.#schedule.jitterSeconds;
    this.#schedule = schedule;
    if (!same) this.#wake.abort();
  }

  /**
   * Polls as soon as the current poll (if any) is done.
   *
   * @example
   * ```ts
   * loop.trigger();
   * ```
   */
  trigger(): void {
    this.#immediate = true;
    this.#wake.abort();
  }

  /**
   * Stops after the poll in progress.
   *
   * @example
   * ```ts
   * await loop.stop();
   * ```
   */
  async stop(): Promise<void> {
    this.#stop.abort();
    this.#wake.abort();
    await this.#running;
    this.#running = undefined;
  }

  async #run(): Promise<void> {
    let lastStart = Date.now();
    while (!this.#stop.signal.aborted) {
      if (!this.#immediate) {
        const delay = nextPollDelay(this.#schedule, lastStart, Date.now());
        try {
          await sleep(delay, AbortSignal.any([this.#wake.signal, this.#stop.signal]));
        } catch {
          // Woken early: a new schedule (recompute the wait) or a trigger or stop (handled below).
          if (this.#wake.signal.aborted) this.#wake = new AbortController();
          continue;
        }
      }
      this.#immediate = false;
      if (this.#stop.signal.aborted) break;
      lastStart = Date.now();
      try {
        await this.#poll();
      } catch { /* the poll reports its own failures */ }
    }
  }
}
