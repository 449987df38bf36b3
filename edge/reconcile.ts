/**
 * The reconcile engine: makes the local registry hold exactly the desired set. Missing or changed
 * artifacts are copied by digest from the central registry (indexes whole, or filtered to the
 * configured platforms), each blob fetched once however many images share it, resumed where an
 * earlier run stopped; a tag is set only after its content is committed. Then tags nobody wants are
 * dropped, and artifacts no group wants any more are deleted (only when every group's state is known)
 * and unreferenced blobs collected. Progress is kept per artifact in KV, so a restart continues.
 *
 * @example
 * ```ts
 * import { Reconciler } from "./reconcile.ts";
 * declare const options: import("./reconcile.ts").ReconcilerOptions;
 * declare const desired: import("./desired.ts").DesiredSet;
 * const reconciler = await Reconciler.create(options);
 * const result = await reconciler.reconcile(desired, { allowRemovals: true });
 * ```
 * @module
 */
import type { Platform } from "../schemas/oci.ts";
import { BlobFlights } from "../oci/blob_flights.ts";
import { copyImage } from "../oci/copy.ts";
import { OciError } from "../oci/errors.ts";
import type { DeletableImageTarget, ImageSource } from "../oci/types.ts";
import type { SatelliteDb } from "./db.ts";
import type { DesiredArtifact, DesiredSet } from "./desired.ts";
import { artifactKey } from "./desired.ts";
import type { EventLog } from "./events.ts";
import { type ArtifactRecord, ArtifactRecords } from "./records.ts";

/** Options for {@linkcode Reconciler}. */
export interface ReconcilerOptions {
  db: SatelliteDb;
  /** The central registry. */
  source: ImageSource;
  /** The local registry (built-in or external). */
  target: DeletableImageTarget;
  events: EventLog;
  /** Called after removals to free unreferenced blobs (built-in registry). */
  collectGarbage?: () => Promise<{ freedBytes: number; deleted: string[] }>;
}

/** Settings that may change over the air between runs. */
export interface ReconcileSettings {
  /** Delete artifacts nobody wants (false while some group's state is unknown). */
  allowRemovals: boolean;
  /** Concurrent blob transfers. */
  concurrency?: number;
  platforms?: Pick<Platform, "os" | "architecture" | "variant">[];
  signal?: AbortSignal;
}

/** What a run did. */
export interface ReconcileResult {
  synced: number;
  failed: number;
  removed: number;
  /** Bytes copied from the central registry during this run. */
  bytes: number;
  /** True when every desired artifact is synced. */
  converged: boolean;
  /** Artifacts deleted from the local registry during this run. */
  removedArtifacts: { repository: string; digest: string; tags: string[] }[];
}

const sameTags = (a: string[], b: string[]) => a.length === b.length && a.every((t, i) => t === b[i]);

/**
 * Runs reconciles, one at a time.
 *
 * @example
 * ```ts
 * declare const reconciler: Reconciler;
 * reconciler.records.all();
 * ```
 */
export class Reconciler {
  readonly #options: ReconcilerOptions;
  /** The per-artifact records. */
  readonly records: ArtifactRecords;
  readonly #flights = new BlobFlights();
  /** Bytes copied since the process started. */
  bytesTotal = 0;

  private constructor(options: ReconcilerOptions, records: ArtifactRecords) {
    this.#options = { ...options };
    this.records = records;
  }

  /**
   * Replaces the central registry client (after credentials rotated); runs in progress keep theirs.
   *
   * @example
   * ```ts
   * declare const client: ImageSource;
   * reconciler.setSource(client);
   * ```
   */
  setSource(source: ImageSource): void {
    this.#options.source = source;
  }

  /**
   * Loads the records and returns a reconciler.
   *
   * @example
   * ```ts
   * declare const options: ReconcilerOptions;
   * const reconciler = await Reconciler.create(options);
   * ```
   */
  static async create(options: ReconcilerOptions): Promise<Reconciler> {
    return new Reconciler(options, await ArtifactRecords.load(options.db));
  }

