/**
 * Idle timeouts for HTTP bodies: a watchdog that aborts a request when no byte moved for a while
 * (a stalled download or upload), and a stream wrapper that feeds it and types the errors.
 *
 * @example
 * ```ts
 * import { IdleWatchdog, watchStream } from "./idle_watchdog.ts";
 * const watchdog = new IdleWatchdog(30_000, "GET http://r/v2/a/blobs/x");
 * const body = watchStream(new Response("data").body!, watchdog, {});
 * ```
 * @module
 */
import { byteStream } from "./byte_stream.ts";
import { OciError, TransportError } from "./errors.ts";

/**
 * Aborts its signal when no activity was seen for `ms`. Cheap to kick: one timestamp write; the
 * timer re-arms itself only when it fires early. Call `dispose()` when done (no timer is left).
 *
 * @example
 * ```ts
 * const watchdog = new IdleWatchdog(30_000, "GET http://r/v2/");
 * watchdog.kick();
 * watchdog.dispose();
 * ```
 */
export class IdleWatchdog {
  readonly #controller = new AbortController();
  readonly #ms: number;
  readonly #what: string;
  #last = Date.now();
  #timer: ReturnType<typeof setTimeout> | undefined;
  reason: TransportError | undefined;

  constructor(ms: number, what: string) {
    this.#ms = ms;
    this.#what = what;
    this.#arm(ms);
  }
  get signal(): AbortSignal {
    return this.#controller.signal;
  }
  kick(): void {
    this.#last = Date.now();
  }
  dispose(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
  #arm(delay: number): void {
    this.#timer = setTimeout(() => {
      const idle = Date.now() - this.#last;
      if (idle < this.#ms) return this.#arm(this.#ms - idle);
      this.#timer = undefined;
      this.reason = new TransportError(this.#what, new Error(`no data for ${this.#ms} ms (timeout)`));
      this.#controller.abort(this.reason);
    }, delay);
  }
}

/**
 * Re-streams `source`, kicking the watchdog per chunk, disposing it at the end, and turning read
 * failures into the watchdog's timeout, the caller's abort reason, or a TransportError. The first
 * error of `source` itself is recorded in `failure` (for request bodies: a digest mismatch of the
 * data being uploaded must surface as itself, not as fetch's generic network error).
 *
 * @example
 * ```ts
 * const watchdog = new IdleWatchdog(1000, "GET x");
 * const body = watchStream(new Response("hi").body!, watchdog, {});
 * await new Response(body).text(); // "hi", and the watchdog is disposed
 * ```
 */
export function watchStream(
  source: ReadableStream<Uint8Array>,
  watchdog: IdleWatchdog,
  failure: { error?: unknown },
  callerSignal?: AbortSignal,
): ReadableStream<Uint8Array> {
  // A byte stream hop, so a BYOB consumer's buffer reaches the fetch body.
  return byteStream(source, {
    onData() {
      watchdog.kick();
    },
    onEnd() {
      watchdog.dispose();
    },
    onError(e) {
      watchdog.dispose();
      failure.error ??= e;
      throw callerSignal?.aborted
        ? callerSignal.reason
        : watchdog.reason ?? (e instanceof OciError ? e : new TransportError("reading body", e));
    },
    onCancel() {
      watchdog.dispose();
    },
  });
}
