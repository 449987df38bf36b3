/**
 * A content-addressed blob store on disk, laid out as an OCI image layout (`blobs/<alg>/<hex>`,
 * `oci-layout`) plus `ingest/` for partial and temporary files.
 *
 * Invariants:
 * - A file under `blobs/` always hashes to its name: writes land in `ingest/`, are verified while
 *   streaming, fsynced, then renamed into place (atomic on one filesystem), and the directory is
 *   fsynced so the rename survives power loss.
 * - An interrupted download keeps its bytes in `ingest/<alg>-<hex>` (fsynced every
 *   {@linkcode SYNC_EVERY_BYTES}); its size is the resume offset. On resume the kept prefix is re-hashed
 *   (node's hash state cannot be persisted; re-reading is ~1 s per 500 MB, and it also catches a
 *   prefix damaged by power loss, which the final digest check would reject anyway).
 * - Concurrent writers of one digest share one download: in process through a single-flight map, across
 *   processes through an exclusive `flock` on the partial file.
 *
 * @example
 * ```ts
 * import { BlobStore } from "./store.ts";
 * const store = await BlobStore.open(await Deno.makeTempDir());
 * const digest = await store.putBytes(new TextEncoder().encode("{}"));
 * await store.has(digest); // true
 * ```
 * @module
 */
import { Digester, parseDigest, sha256Digest } from "./digest.ts";
import { DigestMismatchError, OciError } from "./errors.ts";
import {
  boundedStream,
  exists,
  readReusing,
  removeQuietly,
  syncDir,
  writeAll,
  writeFileAtomic,
} from "./fs.ts";
import type { BlobReader } from "./types.ts";

// Re-exported: callers imported these from the store before they moved to fs.ts.
export { readReusing, writeFileAtomic };

/** Partial downloads are fsynced after this many new bytes, bounding what a power cut can lose. */
export const SYNC_EVERY_BYTES = 8 * 1024 * 1024;

/** Options for {@linkcode BlobStore.write}. */
export interface BlobWriteOptions {
  /** Resume: the stream starts at this byte. Must not exceed the bytes kept (`partialOffset`). */
  offset?: number;
  signal?: AbortSignal;
}

/**
 * The blob store. Open one per root; several instances (even in several processes) may share a root.
 *
 * @example
 * ```ts
 * const store = await BlobStore.open("/var/lib/satellite/registry");
 * for await (const digest of store.list()) console.log(digest);
 * ```
 */
export class BlobStore {
  /** Directory holding `blobs/`, `ingest/` and `oci-layout`. */
  readonly root: string;
  #inflight = new Map<string, Promise<void>>();

  private constructor(root: string) {
    this.root = root;
  }

  /**
   * Opens (creating when needed) a store at `root`.
   *
   * @example
   * ```ts
   * const store = await BlobStore.open(await Deno.makeTempDir());
   * ```
   */
  static async open(root: string): Promise<BlobStore> {
    await Deno.mkdir(`${root}/blobs/sha256`, { recursive: true });
    await Deno.mkdir(`${root}/ingest`, { recursive: true });
    const layout = `${root}/oci-layout`;
    if (!await exists(layout)) {
      await writeFileAtomic(
        layout,
        new TextEncoder().encode('{"imageLayoutVersion":"1.0.0"}'),
        `${root}/ingest`,
      );
    }
    return new BlobStore(root);
  }

  /**
   * Where the blob lives (whether or not it is present). Throws on a malformed digest.
   *
   * @example
   * ```ts
   * store.path("sha256:" + "a".repeat(64)); // ROOT/blobs/sha256/aaa...
   * ```
   */
  path(digest: string): string {
    const { algorithm, hex } = parseDigest(digest);
    return `${this.root}/blobs/${algorithm}/${hex}`;
  }

