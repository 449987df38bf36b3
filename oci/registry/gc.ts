/**
 * Online garbage collection of the built-in registry: mark every digest a manifest of any repository
 * references, then sweep blobs that are neither marked nor younger than a grace period, while pulls and
 * pushes continue. The grace period protects blobs being pushed (uploaded but not yet named by their
 * manifest, whose push may still be in flight); manifests pushed during the sweep pin what they
 * reference (see `LocalRegistry.withGarbageCollection`). Stale files in `ingest/` (abandoned uploads and
 * interrupted downloads) are removed after a longer age.
 *
 * @example
 * ```ts
 * import { openLocalRegistry } from "./local.ts";
 * import { collectGarbage } from "./gc.ts";
 * const registry = await openLocalRegistry(await Deno.makeTempDir());
 * const report = await collectGarbage(registry);
 * console.log(report.deleted.length, report.freedBytes);
 * ```
 * @module
 */
import type { LocalRegistry } from "./local.ts";

/** Options for {@linkcode collectGarbage}. */
export interface GarbageCollectionOptions {
  /** Unreferenced blobs modified within this many ms are kept (default 10 minutes). */
  graceMs?: number;
  /** Files in `ingest/` untouched for this long are removed (default 24 hours). */
  ingestMaxAgeMs?: number;
  /** The clock (tests). */
  now?: () => number;
}

/** What a collection removed. */
export interface GarbageCollectionReport {
  deleted: string[];
  freedBytes: number;
  /** Unreferenced blobs kept because they are within the grace period. */
  keptYoung: number;
  /** Stale ingest files removed. */
  ingestRemoved: number;
}

/**
 * Collects garbage once. Safe to run while the registry serves and accepts pushes.
 *
 * @example
 * ```ts
 * await collectGarbage(registry, { graceMs: 0 });
 * ```
 */
export async function collectGarbage(
  registry: LocalRegistry,
  options: GarbageCollectionOptions = {},
): Promise<GarbageCollectionReport> {
  const graceMs = options.graceMs ?? 10 * 60_000;
  const ingestMaxAgeMs = options.ingestMaxAgeMs ?? 24 * 60 * 60_000;
  const now = options.now ?? Date.now;
  const report: GarbageCollectionReport = { deleted: [], freedBytes: 0, keptYoung: 0, ingestRemoved: 0 };
  await registry.withGarbageCollection(async (deleteIfUnreferenced) => {
    for await (const digest of registry.store.list()) {
      const stat = await Deno.stat(registry.store.path(digest)).catch(() => null);
      if (!stat) continue;
      if (now() - (stat.mtime?.getTime() ?? 0) < graceMs) {
        report.keptYoung++;
        continue;
      }
      if (await deleteIfUnreferenced(digest)) {
        report.deleted.push(digest);
        report.freedBytes += stat.size;
      }
    }
  });
  const ingest = `${registry.store.root}/ingest`;
  for await (const entry of Deno.readDir(ingest)) {
    if (!entry.isFile) continue;
    const path = `${ingest}/${entry.name}`;
    const stat = await Deno.stat(path).catch(() => null);
    if (stat && now() - (stat.mtime?.getTime() ?? 0) >= ingestMaxAgeMs) {
      await Deno.remove(path).catch(() => {});
      report.ingestRemoved++;
    }
  }
  return report;
}
