/**
 * A byte-bounded LRU of manifest bytes by digest, so hot tags are served without touching the disk.
 * Manifests are immutable per digest, so entries never go stale; only deletion evicts them early.
 *
 * @example
 * ```ts
 * import { ManifestCache } from "./manifest_cache.ts";
 * const cache = new ManifestCache(1024);
 * cache.set("sha256:" + "a".repeat(64), new Uint8Array(10));
 * ```
 * @module
 */

/**
 * Least-recently-used cache bounded by total bytes (a Map keeps insertion order; a hit re-inserts).
 *
 * @example
 * ```ts
 * const cache = new ManifestCache(8 * 1024 * 1024);
 * cache.get("sha256:" + "a".repeat(64)); // undefined
 * ```
 */
export class ManifestCache {
  readonly maxBytes: number;
  #entries = new Map<string, Uint8Array>();
  #bytes = 0;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  /** The cached bytes, marking them recently used. */
  get(digest: string): Uint8Array | undefined {
    const bytes = this.#entries.get(digest);
    if (bytes) {
      this.#entries.delete(digest);
      this.#entries.set(digest, bytes);
    }
    return bytes;
  }

  /** Caches bytes, evicting the least recently used entries beyond the byte bound. */
  set(digest: string, bytes: Uint8Array): void {
    if (bytes.byteLength > this.maxBytes) return;
    this.delete(digest);
    this.#entries.set(digest, bytes);
    this.#bytes += bytes.byteLength;
    for (const [oldest, old] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= old.byteLength;
    }
  }

  /** Drops an entry. */
  delete(digest: string): void {
    const bytes = this.#entries.get(digest);
    if (!bytes) return;
    this.#entries.delete(digest);
    this.#bytes -= bytes.byteLength;
  }

  /** Bytes currently cached. */
  get bytes(): number {
    return this.#bytes;
  }
}
