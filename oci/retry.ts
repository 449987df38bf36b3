/**
 * Retry policy for registry calls: exponential backoff with full jitter, `Retry-After` honoured
 * (capped), and which statuses are worth another try.
 *
 * @example
 * ```ts
 * import { backoffDelay, isRetryableStatus } from "./retry.ts";
 * isRetryableStatus(503); // true
 * backoffDelay(2, { baseDelayMs: 100, maxDelayMs: 5000 }); // somewhere in [0, 400)
 * ```
 * @module
 */

/** Backoff bounds. */
export interface BackoffPolicy {
  /** Delay scale of the first retry. */
  baseDelayMs: number;
  /** Upper bound of any single delay, including a server's `Retry-After`. */
  maxDelayMs: number;
}

/** The defaults: 200 ms doubling, at most 10 s per wait. */
export const DEFAULT_BACKOFF: BackoffPolicy = { baseDelayMs: 200, maxDelayMs: 10_000 };

/**
 * "Full jitter" delay before retry number `attempt` (0-based): uniform in `[0, base * 2^attempt)`,
 * capped, so many devices retrying at once spread out instead of hitting the registry together.
 *
 * @example
 * ```ts
 * backoffDelay(0, DEFAULT_BACKOFF, () => 0.5); // 100
 * ```
 */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/**
 * Parses a `Retry-After` header (delay-seconds or an HTTP date) into milliseconds from `now`;
 * undefined when absent or unparseable. Negative results become 0.
 *
 * @example
 * ```ts
 * parseRetryAfter("3"); // 3000
 * ```
 */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const when = Date.parse(text);
  if (Number.isNaN(when)) return undefined;
  return Math.max(0, when - now);
}

/**
 * Statuses that say "try again later" rather than "your request is wrong": 408, 429 and the
 * transient 5xx (not 501 Not Implemented, which will not change on retry).
 *
 * @example
 * ```ts
 * isRetryableStatus(404); // false
 * ```
 */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

/**
 * Statuses after which even a non-idempotent request (POST) is safe to repeat: the server says it
 * refused the request without acting on it.
 *
 * @example
 * ```ts
 * isRefusedStatus(503); // true
 * ```
 */
export function isRefusedStatus(status: number): boolean {
  return status === 429 || status === 503;
}

/**
 * The wait before the next try: the server's `Retry-After` when given (capped by the policy),
 * else jittered backoff.
 *
 * @example
 * ```ts
 * retryDelay(0, "1", DEFAULT_BACKOFF); // 1000
 * ```
 */
export function retryDelay(attempt: number, retryAfter: string | null, policy: BackoffPolicy): number {
  const server = parseRetryAfter(retryAfter);
  if (server !== undefined) return Math.min(server, policy.maxDelayMs);
  return backoffDelay(attempt, policy);
}

/**
 * Sleeps `ms`, rejecting with the signal's reason if it aborts first (and leaving no timer behind).
 *
 * @example
 * ```ts
 * await sleep(10);
 * ```
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
