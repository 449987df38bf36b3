/**
 * Copies an image (a manifest, or an index with all its children) from any
 * {@linkcode ImageSource} to any {@linkcode ImageTarget}, bit for bit: manifest bytes are never
 * re-serialised, so digests are preserved. Content the target already has is skipped; children
 * are committed before their parents, and tags are set last, so a tag never points at something
 * incomplete. Blobs shared between images travel once (see {@linkcode BlobFlights}); targets that
 * can resume (the on-disk store) continue interrupted blobs with HTTP Range.
 *
 * @example
 * ```ts
 * import { RegistryClient } from "./client.ts";
 * import { copyImage } from "./copy.ts";
 * const source = new RegistryClient({ baseUrl: "http://127.0.0.1:5000" });
 * const target = new RegistryClient({ baseUrl: "http://127.0.0.1:5001" });
 * const summary = await copyImage(source, target, { repository: "library/busybox", reference: "latest" });
 * console.log(summary.bytesTransferred);
 * ```
 * @module
 */
import type { Descriptor } from "../schemas/oci.ts";
import { BlobFlights, Semaphore } from "./blob_flights.ts";
import { byteStream } from "./byte_stream.ts";
import { DigestMismatchError, TransportError } from "./errors.ts";
import { checkReference, checkRepository, checkTag } from "./input.ts";
import { type ParsedManifest, parseManifest } from "./manifest.ts";
import { type ImageSource, type ImageTarget, isResumable } from "./types.ts";

export { BlobFlights } from "./blob_flights.ts";

/** A platform wanted from an index: `os/architecture[/variant]`, e.g. `linux/arm64/v8`. */
export type PlatformSelector = string;

/** What happened, for progress displays and logs. */
export type CopyProgress =
  | { type: "blob"; digest: string; size: number; state: "copied" | "mounted" | "skipped" }
  | { type: "bytes"; digest: string; bytes: number; size: number }
  | { type: "manifest"; digest: string; state: "copied" | "skipped" }
  | { type: "tag"; tag: string; digest: string };

/** Options of {@linkcode copyImage}. */
export interface CopyOptions {
  /** Source repository. */
  repository: string;
  /** A digest (preferred: immutable) or a tag in the source repository. */
  reference: string;
  /** Target repository; default: the same name. */
  targetRepository?: string;
  /** Tags to set at the target once everything is committed; default: `reference` when it is a tag. */
  tags?: string[];
  /**
   * For indexes: fetch only the children of these platforms. The index itself is kept whole (same
   * bytes, same digest), and the manifests of the other platforms are stored as plain blobs so
   * the index stays valid for a store; pulling a filtered-out platform from the target then fails
   * (its config and layers are absent). Registries that verify index children (distribution)
   * refuse such a partial index with MANIFEST_BLOB_UNKNOWN.
   */
  platforms?: PlatformSelector[];
  /** Blob transfers at once. Default 4. */
  concurrency?: number;
  onProgress?: (event: CopyProgress) => void;
  signal?: AbortSignal;
  /** Share between concurrent calls so shared blobs travel once and get mounted elsewhere. */
  flights?: BlobFlights;
  /** Whole-blob retries after a failed transfer (resumable targets continue from what they kept). Default 3. */
  retries?: number;
}

/** What a copy did. */
export interface CopySummary {
  /** Digest and media type of the copied root manifest. */
  digest: string;
  mediaType: string;
  /** Blob bytes read from the source by this call. */
  bytesTransferred: number;
  blobsCopied: number;
  blobsMounted: number;
  blobsSkipped: number;
  manifestsCopied: number;
  manifestsSkipped: number;
  tagsSet: number;
}

/** Progress events for bytes are sent at most once per this many bytes of a blob. */
const PROGRESS_STEP = 1024 * 1024;

/**
 * Copies `options.reference` of `options.repository` from `source` to `target`.
 *
 * @example
 * ```ts
 * declare const source: ImageSource;
 * declare const target: ImageTarget;
 * await copyImage(source, target, {
 *   repository: "library/nginx",
 *   reference: "sha256:" + "a".repeat(64),
 *   tags: ["1.25"],
 *   platforms: ["linux/arm64"],
 * });
 * ```
 */
