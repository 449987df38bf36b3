/**
 * Allocation-free stream hops. {@linkcode byteStream} wraps a stream in a byte stream (`type:
 * "bytes"`) that reads its upstream straight into the consumer's buffer: a BYOB consumer (the blob
 * store's `readReusing`) hands one reused buffer down every hop to the fetch body, which fills it,
 * so a blob transfer allocates nothing per chunk. Each hop watches the bytes go by through hooks
 * (count, hash, take bandwidth tokens, verify at the end, resume after an error) instead of
 * re-enqueueing chunks through a TransformStream, which would lose BYOB at the first hop.
 *
 * @example
 * ```ts
 * import { byteStream } from "./byte_stream.ts";
 * let bytes = 0;
 * const counted = byteStream(new Response("hello").body!, { onData: (view) => void (bytes += view.byteLength) });
 * await new Response(counted).text(); // "hello", bytes === 5
 * ```
 * @module
 */

/** What a hop does with the bytes passing through it. */
export interface ByteStreamHooks {
  /**
   * Largest number of bytes to read from upstream at once (e.g. a bandwidth piece), asked before
   * every read; default: as many as the consumer's buffer holds. 0 ends this stream there (its
   * upstream is left as it is, e.g. a shared {@linkcode ByteReader}).
   */
  maxRead?(): number;
  /**
   * Sees each filled view before the consumer does. May be async: the consumer waits (backpressure,
   * bandwidth tokens). Throwing errors the stream (and cancels the upstream).
   */
  onData?(view: Uint8Array): void | Promise<void>;
  /** Runs when the upstream ends. Throwing (a digest or size mismatch) errors the stream instead of closing it. */
  onEnd?(): void | Promise<void>;
  /**
   * Runs when reading the upstream fails: return a replacement upstream to carry on from (a resumed
   * download), or throw (the thrown error is what the consumer sees). Default: rethrow.
   */
  onError?(error: unknown): ReadableStream<Uint8Array> | Promise<ReadableStream<Uint8Array>>;
  /** Runs when the consumer cancels (before the upstream is cancelled), e.g. to abandon a wait. */
  onCancel?(reason: unknown): void;
}

/** Buffer size for consumers that read with a default reader (`autoAllocateChunkSize`). */
export const DEFAULT_CHUNK_SIZE = 64 * 1024;

/**
 * `upstream` as a byte stream whose reads go straight into the consumer's buffer, passing through
 * `hooks`. A function as `upstream` is called on the first read to open it (never, when the stream
 * is cancelled first); a {@linkcode ByteReader} may be shared with other byte streams. Upstream byte streams (fetch and file bodies, other `byteStream`s) are read with a BYOB
 * reader into that buffer (no copy, no allocation); other streams are read with a default reader
 * and copied (a chunk larger than the buffer is delivered over several reads). Consumers with a
 * default reader get buffers of `chunkSize` bytes. Nothing is read ahead: one read downstream is
 * one read upstream.
 *
 * @example
 * ```ts
 * import { Digester } from "./digest.ts";
 * const digester = new Digester("sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
 * const verified = byteStream(new Response("hello").body!, {
 *   onData: (view) => digester.update(view),
 *   onEnd: () => {
 *     if (!digester.matches()) throw new Error("digest mismatch");
 *   },
 * });
 * const reader = verified.getReader({ mode: "byob" });
 * const { value } = await reader.read(new Uint8Array(1024)); // "hello" in the caller's buffer
 * ```
 */
