/**
 * The built-in registry's content: a {@linkcode BlobStore} (blobs and manifests, shared by all
 * repositories) plus per-repository tags and manifest membership (`repo_index.ts`). It implements the
 * read and write interfaces of `../types.ts`, so the satellite's sync engine writes straight into it and
 * the HTTP server (`server.ts`) serves from it.
 *
 * Crash safety comes from ordering: blobs, then manifest bytes, are committed (verified, fsynced,
 * renamed) before the repository index that names them is atomically replaced. After a crash, the index
 * names only complete content; anything newer is unreferenced and left to {@linkcode collectGarbage}.
 * One process owns a root at a time (the satellite, or a `main.ts` server).
 *
 * @example
 * ```ts
 * import { openLocalRegistry } from "./local.ts";
 * const registry = await openLocalRegistry(await Deno.makeTempDir());
 * await registry.listRepositories(); // []
 * ```
 * @module
 */
import type { Descriptor } from "../../schemas/oci.ts";
import { parseDigest } from "../digest.ts";
import { InvalidInputError, OciError } from "../errors.ts";
import { type ParsedManifest, parseManifest } from "../manifest.ts";
import { BlobStore } from "../store.ts";
import type {
  BlobReader,
  BlobReadOptions,
  DeletableImageTarget,
  ImageSource,
  ManifestBlob,
  ResumableImageTarget,
} from "../types.ts";
import { ManifestCache } from "./manifest_cache.ts";
import { checkName, checkTag, describeManifest, type ManifestInfo } from "./manifest_info.ts";
import { KeyedMutex } from "./mutex.ts";
import {
  loadRepositoryIndexes,
  repositoryDir,
  type RepositoryIndex,
  saveRepositoryIndex,
} from "./repo_index.ts";

/** Options for {@linkcode openLocalRegistry}. */
export interface LocalRegistryOptions {
  /** Bytes of manifests kept in memory for hot tags (default 8 MiB). */
  manifestCacheBytes?: number;
}

export type { ManifestInfo };

const GC_GUARD = "gc";

/**
 * Opens the registry rooted at `root` (created when missing), loading every repository index.
 *
 * @example
 * ```ts
 * const registry = await openLocalRegistry("/var/lib/satellite/registry");
 * ```
 */
export async function openLocalRegistry(
  root: string,
  options: LocalRegistryOptions = {},
): Promise<LocalRegistry> {
  const registry = new LocalRegistry(await BlobStore.open(root), options);
  await registry.load();
  return registry;
}

/**
 * The registry: repositories of manifests and tags over a shared blob store.
 *
 * @example
 * ```ts
 * const registry = await openLocalRegistry(await Deno.makeTempDir());
 * const manifest = await registry.getManifest("library/busybox", "latest").catch(() => null);
 * ```
 */
export class LocalRegistry implements ImageSource, ResumableImageTarget, DeletableImageTarget {
  readonly store: BlobStore;
  #repos = new Map<string, RepositoryIndex>();
  #info = new Map<string, ManifestInfo>();
  #cache: ManifestCache;
  #locks = new KeyedMutex();
  /** Digests referenced by manifests written while a GC runs; the sweep never deletes these. */
  #pinned: Set<string> | null = null;

  constructor(store: BlobStore, options: LocalRegistryOptions = {}) {
    this.store = store;
    this.#cache = new ManifestCache(options.manifestCacheBytes ?? 8 * 1024 * 1024);
  }

  /** Reads the repository indexes and the manifests they name (done by `openLocalRegistry`). */
  async load(): Promise<void> {
    for await (const { name, index } of loadRepositoryIndexes(this.store.root)) {
      for (const digest of [...index.manifests.keys()]) {
        if (this.#info.has(digest)) continue;
        try {
          this.#remember(
            parseManifest(await Deno.readFile(this.store.path(digest)), { expectedDigest: digest }),
          );
        } catch {
          // Unreachable with the commit ordering; a hand-damaged root loses only this manifest.
          index.manifests.delete(digest);
          for (const [tag, d] of index.tags) if (d === digest) index.tags.delete(tag);
        }
      }
      this.#repos.set(name, index);
    }
  }