export async function copyImage(
  source: ImageSource,
  target: ImageTarget,
  options: CopyOptions,
): Promise<CopySummary> {
  const kind = checkReference(options.repository, options.reference);
  const targetRepository = options.targetRepository ?? options.repository;
  checkRepository(targetRepository, "targetRepository");
  const tags = options.tags ?? (kind === "tag" ? [options.reference] : []);
  tags.forEach((tag) => checkTag(tag));
  options.signal?.throwIfAborted();
  const copier = new Copier(source, target, options, targetRepository);
  const root = await copier.fetchManifest(options.reference);
  await copier.copyManifest(root);
  for (const tag of tags) {
    options.signal?.throwIfAborted();
    await target.putManifest(targetRepository, tag, root, options.signal);
    copier.summary.tagsSet++;
    options.onProgress?.({ type: "tag", tag, digest: root.digest });
  }
  return { ...copier.summary, digest: root.digest, mediaType: root.mediaType };
}

/** One copy call's state. */
class Copier {
  readonly summary = {
    bytesTransferred: 0,
    blobsCopied: 0,
    blobsMounted: 0,
    blobsSkipped: 0,
    manifestsCopied: 0,
    manifestsSkipped: 0,
    tagsSet: 0,
  };
  readonly #limit: Semaphore;
  readonly #flights: BlobFlights;
  readonly #retries: number;

  constructor(
    readonly source: ImageSource,
    readonly target: ImageTarget,
    readonly options: CopyOptions,
    readonly targetRepository: string,
  ) {
    this.#limit = new Semaphore(options.concurrency ?? 4);
    this.#flights = options.flights ?? new BlobFlights();
    this.#retries = Math.max(0, Math.min(options.retries ?? 3, 10));
  }

  /** Fetches and parses a manifest; by digest it must hash to it, whatever the source does. */
  async fetchManifest(reference: string, declaredType?: string): Promise<ParsedManifest> {
    const blob = await this.source.getManifest(this.options.repository, reference, this.options.signal);
    const byDigest = reference.includes(":");
    return parseManifest(blob.bytes, {
      expectedDigest: byDigest ? reference : undefined,
      declaredType: blob.mediaType ?? declaredType,
    });
  }

  /** Copies a manifest's children, then the manifest itself (by digest). */
  async copyManifest(manifest: ParsedManifest): Promise<void> {
    const { signal } = this.options;
    const present = await this.target.hasManifest(this.targetRepository, manifest.digest, signal);
    // An image manifest present at the target implies its blobs are (targets refuse it otherwise).
    // An index is still walked: an earlier platform-filtered copy may have left children out.
    if (present && !manifest.isIndex) {
      this.#skipManifest(manifest.digest);
      return;
    }
    if (manifest.isIndex) {
      await Promise.all(manifest.children.map(async (child) => {
        if (!this.#wanted(child)) return await this.#storeManifestBytesOnly(child);
        if (await this.target.hasManifest(this.targetRepository, child.digest, signal)) {
          return this.#skipManifest(child.digest);
        }
        await this.copyManifest(await this.fetchManifest(child.digest, child.mediaType));
      }));
    } else {
      await Promise.all(manifest.children.map((blob) => this.#copyBlob(blob)));
    }
    if (present) return this.#skipManifest(manifest.digest);
    signal?.throwIfAborted();
    await this.target.putManifest(this.targetRepository, manifest.digest, manifest, signal);
    this.summary.manifestsCopied++;
    this.options.onProgress?.({ type: "manifest", digest: manifest.digest, state: "copied" });
  }

  #skipManifest(digest: string): void {
    this.summary.manifestsSkipped++;
    this.options.onProgress?.({ type: "manifest", digest, state: "skipped" });
  }

  #wanted(child: Descriptor): boolean {
    const platforms = this.options.platforms;
    if (!platforms || platforms.length === 0) return true;
    const p = child.platform;
    if (!p) return false;
    return platforms.some((selector) => {
      const [os, architecture, variant] = selector.split("/");
      return p.os === os && p.architecture === architecture && (!variant || p.variant === variant);
    });
  }

  /** A filtered-out child: its manifest bytes only, as a blob, so the index stays complete. */
  async #storeManifestBytesOnly(child: Descriptor): Promise<void> {
    if (await this.target.hasBlob(this.targetRepository, child.digest, this.options.signal)) return;
    const manifest = await this.fetchManifest(child.digest, child.mediaType);
    const stream = new Blob([manifest.bytes as BlobPart]).stream();
    await this.target.putBlob(
      this.targetRepository,
      { digest: child.digest, size: manifest.bytes.byteLength },
      stream,
      { signal: this.options.signal },
    );
  }