export function byteStream(
  upstream: ReadableStream<Uint8Array> | ByteReader | (() => Promise<ReadableStream<Uint8Array>>),
  hooks: ByteStreamHooks = {},
  chunkSize: number = DEFAULT_CHUNK_SIZE,
): ReadableStream<Uint8Array> {
  let source = typeof upstream === "function"
    ? undefined
    : upstream instanceof ByteReader
    ? upstream
    : new ByteReader(upstream);
  let cancelled = false;
  return new ReadableStream({
    type: "bytes",
    autoAllocateChunkSize: chunkSize,
    async pull(controller) {
      if (!source) {
        const opened = await (upstream as () => Promise<ReadableStream<Uint8Array>>)();
        if (cancelled) return void await opened.cancel().catch(() => {});
        source = new ByteReader(opened);
      }
      // Always present: default reads are turned into buffer requests by autoAllocateChunkSize.
      const request = controller.byobRequest!;
      const offered = request.view!;
      // BYOB reads transfer the buffer (detaching `offered`): keep its geometry for the answer.
      const { byteOffset } = offered;
      const bufferLength = offered.buffer.byteLength;
      const length = Math.min(offered.byteLength, Math.max(0, Math.floor(hooks.maxRead?.() ?? Infinity)));
      if (length === 0) {
        controller.close();
        request.respond(0);
        return;
      }
      let view = new Uint8Array(offered.buffer, byteOffset, length);
      // Bounded: every pass delivers, ends, errors, skips an empty chunk, or is a recovery that
      // `onError` allowed (and bounds).
      for (;;) {
        let result: { done: boolean; view: Uint8Array | undefined };
        try {
          result = await source.read(view);
        } catch (e) {
          if (cancelled) return;
          if (!hooks.onError) throw e;
          const next = await hooks.onError(e);
          if (cancelled) return void await next.cancel().catch(() => {});
          source = new ByteReader(next);
          // A failed BYOB read keeps the buffer it was given: carry on in a fresh one of the same
          // geometry (consumers take back whichever buffer the answer lands in).
          if (view.byteLength === 0) view = new Uint8Array(new ArrayBuffer(bufferLength), byteOffset, length);
          continue;
        }
        if (cancelled) return;
        if (result.done) {
          await hooks.onEnd?.();
          if (cancelled) return;
          controller.close();
          // A pending BYOB read is answered with an empty view on its buffer.
          request.respondWithNewView(
            result.view ?? new Uint8Array(new ArrayBuffer(bufferLength), byteOffset, 0),
          );
          return;
        }
        const filled = result.view!;
        if (filled.byteLength === 0) continue; // an empty chunk from a non-byte upstream
        try {
          await hooks.onData?.(filled);
        } catch (e) {
          await source.cancel(e).catch(() => {});
          throw e;
        }
        if (cancelled) return;
        request.respondWithNewView(filled);
        return;
      }
    },
    cancel(reason) {
      cancelled = true;
      hooks.onCancel?.(reason);
      return source?.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

/**
 * Reads a stream into given views: with a BYOB reader when it is a byte stream (straight into the
 * view, no copy), else with a default reader, copying (a chunk larger than the view is kept for
 * the next read). Several {@linkcode byteStream}s can share one, each taking a part of the stream
 * (chunked uploads).
 *
 * @example
 * ```ts
 * const reader = new ByteReader(new Blob(["hello"]).stream());
 * const { view } = await reader.read(new Uint8Array(3)); // "hel"
 * ```
 */
export class ByteReader {
  readonly #byob: ReadableStreamBYOBReader | undefined;
  readonly #default: ReadableStreamDefaultReader<Uint8Array> | undefined;
  /** Bytes to hand out before reading on: the rest of a chunk larger than a view, or unread bytes. */
  #leftover: Uint8Array | undefined;

  constructor(stream: ReadableStream<Uint8Array>) {
    try {
      this.#byob = stream.getReader({ mode: "byob" });
    } catch {
      this.#default = stream.getReader();
    }
  }

  /**
   * Fills the start of `view`. BYOB reads transfer its buffer: the answer is a view on the
   * transferred buffer, same offset (`view` itself is detached then, also when the read fails).
   * At the end: `done`, with an empty view on the buffer when there still is one.
   */
  async read(view: Uint8Array): Promise<{ done: boolean; view: Uint8Array | undefined }> {
    let chunk = this.#leftover;
    this.#leftover = undefined;
    if (!chunk) {
      if (this.#byob) {
        const { done, value } = await this.#byob.read(view);
        return { done, view: value };
      }
      const { done, value } = await this.#default!.read();
      if (done) return { done, view: view.subarray(0, 0) };
      chunk = value;
    }
    const n = Math.min(chunk.byteLength, view.byteLength);
    view.set(n === chunk.byteLength ? chunk : chunk.subarray(0, n));
    if (n < chunk.byteLength) this.#leftover = chunk.subarray(n);
    return { done: false, view: view.subarray(0, n) };
  }

  /** Puts `bytes` (not reused by the caller) back in front, to be read first, e.g. after peeking. */
  unread(bytes: Uint8Array): void {
    const rest = this.#leftover;
    if (!rest) return void (this.#leftover = bytes);
    const joined = new Uint8Array(bytes.byteLength + rest.byteLength);
    joined.set(bytes);
    joined.set(rest, bytes.byteLength);
    this.#leftover = joined;
  }

  cancel(reason: unknown): Promise<void> {
    this.#leftover = undefined;
    return (this.#byob ?? this.#default)!.cancel(reason);
  }
}
