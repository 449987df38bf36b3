/**
 * One global token-bucket limiter shared by every transfer of the satellite. Requests are served in
 * arrival order, and each stream asks for at most one small piece at a time, so concurrent transfers
 * share the cap fairly (round robin). The bucket holds at most a tenth of a second of tokens, so the
 * mean rate stays accurate; a policy change (or a calendar window opening or closing) takes effect at
 * once, also for transfers already running. Outside a sync window nothing passes until it opens.
 *
 * @example
 * ```ts
 * import { BandwidthLimiter } from "./limiter.ts";
 * import { policyForRate } from "./policy.ts";
 * const limiter = new BandwidthLimiter({ policy: policyForRate(4 * 1024 * 1024) });
 * const res = await limiter.fetch("http://127.0.0.1:5000/v2/");
 * await res.body?.cancel();
 * ```
 * @module
 */
import type { BandwidthPolicy } from "../../schemas/bandwidth.ts";
import { type Clock, realClock } from "./clock.ts";
import { evaluatePolicy, nextChange, policyForRate, type PolicyState } from "./policy.ts";
import { limitFetch, throttleStream, throttleTransform } from "./throttle.ts";

/** Options for {@linkcode BandwidthLimiter}. */

/** Piece size when no cap is in force: the blob store reads in 1 MiB buffers. */
export const UNCAPPED_PIECE = 1024 * 1024;
export interface LimiterOptions {
  /** Initial policy (default: unlimited, always allowed). */
  policy?: BandwidthPolicy;
  clock?: Clock;
  /** Bucket size in seconds of the current rate (default 0.1). */
  burstSeconds?: number;
  /** Largest piece one stream takes at a time (default 64 KiB); smaller pieces = finer fairness. */
  maxPiece?: number;
  /** The fetch that {@linkcode BandwidthLimiter.fetch} wraps (default `globalThis.fetch`). */
  fetch?: typeof fetch;
}

interface Waiter {
  bytes: number;
  resolve(): void;
  reject(reason: unknown): void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/** Re-check the policy at least this often even when `nextChange` is far away (clock jumps, DST). */
const MAX_POLICY_CACHE_MS = 60_000;

/**
 * A token bucket whose rate follows a {@linkcode BandwidthPolicy}.
 *
 * @example
 * ```ts
 * import { policyForRate } from "./policy.ts";
 * const limiter = new BandwidthLimiter({ policy: policyForRate(1024 * 1024) });
 * await limiter.take(4096);
 * limiter.setPolicy(policyForRate(0)); // unlimited from now on, also for running transfers
 * ```
 */
export class BandwidthLimiter {
  readonly #clock: Clock;
  readonly #burstSeconds: number;
  readonly #maxPiece: number;
  #policy: BandwidthPolicy;
  #state: PolicyState = { rate: 0, allowed: true };
  #stateUntil = -Infinity;
  #tokens = 0;
  #lastRefill: number;
  #queue: Waiter[] = [];
  #pumping = false;
  #wake = new AbortController();
  #passed = 0;

  /** A `fetch` whose response bodies pass through this limiter; hand it to the OCI client. */
  readonly fetch: typeof fetch;

  constructor(options: LimiterOptions = {}) {
    this.#clock = options.clock ?? realClock;
    this.#burstSeconds = options.burstSeconds ?? 0.1;
    this.#maxPiece = options.maxPiece ?? 64 * 1024;
    this.#policy = options.policy ?? policyForRate(0);
    this.#lastRefill = this.#clock.now();
    this.fetch = limitFetch(this, options.fetch ?? globalThis.fetch.bind(globalThis));
  }

  /** The policy in use. */
  get policy(): BandwidthPolicy {
    return this.#policy;
  }

  /** The cap in force now, in bytes per second (0 = unlimited). */
  get rate(): number {
    return this.#current().rate;
  }

  /** Whether fetching is allowed now (inside a sync window, or no sync windows). */
  get allowed(): boolean {
    return this.#current().allowed;
  }

  /** Bytes granted so far. */
  get bytesPassed(): number {
    return this.#passed;
  }

  /** Transfers waiting for tokens right now. */
  get waiting(): number {
    return this.#queue.length;
  }