  /**
   * True when the records say the local registry holds the desired set exactly.
   *
   * @example
   * ```ts
   * declare const desired: DesiredSet;
   * reconciler.isConverged(desired);
   * ```
   */
  isConverged(desired: DesiredSet): boolean {
    for (const artifact of desired.artifacts.values()) {
      const record = this.records.get(artifact.repository, artifact.digest);
      if (!record || record.status !== "synced" || !sameTags(record.tags, artifact.tags)) return false;
    }
    return this.records.all().every((r) => desired.artifacts.has(artifactKey(r.repository, r.digest)));
  }

  /**
   * One reconcile run.
   *
   * @example
   * ```ts
   * declare const desired: DesiredSet;
   * const result = await reconciler.reconcile(desired, { allowRemovals: true, concurrency: 4 });
   * ```
   */
  async reconcile(desired: DesiredSet, settings: ReconcileSettings): Promise<ReconcileResult> {
    const result: ReconcileResult = {
      synced: 0,
      failed: 0,
      removed: 0,
      bytes: 0,
      converged: false,
      removedArtifacts: [],
    };
    const work = [...desired.artifacts.values()].filter((a) => {
      const record = this.records.get(a.repository, a.digest);
      return !record || record.status !== "synced" || !sameTags(record.tags, a.tags) ||
        !sameTags(record.groups, a.groups);
    });
    for (const artifact of work) {
      const record = this.records.get(artifact.repository, artifact.digest);
      if (record?.status === "synced" && sameTags(record.tags, artifact.tags)) {
        await this.records.put({ ...record, groups: artifact.groups });
        continue;
      }
      await this.records.put({
        repository: artifact.repository,
        digest: artifact.digest,
        tags: record?.tags ?? [],
        groups: artifact.groups,
        status: "pending",
      });
    }
    const pending = work.filter((a) => this.records.get(a.repository, a.digest)?.status === "pending");
    if (pending.length > 0) {
      this.#options.events.emit("info", "sync.start", `syncing ${pending.length} artifact(s)`, {
        artifacts: pending.length,
      });
    }
    // Artifacts run a few at a time; blob transfers inside share the concurrency budget and the flights.
    const parallel = Math.max(1, Math.min(4, settings.concurrency ?? 4));
    let next = 0;
    await Promise.all(Array.from({ length: Math.min(parallel, pending.length) }, async () => {
      while (next < pending.length) {
        settings.signal?.throwIfAborted();
        const artifact = pending[next++];
        if (await this.#sync(artifact, settings, result)) result.synced++;
        else result.failed++;
      }
    }));
    await this.#dropUnwantedTags(desired);
    if (settings.allowRemovals) await this.#removeUnwanted(desired, result);
    result.converged = this.isConverged(desired);
    return result;
  }

  async #sync(artifact: DesiredArtifact, settings: ReconcileSettings, result: ReconcileResult) {
    const started = Date.now();
    let bytes = 0;
    try {
      const summary = await copyImage(this.#options.source, this.#options.target, {
        repository: artifact.repository,
        reference: artifact.digest,
        tags: artifact.tags,
        platforms: settings.platforms?.map((p) =>
          [p.os, p.architecture, p.variant].filter(Boolean).join("/")
        ),
        concurrency: settings.concurrency,
        flights: this.#flights,
        signal: settings.signal,
        onProgress: (event) => {
          if (event.type !== "bytes" && event.type !== "blob") return;
          // Debug level: the CLI's progress bars read these; logs show them only at debug.
          this.#options.events.emit(
            "debug",
            "sync.progress",
            `${event.digest}: ${event.type === "bytes" ? `${event.bytes}/${event.size}` : event.state}`,
            { repository: artifact.repository, artifact: artifact.digest, ...event },
          );
        },
      });
      bytes = summary.bytesTransferred;
      result.bytes += bytes;
      this.bytesTotal += bytes;
      const record = this.records.get(artifact.repository, artifact.digest);
      await this.records.put({
        repository: artifact.repository,
        digest: artifact.digest,
        tags: artifact.tags,
        groups: artifact.groups,
        status: "synced",
      });
      this.#options.events.emit(
        "info",
        "sync.artifact",
        `synced ${artifact.repository}@${artifact.digest}${
          artifact.tags.length ? ` (${artifact.tags.join(", ")})` : ""
        }`,
        {
          repository: artifact.repository,
          digest: artifact.digest,
          bytes,
          ms: Date.now() - started,
          retried: record?.status === "failed",
        },
      );
      return true;
    } catch (e) {
      if (settings.signal?.aborted) throw e;
      const message = (e as Error).message;
      const record = this.records.get(artifact.repository, artifact.digest);
      await this.records.put({
        repository: artifact.repository,
        digest: artifact.digest,
        tags: record?.tags ?? [],
        groups: artifact.groups,
        status: "failed",
        error: message.slice(0, 4000),
      });
      this.#options.events.emit(
        "error",
        "sync.failed",
        `${artifact.repository}@${artifact.digest}: ${message}`,
        {
          repository: artifact.repository,
          digest: artifact.digest,
        },
      );
      return false;
    }
  }

  /** Drops tags the satellite set earlier that no desired artifact of that repository claims now. */
  async #dropUnwantedTags(desired: DesiredSet): Promise<void> {
    const claimed = new Set<string>();
    for (const a of desired.artifacts.values()) for (const t of a.tags) claimed.add(`${a.repository}:${t}`);
    for (const record of this.records.all()) {
      const want = desired.artifacts.get(artifactKey(record.repository, record.digest));
      if (!want || record.status !== "synced") continue;
      const stale = record.tags.filter((t) => !want.tags.includes(t));
      if (stale.length === 0) continue;
      for (const tag of stale) {
        if (claimed.has(`${record.repository}:${tag}`)) continue;
        try {
          await this.#ignoreMissing(() => this.#options.target.deleteTag(record.repository, tag));
        } catch (e) {
          // distribution 2.8 cannot delete a tag alone; the tag stays until its manifest goes.
          this.#options.events.emit(
            "warn",
            "sync.untag-failed",
            `${record.repository}:${tag}: ${(e as Error).message}`,
          );
        }
      }
      await this.records.put({ ...record, tags: want.tags });
    }
  }

  async #removeUnwanted(desired: DesiredSet, result: ReconcileResult): Promise<void> {
    const unwanted = this.records.all().filter((r) =>
      !desired.artifacts.has(artifactKey(r.repository, r.digest))
    );
    for (const record of unwanted) {
      try {
        await this.#ignoreMissing(() =>
          this.#options.target.deleteManifest(record.repository, record.digest)
        );
        await this.records.delete(record.repository, record.digest);
        result.removed++;
        result.removedArtifacts.push({
          repository: record.repository,
          digest: record.digest,
          tags: record.tags,
        });
        this.#options.events.emit("info", "sync.removed", `removed ${record.repository}@${record.digest}`, {
          repository: record.repository,
          digest: record.digest,
        });
      } catch (e) {
        this.#options.events.emit(
          "error",
          "sync.remove-failed",
          `${record.repository}@${record.digest}: ${(e as Error).message}`,
        );
      }
    }
    if (unwanted.length > 0 && this.#options.collectGarbage) {
      const gc = await this.#options.collectGarbage();
      this.#options.events.emit(
        "info",
        "gc.done",
        `collected ${gc.deleted.length} blob(s), ${gc.freedBytes} bytes`,
        {
          blobs: gc.deleted.length,
          bytes: gc.freedBytes,
        },
      );
    }
  }

  async #ignoreMissing(action: () => Promise<void>): Promise<void> {
    try {
      await action();
    } catch (e) {
      if (e instanceof OciError && e.status === 404) return;
      throw e;
    }
  }
}

/** Re-exported for callers that inspect records. */
export type { ArtifactRecord };