  /** One blob, once per target: waits for a flight in progress, skips what is there, else transfers. */
  async #copyBlob(blob: Descriptor): Promise<void> {
    const { signal, onProgress } = this.options;
    if (blob.urls?.length) return; // foreign layers are fetched from their URLs, not copied
    // Bounded: a round either returns or waits for another caller's flight to settle.
    for (let round = 0; round < 16; round++) {
      const pending = this.#flights.pending(this.target, blob.digest);
      if (pending) await pending.catch(() => {});
      if (await this.target.hasBlob(this.targetRepository, blob.digest, signal)) {
        this.summary.blobsSkipped++;
        onProgress?.({ type: "blob", digest: blob.digest, size: blob.size, state: "skipped" });
        return;
      }
      if (this.#flights.pending(this.target, blob.digest)) continue; // someone started meanwhile
      const mountFrom = this.#flights.holder(this.target, blob.digest);
      const transfer = this.#limit.run(() => this.#transfer(blob, mountFrom));
      await this.#flights.start(this.target, blob.digest, transfer.then(() => {}));
      this.#flights.remember(this.target, blob.digest, this.targetRepository);
      const mounted = await transfer;
      if (mounted) this.summary.blobsMounted++;
      else this.summary.blobsCopied++;
      onProgress?.({
        type: "blob",
        digest: blob.digest,
        size: blob.size,
        state: mounted ? "mounted" : "copied",
      });
      return;
    }
    throw new TransportError(`copying ${blob.digest}`, new Error("other transfers kept failing"));
  }

  /** Moves the bytes, retrying failed transfers; returns true when it was a mount (no bytes moved). */
  async #transfer(blob: Descriptor, mountFrom: string | undefined): Promise<boolean> {
    const { signal } = this.options;
    const descriptor = { digest: blob.digest, size: blob.size };
    for (let attempt = 0;; attempt++) {
      let opened = false;
      try {
        if (isResumable(this.target)) {
          const kept = await this.target.blobOffset(blob.digest);
          const reader = await this.source.getBlob(this.options.repository, blob.digest, {
            offset: kept >= blob.size ? 0 : kept,
            signal,
            // The store hashes the kept prefix plus the rest and commits only on a match.
            callerVerifies: true,
          });
          opened = true;
          const stream = this.#counted(reader.stream, blob, reader.offset);
          await this.target.putBlobFrom(this.targetRepository, descriptor, reader.offset, stream, signal);
          return false;
        }
        // Lazy: when the mount succeeds the source is never asked for the bytes.
        const stream = this.#counted(
          async () => {
            opened = true;
            return (await this.source.getBlob(this.options.repository, blob.digest, { signal })).stream;
          },
          blob,
          0,
        );
        await this.target.putBlob(this.targetRepository, descriptor, stream, { mountFrom, signal });
        return !opened;
      } catch (e) {
        const retryable = !(e instanceof DigestMismatchError) && !signal?.aborted &&
          (e instanceof TransportError || (e instanceof Error && e.name === "TypeError"));
        if (!retryable || attempt >= this.#retries) throw e;
        mountFrom = undefined;
      }
    }
  }

  /**
   * Counts bytes read from the source (a stream, or a function opening it on the first read) into
   * the summary and progress events; a byte stream hop, so the target's BYOB reads reach the source.
   */
  #counted(
    source: ReadableStream<Uint8Array> | (() => Promise<ReadableStream<Uint8Array>>),
    blob: Descriptor,
    start: number,
  ): ReadableStream<Uint8Array> {
    const { onProgress } = this.options;
    let position = start;
    let reported = start;
    return byteStream(source, {
      onData: (view) => {
        position += view.byteLength;
        this.summary.bytesTransferred += view.byteLength;
        if (onProgress && position - reported >= PROGRESS_STEP) {
          reported = position;
          onProgress({ type: "bytes", digest: blob.digest, bytes: position, size: blob.size });
        }
      },
    });
  }
}
