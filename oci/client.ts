/**
 * A client for OCI distribution-spec registries (Harbor, distribution, Zot, the project's own):
 * manifests, blobs, tags, catalog, referrers and deletes, with auth, retries, timeouts and
 * on-the-fly digest verification. It is both an {@linkcode ImageSource} and a
 * {@linkcode DeletableImageTarget}, so the copier and the sync engine can use it either way round.
 *
 * @example
 * ```ts
 * import { RegistryClient } from "./client.ts";
 * const client = new RegistryClient({ baseUrl: "http://127.0.0.1:5000" });
 * const manifest = await client.getManifest("library/busybox", "latest");
 * console.log(manifest.digest, manifest.mediaType);
 * ```
 * @module
 */
import { Catalog, ImageIndex, TagList } from "../schemas/oci.ts";
import { parseJsonOrThrow } from "../schemas/validate.ts";
import { Digester, parseDigest, sha256Digest, verifyStream } from "./digest.ts";
import {
  DigestMismatchError,
  InvalidInputError,
  ManifestTooLargeError,
  MAX_MANIFEST_BYTES,
  OciError,
} from "./errors.ts";
import { expectStatus, readBody, RegistryHttp, type RegistryHttpOptions } from "./http.ts";
import { checkReference, checkRepository, checkTag, isValidDigest } from "./input.ts";
import { fetchPages } from "./pagination.ts";
import { type ParsedManifest, parseManifest } from "./manifest.ts";
import { MANIFEST_ACCEPT, OCI_INDEX } from "./media_types.ts";
import { resumingStream } from "./resuming_stream.ts";
import type {
  BlobReader,
  BlobReadOptions,
  DeletableImageTarget,
  ImageSource,
  ManifestBlob,
} from "./types.ts";
import { uploadBlob, type UploadOutcome } from "./upload.ts";

/** Options of {@linkcode RegistryClient}: the HTTP layer's, plus how uploads are split. */
export interface RegistryClientOptions extends RegistryHttpOptions {
  /** Blobs above this size (or of unknown size) are uploaded in chunks. Default 16 MiB. */
  chunkedAbove?: number;
  /** PATCH size of chunked uploads. Default 16 MiB. */
  chunkSize?: number;
}

/**
 * A registry client. All names and digests are validated before any request is made.
 *
 * @example
 * ```ts
 * const client = new RegistryClient({ baseUrl: "http://127.0.0.1:5000", credentials: { username: "u", password: "p" } });
 * await client.ping();
 * const tags = await client.listTags("demo/app");
 * ```
 */
export class RegistryClient implements ImageSource, DeletableImageTarget {
  /** `host[:port]` of the registry. */
  readonly host: string;
  /** The HTTP layer (its `auth.tokenRequests` counts token fetches). */
  readonly http: RegistryHttp;
  /** How blob uploads went so far: mounted, monolithic or chunked (observability). */
  readonly uploads: Record<UploadOutcome, number> = { mounted: 0, monolithic: 0, chunked: 0 };
  readonly #options: RegistryClientOptions;

  constructor(options: RegistryClientOptions) {
    const base = new URL(options.baseUrl);
    if (base.protocol !== "http:" && base.protocol !== "https:") {
      throw new InvalidInputError("baseUrl", `"${options.baseUrl}" must be an http(s) URL`, "UNKNOWN");
    }
    this.host = base.host;
    this.#options = options;
    this.http = new RegistryHttp(options);
  }

  /** Checks that the registry speaks the v2 API and accepts our credentials. */
  async ping(): Promise<void> {
    const res = await this.http.request({ method: "GET", url: "/v2/", scopes: [] });
    await expectStatus(res, `GET ${this.#url("/v2/")}`, [200]);
    await res.body?.cancel();
  }

  /** Digest, media type and size of a manifest, or null when it does not exist. */
  async headManifest(
    repository: string,
    reference: string,
    signal?: AbortSignal,
  ): Promise<{ digest: string; mediaType: string; size: number } | null> {
    const isDigest = checkReference(repository, reference) === "digest";
    const path = `/v2/${repository}/manifests/${reference}`;
    const res = await this.http.request({
      method: "HEAD",
      url: path,
      scopes: pull(repository),
      headers: { accept: MANIFEST_ACCEPT.join(", ") },
      signal,
    });
    if (res.status === 404) return null;
    await expectStatus(res, `HEAD ${this.#url(path)}`, [200], "MANIFEST_UNKNOWN");
    const header = res.headers.get("docker-content-digest");
    const mediaType = res.headers.get("content-type")?.split(";")[0].trim();
    const size = Number(res.headers.get("content-length") ?? NaN);
    if (header && isDigest && header !== reference) throw new DigestMismatchError(reference, header);
    const digest = isDigest ? reference : header && isValidDigest(header) ? header : undefined;
    if (digest && mediaType && Number.isFinite(size)) return { digest, mediaType, size };
    // The registry did not say enough: fetch the manifest, which is verified and complete.
    const manifest = await this.getManifest(repository, reference, signal);
    return { digest: manifest.digest, mediaType: manifest.mediaType, size: manifest.bytes.byteLength };
  }

