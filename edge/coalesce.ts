/**
 * A single-flight job that coalesces requests: while a run is going, further requests join it and
 * mark it dirty, and it runs once more when it ends (so changes seen meanwhile are not lost, and
 * never two runs overlap).
 *
 * @example
 * ```ts
 * import { CoalescedRun } from "./coalesce.ts";
 * let runs = 0;
 * const job = new CoalescedRun(async () => ++runs);
 * const [a, b] = await Promise.all([job.request(), job.request()]);
 * // a === b === 2: the second request joined the first and made it run again
 * ```
 * @module
 */

/** Most extra rounds one run does before settling (guards against a request storm). */
const MAX_ROUNDS = 100;

/**
 * Coalescing runner.
 *
 * @example
 * ```ts
 * const job = new CoalescedRun(() => Promise.resolve("done"));
 * await job.request();
 * ```
 */
export class CoalescedRun<T> {
  readonly #work: () => Promise<T>;
  #running: Promise<T> | undefined;
  #dirty = false;

  constructor(work: () => Promise<T>) {
    this.#work = work;
  }

  /** The run in progress, if any. */
  get running(): Promise<T> | undefined {
    return this.#running;
  }

  /** Makes a run in progress go once more when it ends. */
  markDirty(): void {
    if (this.#running) this.#dirty = true;
  }

  /** Joins the run in progress (marking it dirty) or starts one; resolves with its last result. */
  request(): Promise<T> {
    if (this.#running) {
      this.#dirty = true;
      return this.#running;
    }
    const run = async () => {
      let result = await this.#work();
      for (let round = 0; round < MAX_ROUNDS && this.#dirty; round++) {
        this.#dirty = false;
        result = await this.#work();
      }
      return result;
    };
    this.#dirty = false;
    this.#running = run().finally(() => this.#running = undefined);
    return this.#running;
  }
}
