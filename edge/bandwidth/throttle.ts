/**
 * Streams and fetch responses throttled by a token source (the {@linkcode BandwidthLimiter}).
 * Bytes are read in pieces no larger than the source allows at once, so one big chunk can't pass
 * the cap in a single burst and concurrent streams interleave fairly.
 *
 * @example
 * ```ts
 * import { BandwidthLimiter } from "./limiter.ts";
 * import { throttleStream } from "./throttle.ts";
 * const limiter = new BandwidthLimiter();
 * const body = throttleStream(limiter, new Response("hello").body!);
 * ```
 * @module
 */
import { byteStream } from "../../oci/byte_stream.ts";

/** What throttling needs from a limiter. */
export interface TokenSource {
  /** Waits until `bytes` may pass; rejects with the signal's reason on abort. */
  take(bytes: number, signal?: AbortSignal): Promise<void>;
  /** Largest piece to take at once. */
  readonly pieceSize: number;
  /** Resolves once fetching is allowed (sync windows); requests wait for it before they are sent. */
  whenAllowed?(signal?: AbortSignal): Promise<void>;
}

/** Statuses whose responses can't carry a body. */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/**
 * `stream` throttled by `source`: a byte stream that reads at most `source.pieceSize` bytes at a
 * time (asked per read, so a policy change applies to a running transfer at once) and passes each
 * piece after `source.take(piece)`. A BYOB consumer's buffer goes straight to the upstream (no
 * per-chunk allocation). Cancelling it (or aborting `signal`) abandons a pending wait.
 *
 * @example
 * ```ts
 * import { BandwidthLimiter } from "./limiter.ts";
 * const limited = throttleStream(new BandwidthLimiter(), new Response("hi").body!);
 * ```
 */
export function throttleStream(
  source: TokenSource,
  stream: ReadableStream<Uint8Array>,
  signal?: AbortSignal,
): ReadableStream<Uint8Array> {
  const cancelled = new AbortController();
  const waitSignal = signal ? AbortSignal.any([signal, cancelled.signal]) : cancelled.signal;
  return byteStream(stream, {
    maxRead: () => Math.max(1, source.pieceSize),
    onData: (piece) => source.take(piece.byteLength, waitSignal),
    onCancel: (reason) => cancelled.abort(reason),
  });
}

/**
 * A readable/writable pair (for `pipeThrough`) that throttles by `source` like
 * {@linkcode throttleStream}; its readable side is a byte stream.
 *
 * @example
 * ```ts
 * import { BandwidthLimiter } from "./limiter.ts";
 * new Response("hi").body!.pipeThrough(throttleTransform(new BandwidthLimiter()));
 * ```
 */
export function throttleTransform(
  source: TokenSource,
  signal?: AbortSignal,
): ReadableWritablePair<Uint8Array, Uint8Array> {
  const pass = new TransformStream<Uint8Array, Uint8Array>();
  return { writable: pass.writable, readable: throttleStream(source, pass.readable, signal) };
}

/**
 * A fetch whose response bodies are throttled by `source`; status, headers and `url` are kept.
 *
 * @example
 * ```ts
 * import { BandwidthLimiter } from "./limiter.ts";
 * const limitedFetch = limitFetch(new BandwidthLimiter(), fetch);
 * ```
 */
export function limitFetch(source: TokenSource, inner: typeof fetch): typeof fetch {
  return async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const signal = init?.signal ?? (input instanceof Request ? input.signal : undefined);
    // Outside a sync window not even the request goes out.
    await source.whenAllowed?.(signal ?? undefined);
    const response = await inner(input, init);
    if (!response.body || NULL_BODY_STATUSES.has(response.status)) return response;
    // Response keeps the byte stream as its body, so `limited.body` still takes BYOB readers.
    const limited = new Response(throttleStream(source, response.body, signal ?? undefined), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
    // Redirect handling and relative Location resolution in callers need the final URL.
    Object.defineProperties(limited, {
      url: { value: response.url },
      redirected: { value: response.redirected },
    });
    return limited;
  };
}
