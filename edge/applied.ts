/**
 * The states in force on this device: the satellite state and each group state last accepted
 * (verified, not rolled back). Small records live in KV; group state bodies, which can exceed KV's
 * 64 KiB value limit with thousands of artifacts, live in `<dataDir>/states/<digest>.json`, written
 * atomically before the KV record that names them.
 *
 * @example
 * ```ts
 * import { AppliedStore } from "./applied.ts";
 * declare const db: import("./db.ts").SatelliteDb;
 * const applied = new AppliedStore(db, "/var/lib/satellite");
 * const current = await applied.load();
 * ```
 * @module
 */
import { z } from "zod";
import { GroupState } from "../schemas/group_state.ts";
import { Digest } from "../schemas/oci.ts";
import { SatelliteState } from "../schemas/satellite_state.ts";
import { parseJsonOrThrow } from "../schemas/validate.ts";
import { writeFileAtomic } from "../oci/store.ts";
import { ensurePrivateDir, KEYS, type SatelliteDb } from "./db.ts";

/** The satellite state record. */
export const AppliedSatelliteRecord = z.object({
  digest: Digest,
  seq: z.number().int().nonnegative(),
  state: SatelliteState,
});
/** The satellite state in force. */
export type AppliedSatelliteRecord = z.infer<typeof AppliedSatelliteRecord>;

/** A group state record (the body is in a file). */
export const AppliedGroupRecord = z.object({
  name: z.string().min(1),
  digest: Digest,
  /** 0 for the unsigned Harbor format, which has no sequence number. */
  seq: z.number().int().nonnegative(),
  format: z.enum(["edge", "harbor"]),
});
/** A group state record. */
export type AppliedGroupRecord = z.infer<typeof AppliedGroupRecord>;

/** A group state in force, with its body. */
export interface AppliedGroup extends AppliedGroupRecord {
  state: GroupState;
}

/** Everything in force. */
export interface AppliedStates {
  satellite: AppliedSatelliteRecord | null;
  groups: Map<string, AppliedGroup>;
  /**
   * The highest seq ever accepted per group name (signed format), also for groups the satellite
   * has left since: a group removed and re-added later must not accept an older version of itself.
   */
  highestSeq: Map<string, number>;
}

const SeqRecord = z.number().int().nonnegative();

/**
 * Reads and writes the states in force.
 *
 * @example
 * ```ts
 * declare const db: import("./db.ts").SatelliteDb;
 * const store = new AppliedStore(db, "/var/lib/satellite");
 * ```
 */
export class AppliedStore {
  readonly #db: SatelliteDb;
  readonly #dir: string;

  constructor(db: SatelliteDb, dataDir: string) {
    this.#db = db;
    this.#dir = `${dataDir}/states`;
  }

  #file(digest: string): string {
    return `${this.#dir}/${digest.replace(":", "-")}.json`;
  }

  /**
   * Loads everything in force. A group whose body file is missing or damaged is left out (its
   * digest then differs from the registry's, so the next poll fetches it again).
   *
   * @example
   * ```ts
   * const { satellite, groups } = await store.load();
   * ```
   */
  async load(): Promise<AppliedStates> {
    const satellite = await this.#db.get(KEYS.appliedSatellite, AppliedSatelliteRecord);
    const groups = new Map<string, AppliedGroup>();
    const { values } = await this.#db.list(KEYS.appliedGroups, AppliedGroupRecord);
    for (const { value } of values) {
      try {
        const text = await Deno.readTextFile(this.#file(value.digest));
        groups.set(value.name, { ...value, state: parseJsonOrThrow(GroupState, text, "stored group state") });
      } catch {
        await this.#db.delete(KEYS.appliedGroup(value.name));
      }
    }
    const highestSeq = new Map<string, number>();
    const seqs = await this.#db.list(KEYS.groupSeqHighs, SeqRecord);
    for (const { key, value } of seqs.values) highestSeq.set(String(key[key.length - 1]), value);
    for (const group of groups.values()) {
      if (group.format === "edge" && group.seq > (highestSeq.get(group.name) ?? -1)) {
        highestSeq.set(group.name, group.seq);
      }
    }
    return { satellite, groups, highestSeq };
  }

  /**
   * Records a newly accepted satellite state.
   *
   * @example
   * ```ts
   * declare const record: AppliedSatelliteRecord;
   * await store.saveSatellite(record);
   * ```
   */
  async saveSatellite(record: AppliedSatelliteRecord): Promise<void> {
    await this.#db.set(KEYS.appliedSatellite, record);
  }

  /**
   * Records a newly accepted group state: body file first, then the KV record, then the old file goes.
   *
   * @example
   * ```ts
   * declare const group: AppliedGroup;
   * await store.saveGroup(group, undefined);
   * ```
   */
  async saveGroup(group: AppliedGroup, previousDigest: string | undefined): Promise<void> {
    await ensurePrivateDir(this.#dir);
    await writeFileAtomic(
      this.#file(group.digest),
      new TextEncoder().encode(JSON.stringify(group.state)),
      this.#dir,
    );
    const { state: _state, ...record } = group;
    await this.#db.set(KEYS.appliedGroup(group.name), record);
    if (group.format === "edge") {
      const high = await this.#db.get(KEYS.groupSeqHigh(group.name), SeqRecord) ?? -1;
      if (group.seq > high) await this.#db.set(KEYS.groupSeqHigh(group.name), group.seq);
    }
    if (previousDigest && previousDigest !== group.digest) {
      await Deno.remove(this.#file(previousDigest)).catch(() => {});
    }
  }

  /**
   * Forgets a group the satellite no longer belongs to (its highest seq is kept).
   *
   * @example
   * ```ts
   * await store.removeGroup("stores-eu", "sha256:" + "a".repeat(64));
   * ```
   */
  async removeGroup(name: string, digest: string): Promise<void> {
    await this.#db.delete(KEYS.appliedGroup(name));
    await Deno.remove(this.#file(digest)).catch(() => {});
  }
}
