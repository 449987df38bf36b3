/**
 * What the satellite knows about each artifact it manages: one KV record per repository + digest,
 * with the tags it set, the groups that want it and how its last sync went. A restart continues from
 * these records: `pending` and `failed` ones are synced again, `synced` ones are left alone.
 *
 * @example
 * ```ts
 * import { ArtifactRecords } from "./records.ts";
 * declare const db: import("./db.ts").SatelliteDb;
 * const records = await ArtifactRecords.load(db);
 * records.all().length;
 * ```
 * @module
 */
import { z } from "zod";
import { Digest, RepositoryName, Tag } from "../schemas/oci.ts";
import { ArtifactStatus } from "../schemas/status.ts";
import { KEYS, type SatelliteDb } from "./db.ts";
import { artifactKey } from "./desired.ts";

/** One artifact record. */
export const ArtifactRecord = z.object({
  repository: RepositoryName,
  digest: Digest,
  /** Tags the satellite set in the local registry. */
  tags: z.array(Tag),
  groups: z.array(z.string()),
  status: ArtifactStatus,
  error: z.string().optional(),
  updatedAt: z.iso.datetime({ offset: true }),
});
/** An artifact record. */
export type ArtifactRecord = z.infer<typeof ArtifactRecord>;

/**
 * The records, cached in memory and written through to KV.
 *
 * @example
 * ```ts
 * declare const records: ArtifactRecords;
 * records.get("app/web", "sha256:" + "a".repeat(64));
 * ```
 */
export class ArtifactRecords {
  readonly #db: SatelliteDb;
  readonly #byKey: Map<string, ArtifactRecord>;

  private constructor(db: SatelliteDb, byKey: Map<string, ArtifactRecord>) {
    this.#db = db;
    this.#byKey = byKey;
  }

  /**
   * Loads every record (damaged records are dropped: their artifacts are then synced again).
   *
   * @example
   * ```ts
   * declare const db: SatelliteDb;
   * const records = await ArtifactRecords.load(db);
   * ```
   */
  static async load(db: SatelliteDb): Promise<ArtifactRecords> {
    const { values, invalid } = await db.list(KEYS.artifacts, ArtifactRecord);
    for (const key of invalid) await db.delete(key);
    return new ArtifactRecords(
      db,
      new Map(values.map(({ value }) => [artifactKey(value.repository, value.digest), value])),
    );
  }

  /**
   * One record, or undefined.
   *
   * @example
   * ```ts
   * records.get("app/web", "sha256:" + "a".repeat(64));
   * ```
   */
  get(repository: string, digest: string): ArtifactRecord | undefined {
    return this.#byKey.get(artifactKey(repository, digest));
  }

  /**
   * Every record.
   *
   * @example
   * ```ts
   * records.all().filter((r) => r.status === "synced");
   * ```
   */
  all(): ArtifactRecord[] {
    return [...this.#byKey.values()];
  }

  /**
   * Writes a record (replacing the previous one).
   *
   * @example
   * ```ts
   * declare const record: ArtifactRecord;
   * await records.put(record);
   * ```
   */
  async put(record: Omit<ArtifactRecord, "updatedAt">): Promise<ArtifactRecord> {
    const full = { ...record, updatedAt: new Date().toISOString() };
    await this.#db.set(KEYS.artifact(record.repository, record.digest), full);
    this.#byKey.set(artifactKey(record.repository, record.digest), full);
    return full;
  }

  /**
   * Forgets an artifact (after it was removed from the local registry).
   *
   * @example
   * ```ts
   * await records.delete("app/web", "sha256:" + "a".repeat(64));
   * ```
   */
  async delete(repository: string, digest: string): Promise<void> {
    await this.#db.delete(KEYS.artifact(repository, digest));
    this.#byKey.delete(artifactKey(repository, digest));
  }
}
