/**
 * Coordination for concurrent copies: {@linkcode BlobFlights} makes a blob travel once per target
 * even when many images (and many concurrent copy calls) need it, and remembers which target
 * repository already holds it so others can cross-repo mount instead of fetching again;
 * {@linkcode Semaphore} bounds how many transfers run at once.
 *
 * @example
 * ```ts
 * import { BlobFlights } from "./blob_flights.ts";
 * const flights = new BlobFlights(); // share it between copyImage calls
 * ```
 * @module
 */

/**
 * Per target: the transfer in flight for each digest, and a repository known to hold it.
 * Targets are keyed by object identity (one client or store instance = one target).
 *
 * @example
 * ```ts
 * const flights = new BlobFlights();
 * const target = {};
 * flights.start(target, "sha256:" + "a".repeat(64), Promise.resolve());
 * ```
 */
export class BlobFlights {
  readonly #inflight = new WeakMap<object, Map<string, Promise<void>>>();
  readonly #holders = new WeakMap<object, Map<string, string>>();

  /** The transfer of `digest` to `target` in progress, if any. */
  pending(target: object, digest: string): Promise<void> | undefined {
    return this.#inflight.get(target)?.get(digest);
  }

  /** Registers `transfer` as the one flight of `digest` to `target` until it settles. */
  start(target: object, digest: string, transfer: Promise<void>): Promise<void> {
    let flights = this.#inflight.get(target);
    if (!flights) this.#inflight.set(target, flights = new Map());
    flights.set(digest, transfer);
    const clear = () => {
      if (flights.get(digest) === transfer) flights.delete(digest);
    };
    transfer.then(clear, clear);
    return transfer;
  }

  /** A repository of `target` known to hold `digest` (a cross-repo mount source). */
  holder(target: object, digest: string): string | undefined {
    return this.#holders.get(target)?.get(digest);
  }

  /** Records that `repository` of `target` holds `digest`. */
  remember(target: object, digest: string, repository: string): void {
    let holders = this.#holders.get(target);
    if (!holders) this.#holders.set(target, holders = new Map());
    holders.set(digest, repository);
  }
}

/**
 * A counting semaphore: at most `limit` tasks run at once, the rest wait in arrival order.
 *
 * @example
 * ```ts
 * const limit = new Semaphore(2);
 * await Promise.all([1, 2, 3].map((n) => limit.run(async () => n)));
 * ```
 */
export class Semaphore {
  #free: number;
  readonly #waiting: (() => void)[] = [];

  constructor(limit: number) {
    this.#free = Math.max(1, Math.floor(limit));
  }

  /** Runs `task` once a slot is free. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    }
  }
}
