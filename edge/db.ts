/**
 * The satellite's local database: Deno KV in `<dataDir>/satellite.kv`, private to the service user
 * (data dir 0700, database files 0600) because it holds the device secret and registry credentials.
 * Values are validated with a zod schema on read, so a damaged or older record is reported, never
 * trusted.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { SatelliteDb } from "./db.ts";
 * await using db = await SatelliteDb.open(await Deno.makeTempDir());
 * await db.set(["example"], { n: 1 });
 * await db.get(["example"], z.object({ n: z.number() })); // { n: 1 }
 * ```
 * @module
 */
import type { z } from "zod";
import { parseOrThrow } from "../schemas/validate.ts";

/** Every key prefix the satellite uses, in one place. */
export const KEYS = {
  identity: ["identity"] as const,
  usedToken: (hash: string) => ["token", "used", hash] as const,
  rejectedToken: (hash: string) => ["token", "rejected", hash] as const,
  appliedSatellite: ["applied", "satellite"] as const,
  appliedGroup: (name: string) => ["applied", "group", name] as const,
  appliedGroups: ["applied", "group"] as const,
  /** Highest seq ever accepted per group name; kept when the group is left (rollback guard on re-join). */
  groupSeqHigh: (name: string) => ["applied", "group-seq", name] as const,
  groupSeqHighs: ["applied", "group-seq"] as const,
  artifact: (repository: string, digest: string) => ["artifact", repository, digest] as const,
  artifacts: ["artifact"] as const,
  lastPoll: ["poll", "last"] as const,
};

/**
 * Makes `dir` (and parents) exist with mode 0700.
 *
 * @example
 * ```ts
 * await ensurePrivateDir("/tmp/satellite-data");
 * ```
 */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  await Deno.chmod(dir, 0o700);
}

/**
 * A typed view over the KV database.
 *
 * @example
 * ```ts
 * const db = await SatelliteDb.open("/var/lib/satellite");
 * db.close();
 * ```
 */
export class SatelliteDb implements AsyncDisposable {
  /** The underlying KV (for atomic operations spanning several keys). */
  readonly kv: Deno.Kv;
  /** Path of the database file. */
  readonly path: string;

  private constructor(kv: Deno.Kv, path: string) {
    this.kv = kv;
    this.path = path;
  }

  /**
   * Opens (creating) `<dataDir>/satellite.kv`, making the directory 0700 and the files 0600.
   *
   * @example
   * ```ts
   * const db = await SatelliteDb.open(await Deno.makeTempDir());
   * ```
   */
  static async open(dataDir: string): Promise<SatelliteDb> {
    await ensurePrivateDir(dataDir);
    const path = `${dataDir}/satellite.kv`;
    const kv = await Deno.openKv(path);
    for (const file of [path, `${path}-wal`, `${path}-shm`]) {
      await Deno.chmod(file, 0o600).catch(() => {});
    }
    return new SatelliteDb(kv, path);
  }

  /**
   * Reads and validates one value; null when absent.
   *
   * @example
   * ```ts
   * import { z } from "zod";
   * await db.get(["identity"], z.object({ name: z.string() }));
   * ```
   */
  async get<S extends z.ZodType>(key: Deno.KvKey, schema: S): Promise<z.output<S> | null> {
    const entry = await this.kv.get(key);
    if (entry.value === null) return null;
    return parseOrThrow(schema, entry.value, `local database record ${JSON.stringify(key)}`);
  }

  /**
   * Writes one value.
   *
   * @example
   * ```ts
   * await db.set(["poll", "last"], { at: Date.now() });
   * ```
   */
  async set(key: Deno.KvKey, value: unknown): Promise<void> {
    await this.kv.set(key, value);
  }

  /**
   * Deletes one key.
   *
   * @example
   * ```ts
   * await db.delete(["poll", "last"]);
   * ```
   */
  async delete(key: Deno.KvKey): Promise<void> {
    await this.kv.delete(key);
  }

  /**
   * Every value under a prefix, validated (records that fail validation are skipped and returned
   * in `invalid`, so one damaged record cannot stop the satellite).
   *
   * @example
   * ```ts
   * import { z } from "zod";
   * const { values } = await db.list(["artifact"], z.object({ digest: z.string() }));
   * ```
   */
  async list<S extends z.ZodType>(
    prefix: Deno.KvKey,
    schema: S,
  ): Promise<{ values: { key: Deno.KvKey; value: z.output<S> }[]; invalid: Deno.KvKey[] }> {
    const values: { key: Deno.KvKey; value: z.output<S> }[] = [];
    const invalid: Deno.KvKey[] = [];
    for await (const entry of this.kv.list({ prefix })) {
      const parsed = schema.safeParse(entry.value);
      if (parsed.success) values.push({ key: entry.key, value: parsed.data });
      else invalid.push(entry.key);
    }
    return { values, invalid };
  }

  /**
   * Closes the database.
   *
   * @example
   * ```ts
   * db.close();
   * ```
   */
  close(): void {
    try {
      this.kv.close();
    } catch { /* already closed */ }
  }

  /** Closes the database. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}
