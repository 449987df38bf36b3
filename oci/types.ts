/**
 * The interfaces every backend implements, after go-containerregistry: one way to read images
 * ({@linkcode ImageSource}) and one way to write them ({@linkcode ImageTarget}), with backends for a
 * remote registry (`client.ts`), the on-disk store (`store.ts` and the registry metadata on top), and
 * more. The copier and the satellite's sync engine only see these interfaces.
 *
 * @example
 * ```ts
 * import type { ImageSource } from "./types.ts";
 * async function manifestSize(src: ImageSource) {
 *   return (await src.getManifest("library/busybox", "latest")).bytes.byteLength;
 * }
 * ```
 * @module
 */

/** A manifest exactly as stored: its bytes, media type and digest. */
export interface ManifestBlob {
  bytes: Uint8Array;
  mediaType: string;
  digest: string;
}

/** A blob being read: a stream starting at `offset`, and the blob's total size when known. */
export interface BlobReader {
  stream: ReadableStream<Uint8Array>;
  /** Where the stream starts in the blob (0 unless a range was asked for and honoured). */
  offset: number;
  /** Total blob size in bytes, or -1 when the source did not say. */
  size: number;
}

/** Options for reading a blob. */
export interface BlobReadOptions {
  /** Start at this byte (HTTP Range); sources that cannot seek start at 0 and say so in `offset`. */
  offset?: number;
  signal?: AbortSignal;
  /**
   * The caller hashes the whole content itself before anything becomes visible (the blob store
   * does), so the source need not verify too: one sha256 pass per blob instead of two.
   */
  callerVerifies?: boolean;
}

/** Anything images can be read from. */
export interface ImageSource {
  /** Fetches a manifest by tag or digest. Verified against the digest when fetched by digest. */
  getManifest(repository: string, reference: string, signal?: AbortSignal): Promise<ManifestBlob>;
  /** Reads a blob. The caller verifies the digest over the full content. */
  getBlob(repository: string, digest: string, options?: BlobReadOptions): Promise<BlobReader>;
}

/** Anything images can be written to. Writes are verified before they become visible. */
export interface ImageTarget {
  /** True when the blob is present (for `repository`, where the backend scopes blobs per repo). */
  hasBlob(repository: string, digest: string, signal?: AbortSignal): Promise<boolean>;
  /**
   * Writes a blob from a stream of its full content; rejects (and keeps nothing) on a digest or
   * size mismatch. `mountFrom` names a repository that may already hold it (cross-repo mount).
   */
  putBlob(
    repository: string,
    descriptor: { digest: string; size: number },
    stream: ReadableStream<Uint8Array>,
    options?: { mountFrom?: string; signal?: AbortSignal },
  ): Promise<void>;
  /** True when the manifest with this digest is present in `repository`. */
  hasManifest(repository: string, digest: string, signal?: AbortSignal): Promise<boolean>;
  /** Stores a manifest under `reference` (a tag, or its digest). Referenced content must be present. */
  putManifest(
    repository: string,
    reference: string,
    manifest: ManifestBlob,
    signal?: AbortSignal,
  ): Promise<void>;
}

/**
 * A target that can continue an interrupted blob write (the on-disk store): `blobOffset` says how
 * many verified-so-far bytes are already kept, and `putBlob` with `offset` appends from there.
 */
export interface ResumableImageTarget extends ImageTarget {
  blobOffset(digest: string): Promise<number>;
  putBlobFrom(
    repository: string,
    descriptor: { digest: string; size: number },
    offset: number,
    stream: ReadableStream<Uint8Array>,
    signal?: AbortSignal,
  ): Promise<void>;
}

/** A target that can also remove content (for reconcile). */
export interface DeletableImageTarget extends ImageTarget {
  /** Removes a tag; the manifest stays until unreferenced. */
  deleteTag(repository: string, tag: string): Promise<void>;
  /** Removes a manifest by digest (and any tags pointing at it). */
  deleteManifest(repository: string, digest: string): Promise<void>;
  /** Lists tags of a repository. */
  listTags(repository: string): Promise<string[]>;
}

/**
 * True when `target` supports resumable blob writes.
 *
 * @example
 * ```ts
 * declare const t: ImageTarget;
 * if (isResumable(t)) await t.blobOffset("sha256:" + "a".repeat(64));
 * ```
 */
export function isResumable(target: ImageTarget): target is ResumableImageTarget {
  return typeof (target as Partial<ResumableImageTarget>).blobOffset === "function" &&
    typeof (target as Partial<ResumableImageTarget>).putBlobFrom === "function";
}
