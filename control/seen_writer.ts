/**
 * Group commit for status reports: the hot path of a large fleet is one small write per report,
 * and a store commit costs about the same for one record as for a hundred. Reports that arrive while
 * a commit runs wait for the next one, which writes them all; each caller still gets its answer only
 * after its record is committed (nothing acknowledged is lost), and a satellite that reports twice
 * before a commit is written once, with its latest report.
 *
 * @example
 * ```ts
 * import { SeenWriter } from "./seen_writer.ts";
 * import { KvStore } from "./store/kv.ts";
 * const store = await KvStore.open(":memory:");
 * const writer = new SeenWriter(store);
 * await writer.record("shop-001", {
 *   lastSeenAt: new Date().toISOString(),
 *   status: { reportedAt: new Date().toISOString(), applied: { groups: {} }, counts: { desired: 0, synced: 0, pending: 0, failed: 0 }, lastError: null, diskFree: null, version: "0.1.0" },
 * });
 * await store.close();
 * ```
 * @module
 */
import type { ControlStore, SeenRecord } from "./store/types.ts";

interface Pending {
  seen: SeenRecord;
  waiters: { resolve: () => void; reject: (e: unknown) => void }[];
}

/**
 * Batches `recordSeen` calls into `recordSeenMany` commits.
 *
 * @example
 * ```ts
 * declare const writer: SeenWriter;
 * await writer.idle();
 * ```
 */
export class SeenWriter {
  readonly #store: ControlStore;
  #pending = new Map<string, Pending>();
  #flushing: Promise<void> | null = null;
  /** Commits made (for tests and metrics). */
  commits = 0;

  constructor(store: ControlStore) {
    this.#store = store;
  }

  /** Records a report; resolves once it is committed. */
  record(name: string, seen: SeenRecord): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const entry = this.#pending.get(name);
      if (entry) {
        entry.seen = seen;
        entry.waiters.push({ resolve, reject });
      } else {
        this.#pending.set(name, { seen, waiters: [{ resolve, reject }] });
      }
      this.#flushing ??= this.#drain();
    });
  }

  /** Resolves when nothing is waiting to be committed. */
  async idle(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  async #drain(): Promise<void> {
    // Reports of this tick join the first batch; later ones gather while a commit runs. (No timer:
    // under load a 0 ms timer fires milliseconds late, which would be pure added latency.)
    await Promise.resolve();
    while (this.#pending.size > 0) {
      const batch = this.#pending;
      this.#pending = new Map();
      try {
        await this.#store.recordSeenMany([...batch].map(([name, p]) => [name, p.seen] as const));
        this.commits++;
        for (const p of batch.values()) for (const w of p.waiters) w.resolve();
      } catch (e) {
        for (const p of batch.values()) for (const w of p.waiters) w.reject(e);
      }
    }
    this.#flushing = null;
  }
}