  /**
   * Fetches and validates a manifest (any OCI or Docker v2 type). Fetched by digest, the bytes must
   * hash to it; by tag, they must match the registry's `Docker-Content-Digest`. Over 4 MiB is refused.
   */
  async getManifest(repository: string, reference: string, signal?: AbortSignal): Promise<ParsedManifest> {
    const isDigest = checkReference(repository, reference) === "digest";
    const path = `/v2/${repository}/manifests/${reference}`;
    const what = `GET ${this.#url(path)}`;
    const res = await this.http.request({
      method: "GET",
      url: path,
      scopes: pull(repository),
      headers: { accept: MANIFEST_ACCEPT.join(", ") },
      signal,
    });
    await expectStatus(res, what, [200], "MANIFEST_UNKNOWN");
    const declared = Number(res.headers.get("content-length") ?? -1);
    if (declared > MAX_MANIFEST_BYTES) {
      await res.body?.cancel();
      throw new ManifestTooLargeError(declared);
    }
    const bytes = await readBody(res, MAX_MANIFEST_BYTES, (n) => new ManifestTooLargeError(n));
    if (isDigest && !reference.startsWith("sha256:")) {
      const digester = new Digester(reference);
      digester.update(bytes);
      const actual = digester.digest();
      if (actual !== reference) throw new DigestMismatchError(reference, actual);
    }
    // Integrity before parsing: by tag, the registry's own digest header is what we check against.
    const served = res.headers.get("docker-content-digest");
    if (!isDigest && served?.startsWith("sha256:")) {
      const actual = sha256Digest(bytes);
      if (served !== actual) throw new DigestMismatchError(served, actual);
    }
    const parsed = parseManifest(bytes, {
      expectedDigest: isDigest ? reference : undefined,
      declaredType: res.headers.get("content-type") ?? undefined,
    });
    return isDigest ? { ...parsed, digest: reference } : parsed;
  }

  /** Stores a manifest under a tag or its digest. Its bytes are sent unchanged. */
  async putManifest(
    repository: string,
    reference: string,
    manifest: ManifestBlob,
    signal?: AbortSignal,
  ): Promise<void> {
    const kind = checkReference(repository, reference);
    if (manifest.bytes.byteLength > MAX_MANIFEST_BYTES) {
      throw new ManifestTooLargeError(manifest.bytes.byteLength);
    }
    const actual = sha256Digest(manifest.bytes);
    for (const claimed of [manifest.digest, kind === "digest" ? reference : undefined]) {
      if (claimed?.startsWith("sha256:") && claimed !== actual) {
        throw new DigestMismatchError(claimed, actual);
      }
    }
    const path = `/v2/${repository}/manifests/${reference}`;
    const res = await this.http.request({
      method: "PUT",
      url: path,
      scopes: push(repository),
      headers: { "content-type": manifest.mediaType },
      body: manifest.bytes,
      signal,
    });
    await expectStatus(res, `PUT ${this.#url(path)}`, [200, 201, 202], "NAME_UNKNOWN");
    await res.body?.cancel();
  }

  /** Deletes a manifest by digest. Idempotent: a manifest that is already gone is not an error. */
  async deleteManifest(repository: string, digest: string): Promise<void> {
    checkRepository(repository);
    parseDigest(digest);
    await this.#delete(repository, digest);
  }

  /**
   * Deletes a tag (distribution-spec 1.1 `DELETE /manifests/<tag>`), keeping the manifest.
   * Registries without tag deletion (distribution 2.8) make this throw an `UNSUPPORTED` OciError.
   */
  async deleteTag(repository: string, tag: string): Promise<void> {
    checkRepository(repository);
    checkTag(tag);
    try {
      await this.#delete(repository, tag);
    } catch (e) {
      if (e instanceof OciError && [400, 405, 501].includes(e.status ?? 0)) {
        throw new OciError(
          "UNSUPPORTED",
          `registry ${this.host} cannot delete tag "${tag}" of ${repository} (answered ${e.status}: ${e.message}); ` +
            "delete the manifest by digest instead, or use a registry that supports tag deletion",
          e.status,
          e.detail,
        );
      }
      throw e;
    }
  }

