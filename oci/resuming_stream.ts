/**
 * A blob body that survives a dropped connection: when reading fails with a retryable transport
 * error, it re-requests the rest with HTTP Range from the byte it reached and carries on, so a cut
 * at 90% costs the missing 10%, not the whole blob. Consumers see one continuous stream (and a
 * digest verifier on top of it sees every byte exactly once).
 *
 * @example
 * ```ts
 * import { resumingStream } from "./resuming_stream.ts";
 * declare const first: ReadableStream<Uint8Array>;
 * declare function reopen(at: number): Promise<{ offset: number; stream: ReadableStream<Uint8Array> }>;
 * const body = resumingStream(first, 0, reopen, 3);
 * ```
 * @module
 */
import { byteStream } from "./byte_stream.ts";
import { OciError, TransportError } from "./errors.ts";

/** Re-opens the blob at `position`; returns where the new stream really starts (0 if Range was ignored). */
export type Reopen = (position: number) => Promise<{ offset: number; stream: ReadableStream<Uint8Array> }>;

/**
 * Joins `first` (starting at `start`) with re-opened continuations, at most `maxResumes` of them.
 * A continuation that starts before the position reached (a server ignoring Range) has its
 * duplicate prefix skipped; one that starts after it is an error.
 *
 * @example
 * ```ts
 * const body = resumingStream(new Response("abc").body!, 0, () => Promise.reject(new Error("no")), 0);
 * await new Response(body).text(); // "abc"
 * ```
 */
export function resumingStream(
  first: ReadableStream<Uint8Array>,
  start: number,
  reopen: Reopen,
  maxResumes: number,
  signal?: AbortSignal,
): ReadableStream<Uint8Array> {
  let position = start;
  let resumes = 0;
  // A byte stream hop, so a BYOB consumer's buffer reaches the body (and each continuation's).
  return byteStream(first, {
    onData(view) {
      position += view.byteLength;
    },
    async onError(e) {
      if (!(e instanceof TransportError) || resumes >= maxResumes || signal?.aborted) throw e;
      resumes++;
      const next = await reopen(position);
      if (next.offset > position) {
        await next.stream.cancel().catch(() => {});
        throw new OciError(
          "RANGE_INVALID",
          `resumed blob read started at ${next.offset}, wanted ${position}`,
        );
      }
      return next.offset < position ? dropPrefix(next.stream, position - next.offset) : next.stream;
    },
  });
}

/** `stream` without its first `count` bytes (a server that ignored Range resends them; rare, so not BYOB). */
function dropPrefix(stream: ReadableStream<Uint8Array>, count: number): ReadableStream<Uint8Array> {
  let skip = count;
  return stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        const dropped = Math.min(skip, chunk.byteLength);
        skip -= dropped;
        if (dropped < chunk.byteLength) controller.enqueue(chunk.subarray(dropped));
      },
    }),
  );
}
