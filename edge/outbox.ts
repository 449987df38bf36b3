/**
 * A bounded, ordered queue of status reports and events in Deno KV, for while Ground Control is
 * unreachable. Delivery is at-least-once and in order: each entry gets the next number of a
 * sequence kept in a meta record that every change updates atomically (checked by versionstamp),
 * and entries are removed only after `send` succeeded. When the queue is full the oldest entries go
 * first and a persisted `dropped` counter grows; it travels with the next delivery.
 *
 * Deno KV caps a value at 64 KiB, so an entry's JSON is stored in parts under `[..., seq, part]`.
 *
 * @example
 * ```ts
 * import { Outbox } from "./outbox.ts";
 * await using outbox = await Outbox.open(await Deno.makeTempFile({ suffix: ".kv" }), { limit: 1000 });
 * await outbox.enqueue({ type: "event", event: { at: new Date().toISOString(), kind: "boot", message: "up" } });
 * await outbox.deliver(async (batch) => {
 *   console.log(batch.items.length, batch.dropped);
 * });
 * ```
 * @module
 */
import type { z } from "zod";
import { OutboxEntry } from "../schemas/status.ts";
import { parseOrThrow } from "../schemas/validate.ts";
import { type Clock, realClock } from "./bandwidth/clock.ts";

/** One delivered item: its sequence number (receivers may dedupe on it) and the entry. */
export interface OutboxItem<T> {
  seq: number;
  value: T;
}

/** What `send` receives: entries oldest first, and how many were dropped since the last delivery. */
export interface OutboxBatch<T> {
  items: OutboxItem<T>[];
  dropped: number;
}

/** Options for {@linkcode Outbox}. */
export interface OutboxOptions<S extends z.ZodType = typeof OutboxEntry> {
  /** Most entries kept; beyond it the oldest are dropped (default 10 000). */
  limit?: number;
  /** Schema every entry is validated with on enqueue and on read (default: status report or event). */
  schema?: S;
  /** Key prefix in the KV (default `["outbox"]`), so several queues can share one database. */
  prefix?: Deno.KvKey;
  /** Entries per `send` call (default 100). */
  batchSize?: number;
  /** A batch ends after an entry for which this is true (e.g. one status report per delivery). */
  endsBatch?: (value: z.output<S>) => boolean;
  clock?: Clock;
  /** Uniform in [0, 1): jitter source (default `Math.random`). */
  random?: () => number;
  /** First retry delay (default 1 s); doubles per failure up to `maxDelayMs` (default 5 min). */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

/** Options for one {@linkcode Outbox.deliver} run. */
export interface DeliverOptions {
  /** Stops waiting/retrying (the promise rejects with the reason). */
  signal?: AbortSignal;
  /** Give up after this many consecutive failures and throw the last error (default: never). */
  maxAttempts?: number;
}

interface Meta {
  /** Sequence number of the next entry. */
  next: number;
  /** Sequence number of the oldest entry still queued. */
  head: number;
  dropped: number;
}

interface StoredPart {
  /** Number of parts (only meaningful on part 0). */
  parts: number;
  text: string;
}

/** Characters per stored part: 2 bytes per char worst case stays below Deno KV's 64 KiB value limit. */
const PART_CHARS = 30_000;
/** Largest entry (JSON characters); KV atomic operations are bounded in size too. */
export const MAX_ENTRY_CHARS = PART_CHARS * 12;
/** Retries of an atomic commit that lost a race with another writer. */
const MAX_COMMIT_RETRIES = 100;
/** Keys deleted per non-atomic cleanup batch. */
const DELETE_BATCH = 200;

/**
 * The outbox.
 *
 * @example
 * ```ts
 * const kv = await Deno.openKv(":memory:");
 * const outbox = new Outbox(kv, { limit: 10 });
 * console.log(await outbox.size());
 * ```
 */
export class Outbox<S extends z.ZodType = typeof OutboxEntry> implements AsyncDisposable {
  readonly kv: Deno.Kv;
  readonly limit: number;
  readonly #schema: S;
  readonly #metaKey: Deno.KvKey;
  readonly #entryPrefix: Deno.KvKey;
  readonly #batchSize: number;
  readonly #endsBatch: ((value: z.output<S>) => boolean) | undefined;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  #ownsKv = false;
  /** Serialises this process's writers, so the versionstamp check only guards other processes. */
  #writes: Promise<unknown> = Promise.resolve();

