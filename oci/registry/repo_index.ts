/**
 * Per-repository metadata on disk: `repositories/<name>/_index.json`, an OCI image index whose entries
 * are the repository's manifests, one entry per tag (annotated `org.opencontainers.image.ref.name`, as
 * in an OCI image layout) plus one unannotated entry for each untagged manifest.
 *
 * Why files and not Deno KV: the manifests and blobs already live in an OCI image layout, so the index
 * beside them keeps the whole root readable by standard tools (skopeo `oci:` with a rename) and needs no
 * second database file; each repository's index is small and is replaced atomically (temp file, fsync,
 * rename, directory fsync), which is all the crash safety a single writer process needs. The leading
 * `_` cannot start a repository path component, so `_index.json` never collides with a repository.
 *
 * @example
 * ```ts
 * import { loadRepositoryIndexes } from "./repo_index.ts";
 * for await (const { name, entries } of loadRepositoryIndexes("/data/registry")) console.log(name, entries.length);
 * ```
 * @module
 */
import { ImageIndex } from "../../schemas/oci.ts";
import type { Descriptor } from "../../schemas/oci.ts";
import { parseJsonOrThrow } from "../../schemas/validate.ts";
import { OCI_INDEX } from "../media_types.ts";
import { writeFileAtomic } from "../store.ts";

/** The annotation naming a tag, from the OCI image layout spec. */
export const REF_NAME = "org.opencontainers.image.ref.name";
const INDEX_FILE = "_index.json";

/** One repository's manifests (by digest) and tags (tag -> digest). */
export interface RepositoryIndex {
  manifests: Map<string, { mediaType: string; size: number }>;
  tags: Map<string, string>;
}

/**
 * Serialises a repository index as an OCI image index (tags sorted, so the file is deterministic).
 *
 * @example
 * ```ts
 * const bytes = encodeRepositoryIndex({ manifests: new Map(), tags: new Map() });
 * ```
 */
export function encodeRepositoryIndex(index: RepositoryIndex): Uint8Array {
  const manifests: Descriptor[] = [];
  const tagged = new Set<string>();
  for (const [tag, digest] of [...index.tags].sort(([a], [b]) => a < b ? -1 : 1)) {
    const m = index.manifests.get(digest);
    if (!m) continue;
    tagged.add(digest);
    manifests.push({ mediaType: m.mediaType, digest, size: m.size, annotations: { [REF_NAME]: tag } });
  }
  for (const [digest, m] of index.manifests) {
    if (!tagged.has(digest)) manifests.push({ mediaType: m.mediaType, digest, size: m.size });
  }
  return new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }));
}

/**
 * Parses an index file back; throws a ValidationError naming the field when it is damaged.
 *
 * @example
 * ```ts
 * decodeRepositoryIndex('{"schemaVersion":2,"manifests":[]}', "repositories/a/_index.json");
 * ```
 */
export function decodeRepositoryIndex(text: string, what: string): RepositoryIndex {
  const doc = parseJsonOrThrow(ImageIndex, text, what);
  const index: RepositoryIndex = { manifests: new Map(), tags: new Map() };
  for (const d of doc.manifests) {
    index.manifests.set(d.digest, { mediaType: d.mediaType, size: d.size });
    const tag = d.annotations?.[REF_NAME];
    if (tag) index.tags.set(tag, d.digest);
  }
  return index;
}

/** The directory of a repository's metadata (the name is validated by the caller). */
export function repositoryDir(root: string, name: string): string {
  return `${root}/repositories/${name}`;
}

/**
 * Atomically replaces a repository's index file, or removes it when the repository is empty.
 *
 * @example
 * ```ts
 * await saveRepositoryIndex("/data/registry", "library/busybox", { manifests: new Map(), tags: new Map() });
 * ```
 */
export async function saveRepositoryIndex(root: string, name: string, index: RepositoryIndex): Promise<void> {
  const dir = repositoryDir(root, name);
  if (index.manifests.size === 0) {
    await Deno.remove(`${dir}/${INDEX_FILE}`).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
    return;
  }
  await Deno.mkdir(dir, { recursive: true });
  await writeFileAtomic(`${dir}/${INDEX_FILE}`, encodeRepositoryIndex(index), `${root}/ingest`);
}

/**
 * Every repository index under `root/repositories`, found by walking the directory tree.
 *
 * @example
 * ```ts
 * const names = (await Array.fromAsync(loadRepositoryIndexes(root))).map((r) => r.name);
 * ```
 */
export async function* loadRepositoryIndexes(
  root: string,
): AsyncIterable<{ name: string; index: RepositoryIndex }> {
  const base = `${root}/repositories`;
  const pending = [""];
  for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir ? `${base}/${dir}` : base));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue;
      throw e;
    }
    for (const entry of entries) {
      const rel = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory) pending.push(rel);
      else if (entry.isFile && entry.name === INDEX_FILE && dir) {
        const text = await Deno.readTextFile(`${base}/${rel}`);
        yield { name: dir, index: decodeRepositoryIndex(text, `repositories/${rel}`) };
      }
    }
  }
}
