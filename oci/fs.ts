/**
 * Small file-system helpers of the blob store: durable atomic writes, directory fsync, reading byte
 * streams into a reused buffer, and bounded file streams.
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from "./fs.ts";
 * await writeFileAtomic("/tmp/x.json", new TextEncoder().encode("{}"), "/tmp");
 * ```
 * @module
 */
import { OciError } from "./errors.ts";

const READ_CHUNK = 256 * 1024;

/**
 * Iterates a stream's chunks. Byte streams (fetch bodies, files, the client's blob streams) are
 * read with a BYOB reader into one reused 1 MiB buffer, so a 200 MB transfer allocates no per-chunk
 * garbage and RSS stays flat; other streams (Deno.serve request bodies) are read as they are. Each view is valid only until the next iteration.
 * An abort of `signal` cancels the stream and ends the iteration with the abort reason.
 *
 * @example
 * ```ts
 * for await (const chunk of readReusing(new Response("hi").body!)) console.log(chunk.byteLength);
 * ```
 */
export async function* readReusing(
  stream: ReadableStream<Uint8Array>,
  signal?: AbortSignal,
): AsyncIterable<Uint8Array> {
  let reader: ReadableStreamBYOBReader | ReadableStreamDefaultReader<Uint8Array>;
  let byob = true;
  try {
    reader = stream.getReader({ mode: "byob" });
  } catch {
    reader = stream.getReader();
    byob = false;
  }
  const onAbort = () => reader.cancel(signal?.reason).catch(() => {});
  signal?.addEventListener("abort", onAbort, { once: true });
  let buffer = new ArrayBuffer(1024 * 1024);
  try {
    for (;;) {
      const { done, value } = byob
        ? await (reader as ReadableStreamBYOBReader).read(new Uint8Array(buffer))
        : await (reader as ReadableStreamDefaultReader<Uint8Array>).read();
      signal?.throwIfAborted();
      if (done || !value) return;
      yield value;
      if (byob) buffer = value.buffer as ArrayBuffer; // the read transferred it; take it back
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    reader.releaseLock();
  }
}

export async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.byteLength) written += await file.write(bytes.subarray(written));
}

/** A stream of exactly `length` bytes from the file's current position; closes the file at the end. */
export function boundedStream(file: Deno.FsFile, length: number): ReadableStream<Uint8Array> {
  let remaining = length;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (remaining === 0) {
        file.close();
        controller.close();
        return;
      }
      const buffer = new Uint8Array(Math.min(READ_CHUNK, remaining));
      const n = await file.read(buffer);
      if (n === null) {
        file.close();
        controller.error(new OciError("UNKNOWN", `blob file ended ${remaining} bytes early`));
        return;
      }
      remaining -= n;
      controller.enqueue(n === buffer.length ? buffer : buffer.subarray(0, n));
    },
    cancel() {
      file.close();
    },
  });
}

export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

export async function removeQuietly(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

/** fsyncs the directory containing `path`, so a rename into it is durable. */
export async function syncDir(path: string): Promise<void> {
  using dir = await Deno.open(path.slice(0, path.lastIndexOf("/")), { read: true });
  await dir.sync();
}

/**
 * Writes `bytes` to `path` atomically: a temp file in `tmpDir` (same filesystem), fsync, rename,
 * fsync of the directory. Readers see the old file or the new one, never a torn one.
 *
 * @example
 * ```ts
 * await writeFileAtomic("/data/index.json", new TextEncoder().encode("{}"), "/data/ingest");
 * ```
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array, tmpDir: string): Promise<void> {
  const tmp = `${tmpDir}/tmp-${crypto.randomUUID()}`;
  try {
    {
      using file = await Deno.open(tmp, { write: true, create: true, truncate: true });
      await writeAll(file, bytes);
      await file.sync();
    }
    await Deno.rename(tmp, path);
  } catch (e) {
    await removeQuietly(tmp);
    throw e;
  }
  await syncDir(path);
}
