/**
 * Token buckets keyed by credential (device secret, admin token, registration token), never by
 * client address: a thousand satellites behind one NAT must not throttle each other.
 *
 * @example
 * ```ts
 * import { TokenBuckets } from "./rate_limit.ts";
 * const buckets = new TokenBuckets({ ratePerSecond: 1, burst: 2 });
 * buckets.take("sat:shop-001", 0).allowed; // true
 * ```
 * @module
 */
import type { RateLimit } from "../schemas/control.ts";

/** The outcome of one take. */
export interface TakeResult {
  allowed: boolean;
  /** Whole seconds until one token is back (0 when allowed). */
  retryAfterSeconds: number;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

/** Above this many tracked keys, full buckets are dropped (they carry no information). */
const SWEEP_ABOVE = 50_000;

/**
 * A set of token buckets with one limit.
 *
 * @example
 * ```ts
 * const b = new TokenBuckets({ ratePerSecond: 10, burst: 1 });
 * b.take("k", 0); b.take("k", 0).retryAfterSeconds; // 1
 * ```
 */
export class TokenBuckets {
  readonly #limit: RateLimit;
  readonly #buckets = new Map<string, Bucket>();

  constructor(limit: RateLimit) {
    this.#limit = limit;
  }

  /** Takes one token for `key` at `nowMs`. */
  take(key: string, nowMs: number): TakeResult {
    const { ratePerSecond, burst } = this.#limit;
    const bucket = this.#buckets.get(key) ?? { tokens: burst, updatedMs: nowMs };
    const elapsed = Math.max(0, nowMs - bucket.updatedMs) / 1000;
    bucket.tokens = Math.min(burst, bucket.tokens + elapsed * ratePerSecond);
    bucket.updatedMs = nowMs;
    if (!this.#buckets.has(key)) {
      if (this.#buckets.size >= SWEEP_ABOVE) this.#sweep(nowMs);
      this.#buckets.set(key, bucket);
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true, retryAfterSeconds: 0 };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / ratePerSecond)) };
  }

  /** Number of keys tracked (for tests and metrics). */
  get size(): number {
    return this.#buckets.size;
  }

  #sweep(nowMs: number): void {
    const { ratePerSecond, burst } = this.#limit;
    for (const [key, b] of this.#buckets) {
      if (b.tokens + ((nowMs - b.updatedMs) / 1000) * ratePerSecond >= burst) this.#buckets.delete(key);
    }
  }
}
