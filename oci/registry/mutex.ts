/**
 * A tiny async mutex, optionally keyed, to serialise read-modify-write of one repository's metadata
 * and the garbage collector's check-then-delete against manifest pushes.
 *
 * @example
 * ```ts
 * import { KeyedMutex } from "./mutex.ts";
 * const locks = new KeyedMutex();
 * await locks.run("library/busybox", async () => {});
 * ```
 * @module
 */

/**
 * Runs tasks one at a time per key, in arrival order.
 *
 * @example
 * ```ts
 * const m = new KeyedMutex();
 * const [a, b] = await Promise.all([m.run("k", async () => 1), m.run("k", async () => 2)]);
 * ```
 */
export class KeyedMutex {
  #tails = new Map<string, Promise<unknown>>();

  /** Runs `task` after every earlier task of `key` settled. */
  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const current = previous.catch(() => {}).then(task);
    const tail = current.catch(() => {});
    this.#tails.set(key, tail);
    try {
      return await current;
    } finally {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}