  #remember(parsed: ParsedManifest): ManifestInfo {
    const info = describeManifest(parsed);
    this.#info.set(info.digest, info);
    return info;
  }

  /** The repository, or a NAME_UNKNOWN (404) error. */
  #repo(name: string): RepositoryIndex {
    checkName(name);
    const repo = this.#repos.get(name);
    if (!repo || repo.manifests.size === 0) {
      throw new OciError("NAME_UNKNOWN", `repository ${name} is not known to this registry`, 404);
    }
    return repo;
  }

  /**
   * The digest a tag or digest reference names in `repository`, or undefined.
   *
   * @example
   * ```ts
   * registry.resolve("library/busybox", "latest"); // "sha256:..."
   * ```
   */
  resolve(repository: string, reference: string): string | undefined {
    const repo = this.#repos.get(repository);
    if (!repo) return undefined;
    if (reference.includes(":")) return repo.manifests.has(reference) ? reference : undefined;
    return repo.tags.get(reference);
  }

  /** What is known of a manifest (media type, size, subject, children), by digest. */
  manifestInfo(digest: string): ManifestInfo | undefined {
    return this.#info.get(digest);
  }

  async getManifest(repository: string, reference: string): Promise<ManifestBlob> {
    const repo = this.#repo(repository);
    const digest = reference.includes(":") ? reference : repo.tags.get(checkTag(reference));
    if (digest && reference.includes(":")) parseDigest(digest);
    const info = digest && repo.manifests.has(digest) ? this.#info.get(digest) : undefined;
    if (!info) {
      throw new OciError("MANIFEST_UNKNOWN", `manifest ${reference} is not in ${repository}`, 404);
    }
    let bytes = this.#cache.get(info.digest);
    if (!bytes) {
      bytes = await Deno.readFile(this.store.path(info.digest));
      this.#cache.set(info.digest, bytes);
    }
    return { bytes, mediaType: info.mediaType, digest: info.digest };
  }

  async getBlob(_repository: string, digest: string, options: BlobReadOptions = {}): Promise<BlobReader> {
    return await this.store.read(digest, { offset: options.offset });
  }

  async hasBlob(_repository: string, digest: string): Promise<boolean> {
    return await this.store.has(digest);
  }

  async putBlob(
    _repository: string,
    descriptor: { digest: string; size: number },
    stream: ReadableStream<Uint8Array>,
    options: { mountFrom?: string; signal?: AbortSignal } = {},
  ): Promise<void> {
    await this.store.write(descriptor.digest, descriptor.size, stream, { signal: options.signal });
    await this.touchBlob(descriptor.digest);
  }

  async blobOffset(digest: string): Promise<number> {
    return await this.store.partialOffset(digest);
  }

  async putBlobFrom(
    _repository: string,
    descriptor: { digest: string; size: number },
    offset: number,
    stream: ReadableStream<Uint8Array>,
    signal?: AbortSignal,
  ): Promise<void> {
    await this.store.write(descriptor.digest, descriptor.size, stream, { offset, signal });
    await this.touchBlob(descriptor.digest);
  }

  /** Restarts a blob's GC grace period (after a mount or a re-push of content already present). */
  async touchBlob(digest: string): Promise<void> {
    const now = new Date();
    await Deno.utime(this.store.path(digest), now, now).catch(() => {});
  }

  hasManifest(repository: string, digest: string): Promise<boolean> {
    return Promise.resolve(this.#repos.get(repository)?.manifests.has(digest) ?? false);
  }

  /**
   * Stores a manifest under a tag or its digest once every referenced blob and child manifest is
   * present (MANIFEST_BLOB_UNKNOWN otherwise). A `subject` need not exist (OCI 1.1).
   */
  async putManifest(repository: string, reference: string, manifest: ManifestBlob): Promise<void> {
    await this.putManifestParsed(repository, reference, manifest);
  }

  /** {@linkcode putManifest}, returning what was stored (the server needs digest and subject). */
  async putManifestParsed(
    repository: string,
    reference: string,
    manifest: ManifestBlob,
  ): Promise<ManifestInfo> {
    checkName(repository);
    const byDigest = reference.includes(":");
    if (byDigest && parseDigest(reference, "reference").algorithm !== "sha256") {
      throw new InvalidInputError("reference", "manifests are addressed by sha256 digests", "DIGEST_INVALID");
    }
    if (!byDigest) checkTag(reference);
    const parsed = parseManifest(manifest.bytes, {
      expectedDigest: byDigest ? reference : undefined,
      declaredType: manifest.mediaType,
    });
    // Check, store and publish under the GC guard: a sweep either ran before (and the check fails
    // cleanly) or sees this manifest in its mark phase or in the pinned set.
    return await this.#locks.run(GC_GUARD, async () => {
      const childManifests: string[] = [];
      this.#pinned?.add(parsed.digest);
      for (const child of parsed.children) {
        this.#pinned?.add(child.digest);
        if (child.urls?.length) continue; // foreign layers live elsewhere by definition
        if (parsed.isIndex && this.#info.has(child.digest)) childManifests.push(child.digest);
        else if (!await this.store.has(child.digest)) {
          throw new OciError("MANIFEST_BLOB_UNKNOWN", `manifest references unknown ${child.digest}`, 400, {
            digest: child.digest,
          });
        }
      }
      await this.store.putBytes(parsed.bytes, parsed.digest);
      const info = this.#remember(parsed);
      this.#cache.set(parsed.digest, parsed.bytes);
      await this.#updateRepo(repository, (repo) => {
        repo.manifests.set(parsed.digest, { mediaType: parsed.mediaType, size: parsed.bytes.byteLength });
        for (const child of childManifests) {
          const c = this.#info.get(child)!;
          if (!repo.manifests.has(child)) repo.manifests.set(child, { mediaType: c.mediaType, size: c.size });
        }
        if (!byDigest) repo.tags.set(reference, parsed.digest);
      });
      return info;
    });
  }

  /** Applies `change` to a copy of the repository's index, persists it, then publishes it. */
  async #updateRepo(name: string, change: (repo: RepositoryIndex) => void): Promise<void> {
    await this.#locks.run(`repo:${name}`, async () => {
      const current = this.#repos.get(name);
      const next: RepositoryIndex = {
        manifests: new Map(current?.manifests ?? []),
        tags: new Map(current?.tags ?? []),
      };
      change(next);
      await saveRepositoryIndex(this.store.root, name, next);
      if (next.manifests.size === 0) this.#repos.delete(name);
      else this.#repos.set(name, next);
    });
  }

  async deleteTag(repository: string, tag: string): Promise<void> {
    if (!this.#repo(repository).tags.has(checkTag(tag))) {
      throw new OciError("MANIFEST_UNKNOWN", `tag ${tag} is not in ${repository}`, 404);
    }
    await this.#updateRepo(repository, (repo) => repo.tags.delete(tag));
  }

  async deleteManifest(repository: string, digest: string): Promise<void> {
    parseDigest(digest);
    if (!this.#repo(repository).manifests.has(digest)) {
      throw new OciError("MANIFEST_UNKNOWN", `manifest ${digest} is not in ${repository}`, 404);
    }
    await this.#updateRepo(repository, (repo) => {
      repo.manifests.delete(digest);
      for (const [tag, d] of repo.tags) if (d === digest) repo.tags.delete(tag);
    });
  }

  /**
   * Removes a whole repository (its tags and manifest membership; blobs go at the next GC).
   *
   * @example
   * ```ts
   * await registry.deleteRepository("library/busybox");
   * ```
   */
  async deleteRepository(repository: string): Promise<void> {
    checkName(repository);
    await this.#updateRepo(repository, (repo) => {
      repo.manifests.clear();
      repo.tags.clear();
    });
  }

  listTags(repository: string): Promise<string[]> {
    checkName(repository);
    return Promise.resolve([...this.#repos.get(repository)?.tags.keys() ?? []].sort());
  }

  /**
   * Repository names that hold at least one manifest, sorted.
   *
   * @example
   * ```ts
   * await registry.listRepositories(); // ["library/busybox"]
   * ```
   */
  listRepositories(): Promise<string[]> {
    return Promise.resolve([...this.#repos.keys()].sort());
  }

  /**
   * Descriptors of the manifests in `repository` whose `subject` is `digest`, optionally only those of
   * one artifact type (OCI 1.1 referrers API).
   *
   * @example
   * ```ts
   * const signatures = registry.referrers("library/busybox", digest, "application/vnd.dev.cosign.artifact.sig.v1+json");
   * ```
   */
  referrers(repository: string, digest: string, artifactType?: string): Descriptor[] {
    checkName(repository);
    parseDigest(digest);
    const out: Descriptor[] = [];
    for (const candidate of this.#repos.get(repository)?.manifests.keys() ?? []) {
      const info = this.#info.get(candidate);
      if (!info || info.subject !== digest) continue;
      if (artifactType !== undefined && info.artifactType !== artifactType) continue;
      out.push({
        mediaType: info.mediaType,
        digest: info.digest,
        size: info.size,
        ...(info.artifactType ? { artifactType: info.artifactType } : {}),
        ...(info.annotations ? { annotations: info.annotations } : {}),
      });
    }
    return out;
  }

  /**
   * Every digest some manifest of some repository needs: the manifests and their children.
   *
   * @example
   * ```ts
   * registry.referencedDigests().has(layerDigest);
   * ```
   */
  referencedDigests(): Set<string> {
    const marked = new Set<string>();
    for (const repo of this.#repos.values()) {
      for (const digest of repo.manifests.keys()) {
        marked.add(digest);
        for (const child of this.#info.get(digest)?.children ?? []) marked.add(child);
      }
    }
    return marked;
  }

  /**
   * Deletes a blob that no manifest references (DENIED, 409, when one does; BLOB_UNKNOWN when absent).
   *
   * @example
   * ```ts
   * await registry.deleteBlob("sha256:" + "a".repeat(64)).catch(() => {});
   * ```
   */
  async deleteBlob(digest: string): Promise<void> {
    parseDigest(digest);
    await this.#locks.run(GC_GUARD, async () => {
      if (!await this.store.has(digest)) throw new OciError("BLOB_UNKNOWN", `blob ${digest} unknown`, 404);
      if (this.referencedDigests().has(digest) || this.#pinned?.has(digest)) {
        throw new OciError(
          "DENIED",
          `blob ${digest} is referenced by a manifest; delete the manifest first`,
          409,
        );
      }
      await this.store.delete(digest);
    });
  }

  /**
   * Runs `sweep` with pinning on: digests referenced by manifests pushed meanwhile are recorded, and
   * `deleteIfUnreferenced` (valid only inside) deletes a blob only if neither marked nor pinned.
   * Used by `gc.ts`.
   */
  async withGarbageCollection<T>(
    sweep: (deleteIfUnreferenced: (digest: string) => Promise<boolean>) => Promise<T>,
  ): Promise<T> {
    if (this.#pinned) throw new OciError("UNKNOWN", "a garbage collection is already running");
    // Marked once, under the guard: every later manifest push pins what it references.
    const marked = await this.#locks.run(GC_GUARD, () => {
      this.#pinned = new Set();
      return Promise.resolve(this.referencedDigests());
    });
    try {
      return await sweep((digest) =>
        this.#locks.run(GC_GUARD, async () => {
          if (this.#pinned!.has(digest) || marked.has(digest)) return false;
          await this.store.delete(digest);
          this.#cache.delete(digest);
          this.#info.delete(digest);
          return true;
        })
      );
    } finally {
      this.#pinned = null;
    }
  }

  /** Directory of a repository's metadata, for tools and tests. */
  repositoryPath(repository: string): string {
    return repositoryDir(this.store.root, checkName(repository));
  }
}