  constructor(kv: Deno.Kv, options: OutboxOptions<S> = {}) {
    this.kv = kv;
    this.limit = Math.max(1, Math.floor(options.limit ?? 10_000));
    this.#schema = options.schema ?? (OutboxEntry as unknown as S);
    const prefix = options.prefix ?? ["outbox"];
    this.#metaKey = [...prefix, "meta"];
    this.#entryPrefix = [...prefix, "entry"];
    this.#batchSize = Math.max(1, options.batchSize ?? 100);
    this.#endsBatch = options.endsBatch;
    this.#clock = options.clock ?? realClock;
    this.#random = options.random ?? Math.random;
    this.#baseDelayMs = options.baseDelayMs ?? 1_000;
    this.#maxDelayMs = options.maxDelayMs ?? 300_000;
  }

  /**
   * Opens (creating) a KV file and an outbox in it; `close()` closes the KV.
   *
   * @example
   * ```ts
   * const outbox = await Outbox.open("/var/lib/satellite/outbox.kv");
   * outbox.close();
   * ```
   */
  static async open<S extends z.ZodType = typeof OutboxEntry>(
    path: string,
    options: OutboxOptions<S> = {},
  ): Promise<Outbox<S>> {
    const outbox = new Outbox(await Deno.openKv(path), options);
    outbox.#ownsKv = true;
    return outbox;
  }