  /**
   * Lists tags. With `n`, one page of at most `n` tags after `last` (cut client-side when the
   * server ignores `n`); without, every page, following `Link` headers. A repository that does
   * not exist has no tags.
   */
  async listTags(repository: string, options: { n?: number; last?: string } = {}): Promise<string[]> {
    checkRepository(repository);
    const url = new URL(`/v2/${repository}/tags/list`, this.http.baseUrl);
    if (options.n !== undefined) url.searchParams.set("n", String(options.n));
    if (options.last !== undefined) url.searchParams.set("last", options.last);
    const pages = await fetchPages(this.http, url, pull(repository), {
      onePage: options.n !== undefined,
      schema: TagList,
      subject: `tag list of ${repository} from ${this.host}`,
    });
    const tags = pages === null ? [] : pages.flatMap((p) => p.tags);
    if (options.n === undefined || tags.length <= options.n) return tags;
    // The server ignored `n` (distribution 2.8 does for tags): apply the page window here.
    const after = options.last;
    return tags.sort().filter((tag) => after === undefined || tag > after).slice(0, options.n);
  }

  /** Lists repositories, following `Link` pagination (`pageSize` sets `n` per page). */
  async catalog(options: { pageSize?: number } = {}): Promise<string[]> {
    const url = new URL("/v2/_catalog", this.http.baseUrl);
    if (options.pageSize !== undefined) url.searchParams.set("n", String(options.pageSize));
    const pages = await fetchPages(this.http, url, ["registry:catalog:*"], {
      schema: Catalog,
      subject: `catalog of ${this.host}`,
    });
    return (pages ?? []).flatMap((p) => p.repositories);
  }