  /** Where an interrupted download of `digest` keeps its bytes. */
  #partialPath(digest: string): string {
    const { algorithm, hex } = parseDigest(digest);
    return `${this.root}/ingest/${algorithm}-${hex}`;
  }

  /**
   * True when the blob is present (and therefore verified).
   *
   * @example
   * ```ts
   * await store.has("sha256:" + "a".repeat(64)); // false
   * ```
   */
  async has(digest: string): Promise<boolean> {
    return (await this.size(digest)) !== null;
  }

  /**
   * The blob's size, or null when absent.
   *
   * @example
   * ```ts
   * await store.size(await store.putBytes(new Uint8Array(3))); // 3
   * ```
   */
  async size(digest: string): Promise<number | null> {
    try {
      return (await Deno.stat(this.path(digest))).size;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return null;
      throw e;
    }
  }

  /**
   * Opens a blob for reading from `offset` up to `end` (exclusive; default: the whole blob).
   * Throws BLOB_UNKNOWN (404) when absent and RANGE_INVALID (416) for a range outside the blob.
   *
   * @example
   * ```ts
   * const reader = await store.read(digest, { offset: 10 });
   * await new Response(reader.stream).arrayBuffer();
   * ```
   */
  async read(digest: string, options: { offset?: number; end?: number } = {}): Promise<BlobReader> {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(this.path(digest), { read: true });
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new OciError("BLOB_UNKNOWN", `blob ${digest} unknown`, 404);
      }
      throw e;
    }
    try {
      const size = (await file.stat()).size;
      const offset = options.offset ?? 0;
      const end = options.end ?? size;
      if (offset < 0 || end > size || offset > end) {
        throw new OciError("RANGE_INVALID", `range ${offset}-${end} is outside blob of ${size} bytes`, 416);
      }
      if (offset > 0) await file.seek(offset, Deno.SeekMode.Start);
      // The file's own readable is resource-backed, so Deno's HTTP server can send it without
      // copying chunks through JS; only a bounded range needs a JS-side stream.
      const stream = end === size ? file.readable : boundedStream(file, end - offset);
      return { stream, offset, size };
    } catch (e) {
      file.close();
      throw e;
    }
  }

  /**
   * Bytes of an interrupted download of `digest` kept on disk (0 when none).
   *
   * @example
   * ```ts
   * const offset = await store.partialOffset(digest); // then fetch with Range: bytes=offset-
   * ```
   */
  async partialOffset(digest: string): Promise<number> {
    try {
      return (await Deno.stat(this.#partialPath(digest))).size;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return 0;
      throw e;
    }
  }

  /**
   * Writes a blob of `size` bytes from `stream` (which starts at `options.offset` when resuming) and
   * makes it visible only once it hashes to `digest`. A digest or size mismatch deletes the partial
   * and throws {@linkcode DigestMismatchError}; a failing or aborted stream keeps the partial for a
   * later resume and rethrows. Present blobs are not rewritten (the stream is cancelled).
   *
   * @example
   * ```ts
   * const bytes = new TextEncoder().encode("hello");
   * await store.write(sha256Digest(bytes), bytes.length, new Blob([bytes]).stream());
   * ```
   */
  async write(
    digest: string,
    size: number,
    stream: ReadableStream<Uint8Array>,
    options: BlobWriteOptions = {},
  ): Promise<void> {
    parseDigest(digest);
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new OciError("SIZE_INVALID", `blob size ${size} is not a non-negative integer`, 400);
    }
    // Single flight: a second writer waits for the first and only uses its own stream if that failed.
    for (let inflight = this.#inflight.get(digest); inflight; inflight = this.#inflight.get(digest)) {
      try {
        await inflight;
      } catch { /* the first writer failed: fall through and try with our stream */ }
    }
    // Registered synchronously after the map check, so no second writer can slip in between.
    const task = this.#writeLocked(digest, size, stream, options);
    this.#inflight.set(digest, task);
    try {
      await task;
    } finally {
      if (this.#inflight.get(digest) === task) this.#inflight.delete(digest);
    }
  }

  async #writeLocked(
    digest: string,
    size: number,
    stream: ReadableStream<Uint8Array>,
    options: BlobWriteOptions,
  ): Promise<void> {
    if (await this.has(digest)) {
      await stream.cancel().catch(() => {});
      return;
    }
    const partialPath = this.#partialPath(digest);
    const file = await openLockedPartial(partialPath, this.path(digest));
    if (!file) {
      await stream.cancel().catch(() => {}); // another process committed it while we waited
      return;
    }
    let verified = false;
    try {
      const offset = options.offset ?? 0;
      const kept = (await file.stat()).size;
      if (offset > kept || offset > size || offset < 0) {
        throw new OciError("RANGE_INVALID", `cannot resume ${digest} at ${offset}: ${kept} bytes kept`, 416);
      }
      if (offset < kept) await file.truncate(offset);
      const digester = new Digester(digest);
      await hashPrefix(file, offset, digester);
      await file.seek(offset, Deno.SeekMode.Start);
      let unsynced = 0;
      options.signal?.throwIfAborted();
      for await (const value of readReusing(stream, options.signal)) {
        if (digester.bytes + value.byteLength > size) {
          await removeQuietly(partialPath);
          throw new DigestMismatchError(digest, `more than the declared ${size} bytes`);
        }
        digester.update(value);
        await writeAll(file, value);
        unsynced += value.byteLength;
        if (unsynced >= SYNC_EVERY_BYTES) {
          await file.syncData();
          unsynced = 0;
        }
      }
      options.signal?.throwIfAborted();
      if (digester.bytes < size) {
        throw new OciError("BLOB_UPLOAD_INVALID", `stream ended after ${digester.bytes} of ${size} bytes`);
      }
      const actual = digester.digest();
      if (actual !== digest) {
        await removeQuietly(partialPath);
        throw new DigestMismatchError(digest, actual);
      }
      await file.sync();
      await Deno.rename(partialPath, this.path(digest));
      verified = true;
      await syncDir(this.path(digest));
    } catch (e) {
      // Keep what was received for a resume, durably; mismatches already removed the partial.
      if (!verified && !(e instanceof DigestMismatchError)) await file.syncData().catch(() => {});
      throw e;
    } finally {
      file.close(); // also releases the lock
    }
  }

  /**
   * Stores `bytes` (a manifest, a config) and returns its sha256 digest; with `expectedDigest`,
   * refuses bytes that do not match it.
   *
   * @example
   * ```ts
   * const digest = await store.putBytes(new TextEncoder().encode("{}"));
   * ```
   */
  async putBytes(bytes: Uint8Array, expectedDigest?: string): Promise<string> {
    const digest = expectedDigest && expectedDigest.startsWith("sha512:")
      ? digestWithAlgorithmOf(bytes, expectedDigest)
      : sha256Digest(bytes);
    if (expectedDigest !== undefined && digest !== expectedDigest) {
      throw new DigestMismatchError(expectedDigest, digest);
    }
    if (!await this.has(digest)) await writeFileAtomic(this.path(digest), bytes, `${this.root}/ingest`);
    return digest;
  }

  /**
   * Moves a file (e.g. a finished registry upload in `ingest/`) into place as `digest`, so nothing
   * unverified becomes visible: the file is re-hashed, unless `hashed` says the caller computed the
   * digest over exactly these bytes while writing them (then it must equal `digest`).
   *
   * @example
   * ```ts
   * await store.commitFile(`${store.root}/ingest/upload-123`, digest);
   * ```
   */
  async commitFile(path: string, digest: string, options: { hashed?: string } = {}): Promise<void> {
    using file = await Deno.open(path, { read: true, write: true });
    let actual = options.hashed;
    if (actual === undefined) {
      const digester = new Digester(digest);
      await hashPrefix(file, (await file.stat()).size, digester);
      actual = digester.digest();
    }
    if (actual !== digest) throw new DigestMismatchError(digest, actual);
    await file.sync();
    await Deno.rename(path, this.path(digest));
    await syncDir(this.path(digest));
  }

  /**
   * Removes a blob (no error when absent). Callers ensure nothing references it (see GC).
   *
   * @example
   * ```ts
   * await store.delete(digest);
   * ```
   */
  async delete(digest: string): Promise<void> {
    await removeQuietly(this.path(digest));
  }

  /**
   * Every present blob's digest.
   *
   * @example
   * ```ts
   * for await (const digest of store.list()) console.log(digest);
   * ```
   */
  async *list(): AsyncIterable<string> {
    for (const algorithm of ["sha256", "sha512"]) {
      try {
        for await (const entry of Deno.readDir(`${this.root}/blobs/${algorithm}`)) {
          const digest = `${algorithm}:${entry.name}`;
          if (entry.isFile && isDigestName(digest)) yield digest;
        }
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    }
  }
}

function isDigestName(digest: string): boolean {
  try {
    parseDigest(digest);
    return true;
  } catch {
    return false;
  }
}

/**
 * Opens and exclusively locks the partial file of a digest. Returns null when the blob got committed
 * while waiting. Re-opens when the path no longer names the locked inode (the holder renamed or
 * deleted it), so a waiter never writes into a committed blob.
 */
async function openLockedPartial(partialPath: string, blobPath: string): Promise<Deno.FsFile | null> {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const file = await Deno.open(partialPath, { read: true, write: true, create: true });
    try {
      await file.lock(true);
      if (await exists(blobPath)) {
        file.close();
        return null;
      }
      const [held, named] = await Promise.all([file.stat(), Deno.stat(partialPath).catch(() => null)]);
      if (named && named.ino === held.ino) return file;
    } catch (e) {
      file.close();
      throw e;
    }
    file.close();
  }
  throw new OciError("UNKNOWN", `could not lock ${partialPath}: it keeps being replaced`);
}

/** Feeds the first `length` bytes of `file` to `digester`. */
async function hashPrefix(file: Deno.FsFile, length: number, digester: Digester): Promise<void> {
  if (length === 0) return;
  await file.seek(0, Deno.SeekMode.Start);
  const buffer = new Uint8Array(1024 * 1024);
  let remaining = length;
  while (remaining > 0) {
    const n = await file.read(buffer.subarray(0, Math.min(buffer.length, remaining)));
    if (n === null) throw new OciError("UNKNOWN", `file shrank while hashing (${remaining} bytes short)`);
    digester.update(buffer.subarray(0, n));
    remaining -= n;
  }
}

function digestWithAlgorithmOf(bytes: Uint8Array, like: string): string {
  const digester = new Digester(like);
  digester.update(bytes);
  return digester.digest();
}
