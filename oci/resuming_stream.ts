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
  let reader = first.getReader();
  let position = start;
  let resumes = 0;
  let skip = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      // Bounded: every pass enqueues, closes, errors, or spends one of `maxResumes`.
      while (true) {
        let result: ReadableStreamReadResult<Uint8Array>;
        try {
          result = await reader.read();
        } catch (e) {
          if (!(e instanceof TransportError) || resumes >= maxResumes || signal?.aborted) {
            controller.error(e);
            return;
          }
          resumes++;
          try {
            const next = await reopen(position);
            if (next.offset > position) {
              await next.stream.cancel().catch(() => {});
              throw new OciError(
                "RANGE_INVALID",
                `resumed blob read started at ${next.offset}, wanted ${position}`,
              );
            }
            skip = position - next.offset;
            reader = next.stream.getReader();
          } catch (reopenError) {
            controller.error(reopenError);
            return;
          }
          continue;
        }
        if (result.done) {
          controller.close();
          return;
        }
        let chunk = result.value;
        if (skip > 0) {
          const dropped = Math.min(skip, chunk.byteLength);
          skip -= dropped;
          chunk = chunk.subarray(dropped);
          if (chunk.byteLength === 0) continue;
        }
        position += chunk.byteLength;
        controller.enqueue(chunk);
        return;
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}