  /**
   * Reads a blob. From offset 0 the stream is digest- and size-verified on the fly and errors with
   * `DigestMismatchError` at its end on a mismatch (unless `callerVerifies`: the blob store hashes
   * what it commits, so copies into it skip this second pass). With `offset > 0` the stream is the rest of the
   * blob, unverified: the caller must verify over the whole content (the blob store hashes the
   * kept prefix plus this rest). A server that ignores Range yields `offset: 0`: start over. A
   * connection cut mid-body is resumed with Range transparently (up to `retries` times).
   */
  async getBlob(
    repository: string,
    digest: string,
    options: BlobReadOptions = {},
  ): Promise<BlobReader> {
    checkRepository(repository);
    parseDigest(digest);
    const open = (offset: number) => this.#openBlob(repository, digest, offset, options.signal);
    const first = await open(Math.max(0, options.offset ?? 0));
    let stream = resumingStream(first.stream, first.offset, open, this.#options.retries ?? 3, options.signal);
    if (first.offset === 0 && !options.callerVerifies) {
      stream = verifyStream(stream, digest, first.size >= 0 ? first.size : undefined);
    }
    return { stream, offset: first.offset, size: first.size };
  }

  /** The blob's size, or null when absent. */
  async headBlob(repository: string, digest: string, signal?: AbortSignal): Promise<number | null> {
    checkRepository(repository);
    parseDigest(digest);
    const path = `/v2/${repository}/blobs/${digest}`;
    const res = await this.http.request({ method: "HEAD", url: path, scopes: pull(repository), signal });
    if (res.status === 404) return null;
    await expectStatus(res, `HEAD ${this.#url(path)}`, [200], "BLOB_UNKNOWN");
    return Number(res.headers.get("content-length") ?? -1);
  }

  /** True when the blob exists in `repository`. */
  async hasBlob(repository: string, digest: string, signal?: AbortSignal): Promise<boolean> {
    return (await this.headBlob(repository, digest, signal)) !== null;
  }

  /** True when the manifest exists in `repository`. */
  async hasManifest(repository: string, digest: string, signal?: AbortSignal): Promise<boolean> {
    parseDigest(digest);
    return (await this.headManifest(repository, digest, signal)) !== null;
  }

  /**
   * Uploads a blob: tries a cross-repo mount when `mountFrom` is given, then one PUT (up to
   * `chunkedAbove` bytes) or PATCH chunks. `size < 0` means unknown (chunked). The registry checks
   * the digest; hand in a verified stream (as `getBlob` gives) so corruption aborts the upload.
   */
  async putBlob(
    repository: string,
    descriptor: { digest: string; size: number },
    stream: ReadableStream<Uint8Array>,
    options: { mountFrom?: string; signal?: AbortSignal } = {},
  ): Promise<void> {
    checkRepository(repository);
    parseDigest(descriptor.digest);
    if (options.mountFrom !== undefined) checkRepository(options.mountFrom, "mountFrom");
    const outcome = await uploadBlob(this.http, repository, descriptor, stream, {
      ...options,
      chunkedAbove: this.#options.chunkedAbove,
      chunkSize: this.#options.chunkSize,
    });
    this.uploads[outcome]++;
  }

  /** Uploads small bytes (a config, a state artifact layer) unless already present; returns the digest. */
  async putBlobBytes(repository: string, bytes: Uint8Array): Promise<string> {
    const digest = sha256Digest(bytes);
    if (await this.hasBlob(repository, digest)) return digest;
    await this.putBlob(
      repository,
      { digest, size: bytes.byteLength },
      new Blob([bytes as BlobPart]).stream(),
    );
    return digest;
  }

  /**
   * Manifests whose `subject` is `digest`: the referrers API, or on registries without it (a 404,
   * as distribution 2.8 answers) the fallback tag `sha256-<hex>`. Filtered by `artifactType`.
   */
  async referrers(repository: string, digest: string, artifactType?: string): Promise<ImageIndex> {
    checkRepository(repository);
    parseDigest(digest);
    const url = new URL(`/v2/${repository}/referrers/${digest}`, this.http.baseUrl);
    if (artifactType) url.searchParams.set("artifactType", artifactType);
    const res = await this.http.request({
      method: "GET",
      url,
      scopes: pull(repository),
      headers: { accept: OCI_INDEX },
    });
    let manifests: ImageIndex["manifests"];
    if (res.status === 404) {
      await res.body?.cancel();
      manifests = await this.#referrersByTag(repository, digest);
    } else {
      await expectStatus(res, `GET ${this.#url(url.pathname)}`, [200]);
      const text = new TextDecoder().decode(
        await readBody(res, MAX_MANIFEST_BYTES, (n) => new ManifestTooLargeError(n)),
      );
      manifests = parseJsonOrThrow(ImageIndex, text, `referrers of ${digest} from ${this.host}`).manifests;
    }
    const filtered = artifactType ? manifests.filter((m) => m.artifactType === artifactType) : manifests;
    return { schemaVersion: 2, mediaType: OCI_INDEX, manifests: filtered };
  }

  async #referrersByTag(repository: string, digest: string): Promise<ImageIndex["manifests"]> {
    const tag = digest.replace(":", "-").slice(0, 128);
    try {
      const index = await this.getManifest(repository, tag);
      if (!index.isIndex) {
        throw new OciError("MANIFEST_INVALID", `referrers tag ${repository}:${tag} is not an index`);
      }
      return (index.document as ImageIndex).manifests;
    } catch (e) {
      if (e instanceof OciError && e.status === 404) return [];
      throw e;
    }
  }

  async #openBlob(repository: string, digest: string, offset: number, signal?: AbortSignal) {
    const path = `/v2/${repository}/blobs/${digest}`;
    const res = await this.http.request({
      method: "GET",
      url: path,
      scopes: pull(repository),
      headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
      signal,
    });
    await expectStatus(res, `GET ${this.#url(path)}`, [200, 206], "BLOB_UNKNOWN");
    const length = Number(res.headers.get("content-length") ?? -1);
    if (res.status === 200) return { stream: res.body ?? emptyStream(), offset: 0, size: length };
    const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get("content-range") ?? "");
    if (!range) {
      await res.body?.cancel();
      throw new OciError("RANGE_INVALID", `GET ${this.#url(path)} -> 206 without a valid Content-Range`, 206);
    }
    const total = range[3] === "*" ? -1 : Number(range[3]);
    return { stream: res.body ?? emptyStream(), offset: Number(range[1]), size: total };
  }

  async #delete(repository: string, reference: string): Promise<void> {
    const path = `/v2/${repository}/manifests/${reference}`;
    const scopes = [`repository:${repository}:delete`];
    const res = await this.http.request({ method: "DELETE", url: path, scopes });
    if (res.status === 404) {
      await res.body?.cancel();
      return;
    }
    await expectStatus(res, `DELETE ${this.#url(path)}`, [200, 202, 204]);
    await res.body?.cancel();
  }

  #url(path: string): string {
    return new URL(path, this.http.baseUrl).href;
  }
}

function pull(repository: string): string[] {
  return [`repository:${repository}:pull`];
}

function push(repository: string): string[] {
  return [`repository:${repository}:pull,push`];
}

function emptyStream(): ReadableStream<Uint8Array> {
  return new ReadableStream({ start: (c) => c.close() });
}