  /** Largest piece a stream should take at once under the current cap (1 MiB when uncapped). */
  get pieceSize(): number {
    const { rate } = this.#current();
    // Uncapped, reads fill the store's whole buffer; a cap arriving mid-read applies after <= 1 MiB.
    if (rate === 0) return UNCAPPED_PIECE;
    return Math.max(1, Math.min(this.#maxPiece, Math.floor(this.#capacity(rate))));
  }

  /** Replaces the policy; running transfers see the new cap at once. */
  setPolicy(policy: BandwidthPolicy): void {
    this.#refill();
    this.#policy = policy;
    this.#stateUntil = -Infinity;
    this.#poke(true);
  }

  /**
   * Waits until `bytes` may pass (in pieces of at most {@linkcode pieceSize}); rejects with the
   * signal's reason on abort. Blocks while outside a sync window.
   */
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    let left = Math.max(0, Math.floor(bytes));
    while (left > 0) {
      const piece = Math.min(left, this.pieceSize);
      await this.#acquire(piece, signal);
      left -= piece;
    }
  }

  /**
   * Resolves once fetching is allowed (at once inside a sync window or without sync windows);
   * rejects with the signal's reason on abort.
   *
   * @example
   * ```ts
   * await limiter.whenAllowed(AbortSignal.timeout(60_000));
   * ```
   */
  whenAllowed(signal?: AbortSignal): Promise<void> {
    return this.#acquire(0, signal);
  }

  /**
   * A transform that releases each chunk only when the limiter allows it, split into small pieces.
   *
   * @example
   * ```ts
   * const limiter = new BandwidthLimiter();
   * new Response("hello").body!.pipeThrough(limiter.transform());
   * ```
   */
  transform(signal?: AbortSignal): ReadableWritablePair<Uint8Array, Uint8Array> {
    return throttleTransform(this, signal);
  }

  /**
   * `stream` throttled by this limiter.
   *
   * @example
   * ```ts
   * const limiter = new BandwidthLimiter();
   * const body = limiter.throttle(new Response("hello").body!);
   * ```
   */
  throttle(stream: ReadableStream<Uint8Array>, signal?: AbortSignal): ReadableStream<Uint8Array> {
    return throttleStream(this, stream, signal);
  }

  /**
   * Wraps another fetch so its response bodies are throttled.
   *
   * @example
   * ```ts
   * const limiter = new BandwidthLimiter();
   * const limited = limiter.wrapFetch(fetch);
   * ```
   */
  wrapFetch(inner: typeof fetch): typeof fetch {
    return limitFetch(this, inner);
  }

  #capacity(rate: number): number {
    return rate * this.#burstSeconds;
  }

  #current(): PolicyState {
    const now = this.#clock.now();
    if (now >= this.#stateUntil) {
      this.#refill(); // account the time so far at the rate that was in force
      this.#state = evaluatePolicy(this.#policy, now);
      const change = nextChange(this.#policy, now);
      this.#stateUntil = Math.min(change ?? Infinity, now + MAX_POLICY_CACHE_MS);
    }
    return this.#state;
  }

  /** Adds the tokens earned since the last refill at the rate that was in force. */
  #refill(): void {
    const now = this.#clock.now();
    const elapsed = Math.max(0, now - this.#lastRefill);
    this.#lastRefill = now;
    const { rate, allowed } = this.#state;
    if (!allowed || rate === 0) {
      // Nothing accrues while blocked; unlimited spends nothing, so start a cap from an empty bucket.
      this.#tokens = 0;
      return;
    }
    this.#tokens = Math.min(this.#capacity(rate), this.#tokens + (elapsed * rate) / 1000);
  }

  #acquire(bytes: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const state = this.#current();
    if (this.#queue.length === 0 && state.allowed && state.rate === 0) {
      this.#passed += bytes;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { bytes, resolve, reject, signal };
      if (signal) {
        waiter.onAbort = () => {
          const index = this.#queue.indexOf(waiter);
          if (index >= 0) this.#queue.splice(index, 1);
          reject(signal.reason);
          if (index === 0) this.#poke(true);
        };
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      this.#queue.push(waiter);
      this.#poke();
    });
  }

  /** Starts the pump if idle; with `wake`, interrupts its sleep so it re-evaluates now. */
  #poke(wake = false): void {
    if (this.#pumping) {
      if (wake) this.#wake.abort();
      return;
    }
    if (this.#queue.length === 0) return;
    this.#pumping = true;
    this.#pump().finally(() => {
      this.#pumping = false;
      if (this.#queue.length > 0) this.#poke();
    });
  }

  #grant(waiter: Waiter): void {
    if (waiter.onAbort) waiter.signal?.removeEventListener("abort", waiter.onAbort);
    this.#passed += waiter.bytes;
    waiter.resolve();
  }

  async #pump(): Promise<void> {
    // Each turn grants one waiter or sleeps; the bound only guards against a logic error spinning.
    for (let turn = 0; turn < Number.MAX_SAFE_INTEGER && this.#queue.length > 0; turn++) {
      this.#current();
      this.#refill();
      const { rate, allowed } = this.#state;
      let waitMs: number;
      if (!allowed) {
        waitMs = this.#stateUntil - this.#clock.now();
      } else if (rate === 0) {
        this.#grant(this.#queue.shift()!);
        continue;
      } else {
        const head = this.#queue[0];
        // A piece larger than the bucket (the cap just dropped) may pass once the bucket is full;
        // tokens then go negative, so the debt is paid back and the mean rate stays exact.
        const need = Math.min(head.bytes, this.#capacity(rate));
        if (this.#tokens >= need) {
          this.#tokens -= head.bytes;
          this.#grant(this.#queue.shift()!);
          continue;
        }
        waitMs = Math.min(((need - this.#tokens) * 1000) / rate, this.#stateUntil - this.#clock.now());
      }
      if (this.#wake.signal.aborted) this.#wake = new AbortController();
      try {
        await this.#clock.sleep(Math.max(0, Math.ceil(waitMs)), this.#wake.signal);
      } catch {
        // Woken early by a policy change or a new/aborted waiter: loop and re-evaluate.
      }
      if (this.#wake.signal.aborted) this.#wake = new AbortController();
    }
  }
}