  /**
   * Validates and appends an entry; when the queue is full the oldest entries are dropped first.
   * Throws a ValidationError (naming the field) for a bad entry, which is then not stored.
   */
  enqueue(entry: z.input<S>): Promise<void> {
    const value = parseOrThrow(this.#schema, entry, "outbox entry");
    const text = JSON.stringify(value);
    if (text.length > MAX_ENTRY_CHARS) {
      throw new RangeError(
        `outbox entry is ${text.length} characters; the limit is ${MAX_ENTRY_CHARS}: split it (e.g. fewer artifacts per report)`,
      );
    }
    return this.#serial(() => this.#append(text));
  }

  /** Number of queued entries. */
  async size(): Promise<number> {
    const meta = await this.#meta();
    return meta.value.next - meta.value.head;
  }

  /** Entries dropped since the last successful delivery. */
  async dropped(): Promise<number> {
    return (await this.#meta()).value.dropped;
  }

  /**
   * Reads up to `max` entries, oldest first, without removing them. Stored entries that no longer
   * pass the schema are skipped (and counted as dropped once delivered past).
   */
  async peek(max = this.#batchSize): Promise<OutboxBatch<z.output<S>> & { invalid: number; last: number }> {
    const meta = (await this.#meta()).value;
    const items: OutboxItem<z.output<S>>[] = [];
    let invalid = 0;
    let last = meta.head - 1;
    let current: { seq: number; parts: number; texts: string[] } | undefined;
    let ended = false;
    const finish = () => {
      if (!current) return;
      last = current.seq;
      const parsed = current.texts.length === current.parts ? safeJson(current.texts.join("")) : undefined;
      const result = parsed === undefined ? undefined : this.#schema.safeParse(parsed.value);
      if (result?.success) {
        items.push({ seq: current.seq, value: result.data });
        ended = this.#endsBatch?.(result.data) ?? false;
      } else invalid++;
      current = undefined;
    };
    const iterator = this.kv.list<StoredPart>({
      start: [...this.#entryPrefix, meta.head],
      end: [...this.#entryPrefix, meta.next],
    });
    for await (const { key, value } of iterator) {
      const seq = key[this.#entryPrefix.length] as number;
      if (current && current.seq !== seq) {
        finish();
        if (items.length + invalid >= max || ended) break;
      }
      current ??= { seq, parts: value.parts, texts: [] };
      current.texts.push(value.text);
    }
    finish();
    return { items, dropped: meta.dropped, invalid, last };
  }

  /**
   * Sends everything queued, in order and in batches, until the queue is empty. A failing `send`
   * is retried with exponential backoff and jitter; entries are removed only after it succeeded
   * (at-least-once: a crash between send and removal resends the batch, so receivers dedupe on
   * `seq`). Returns the number of entries delivered.
   */
  async deliver(
    send: (batch: OutboxBatch<z.output<S>>) => Promise<void>,
    options: DeliverOptions = {},
  ): Promise<number> {
    let delivered = 0;
    let failures = 0;
    const maxAttempts = options.maxAttempts ?? Infinity;
    // Bounded by the queue: each successful turn removes at least one entry or the dropped count.
    for (let turn = 0; turn < Number.MAX_SAFE_INTEGER; turn++) {
      options.signal?.throwIfAborted();
      const batch = await this.peek();
      if (batch.items.length === 0 && batch.dropped === 0 && batch.invalid === 0) return delivered;
      try {
        if (batch.items.length > 0 || batch.dropped > 0) {
          await send({ items: batch.items, dropped: batch.dropped });
        }
      } catch (error) {
        failures++;
        if (failures >= maxAttempts) throw error;
        await this.#clock.sleep(this.backoffMs(failures), options.signal);
        continue;
      }
      failures = 0;
      delivered += batch.items.length;
      await this.#serial(() => this.#acknowledge(batch.last, batch.dropped, batch.invalid));
    }
    return delivered;
  }

  /**
   * The wait before retry number `failures` (1-based): half the exponential delay plus a random
   * half, so a fleet that lost Ground Control at once doesn't come back at once.
   */
  backoffMs(failures: number): number {
    const ceiling = Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** Math.min(failures - 1, 40));
    return ceiling / 2 + this.#random() * (ceiling / 2);
  }

  /** Closes the KV if this outbox opened it. */
  close(): void {
    if (this.#ownsKv) this.kv.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#writes.then(work, work);
    this.#writes = run.catch(() => {});
    return run;
  }

  /** The meta record (zeros when the queue was never used) and its entry, for atomic checks. */
  async #meta(): Promise<{ entry: Deno.KvEntryMaybe<Meta>; value: Meta }> {
    const entry = await this.kv.get<Meta>(this.#metaKey);
    return { entry, value: entry.value ?? { next: 0, head: 0, dropped: 0 } };
  }

  async #append(text: string): Promise<void> {
    const parts: string[] = [];
    for (let i = 0; i < text.length || i === 0; i += PART_CHARS) parts.push(text.slice(i, i + PART_CHARS));
    for (let attempt = 0; attempt < MAX_COMMIT_RETRIES; attempt++) {
      const meta = await this.#meta();
      const { next, dropped } = meta.value;
      const op = this.kv.atomic().check(meta.entry);
      parts.forEach((part, i) =>
        op.set([...this.#entryPrefix, next, i], { parts: parts.length, text: part })
      );
      // Make room by moving the head past the oldest entries; their keys are deleted after the commit.
      const head = Math.max(meta.value.head, next + 1 - this.limit);
      const stale = head - meta.value.head;
      op.set(this.#metaKey, { next: next + 1, head, dropped: dropped + stale } satisfies Meta);
      if (!(await op.commit()).ok) continue;
      if (stale > 0) await this.#deleteBelow(head);
      return;
    }
    throw new Error(`outbox: could not append after ${MAX_COMMIT_RETRIES} conflicting writes`);
  }

  /** Moves the head past `last`, subtracts what was reported as dropped, then deletes the entries. */
  async #acknowledge(last: number, reportedDropped: number, invalid: number): Promise<void> {
    for (let attempt = 0; attempt < MAX_COMMIT_RETRIES; attempt++) {
      const meta = await this.#meta();
      const { next, head, dropped } = meta.value;
      const newHead = Math.min(next, Math.max(head, last + 1));
      const remaining = Math.max(0, dropped - reportedDropped) + invalid;
      const ok = await this.kv.atomic().check(meta.entry)
        .set(this.#metaKey, { next, head: newHead, dropped: remaining } satisfies Meta).commit();
      if (!ok.ok) continue;
      await this.#deleteBelow(newHead);
      return;
    }
    throw new Error(`outbox: could not acknowledge after ${MAX_COMMIT_RETRIES} conflicting writes`);
  }

  /** Entries below the head are invisible already; deleting them just frees space. */
  async #deleteBelow(head: number): Promise<void> {
    const keys: Deno.KvKey[] = [];
    for await (
      const { key } of this.kv.list({ start: [...this.#entryPrefix, 0], end: [...this.#entryPrefix, head] })
    ) {
      keys.push(key);
    }
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const op = this.kv.atomic();
      for (const key of keys.slice(i, i + DELETE_BATCH)) op.delete(key);
      await op.commit();
    }
  }
}

function safeJson(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) };
  } catch {
    return undefined;
  }
}
