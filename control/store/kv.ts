/**
 * The Deno KV store: one file, atomic commits with versionstamp checks for everything that races
 * (token exchange, satellite edits, seq allocation). Group states can exceed a KV value, so they
 * are kept in chunks (`kv_chunks.ts`) behind a small record.
 *
 * @example
 * ```ts
 * import { KvStore } from "./kv.ts";
 * const store = await KvStore.open(":memory:");
 * await store.nextSeq("group", "stores-eu"); // 1
 * await store.close();
 * ```
 * @module
 */
import type { GroupState } from "../../schemas/group_state.ts";
import { timingSafeEqualText } from "../secrets.ts";
import { deleteChunks, readChunks, writeChunks } from "./kv_chunks.ts";
import type {
  AdminTokenRecord,
  ControlStore,
  GroupRecord,
  GroupSummary,
  PublishRecord,
  RedeemRequest,
  SatelliteRecord,
  SatelliteUpdate,
  SeenRecord,
  StateKind,
} from "./types.ts";

/** The small record that names a group's chunked state. */
interface GroupHead extends GroupSummary {
  generation: string;
  chunks: number;
}

/** Bound on optimistic retries: contention on one record is short-lived. */
const MAX_ATTEMPTS = 50;

const SAT = "sat";
/** Satellite records kept in memory at most (a fleet larger than this just reads more from disk). */
const SAT_CACHE_MAX = 200_000;
/** Status records per commit in {@linkcode KvStore.recordSeenMany}. */
const SEEN_PER_COMMIT = 100;

/**
 * {@linkcode ControlStore} on Deno KV.
 *
 * @example
 * ```ts
 * const store = await KvStore.open(await Deno.makeTempFile());
 * await store.close();
 * ```
 */
export class KvStore implements ControlStore {
  readonly #kv: Deno.Kv;
  /**
   * Read-through cache of satellite records for the status hot path. Sound because one process
   * owns a KV file: every write of a satellite below drops its entry after the commit and bumps its
   * generation, so a read that raced a write is not cached. Records handed out are shared: callers
   * copy, never mutate (as the routes do with spreads).
   */
  readonly #satCache = new Map<string, SatelliteRecord>();
  readonly #satGeneration = new Map<string, number>();

  private constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  /** Opens (or creates) the KV file at `path` (`:memory:` for a throwaway store). */
  static async open(path: string): Promise<KvStore> {
    if (path !== ":memory:") {
      const dir = path.replace(/[\\/][^\\/]*$/, "");
      if (dir && dir !== path) await Deno.mkdir(dir, { recursive: true });
    }
    return new KvStore(await Deno.openKv(path));
  }

  async ensureSigningKey(candidate: () => Promise<string>): Promise<string> {
    const key = ["meta", "signingKey"];
    const existing = await this.#kv.get<string>(key);
    if (existing.value) return existing.value;
    const fresh = await candidate();
    const res = await this.#kv.atomic().check({ key, versionstamp: null }).set(key, fresh).commit();
    if (res.ok) return fresh;
    return (await this.#kv.get<string>(key)).value!;
  }

  async nextSeq(kind: StateKind, name: string): Promise<number> {
    const key = ["seq", kind, name];
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await this.#kv.get<number>(key);
      const next = (current.value ?? 0) + 1;
      if ((await this.#kv.atomic().check(current).set(key, next).commit()).ok) return next;
    }
    throw new Error(`could not allocate a seq for ${kind} ${name}: too much contention`);
  }

  async addAdminToken(record: AdminTokenRecord): Promise<void> {
    await this.#kv.set(["admin", record.hash], record);
  }

  async findAdminToken(hash: string): Promise<AdminTokenRecord | null> {
    const entry = await this.#kv.get<AdminTokenRecord>(["admin", hash]);
    // The lookup is by hash; comparing again in constant time keeps the check itself timing-safe.
    return entry.value && timingSafeEqualText(entry.value.hash, hash) ? entry.value : null;
  }

  async countAdminTokens(): Promise<number> {
    let n = 0;
    for await (const _ of this.#kv.list({ prefix: ["admin"] })) n++;
    return n;
  }

  async getGroup(name: string): Promise<GroupRecord | null> {
    const head = await this.#kv.get<GroupHead>(["group", name]);
    return head.value ? await this.#withState(head.value) : null;
  }

  async listGroups(): Promise<GroupRecord[]> {
    const out: GroupRecord[] = [];
    for await (const entry of this.#kv.list<GroupHead>({ prefix: ["group"] })) {
      out.push(await this.#withState(entry.value));
    }
    return out;
  }

  async getGroupSummaries(names: readonly string[]): Promise<Map<string, GroupSummary>> {
    const out = new Map<string, GroupSummary>();
    for (let i = 0; i < names.length; i += 10) {
      const keys = names.slice(i, i + 10).map((n) => ["group", n]);
      for (const entry of await this.#kv.getMany<GroupHead[]>(keys)) {
        if (entry.value) out.set(entry.value.name, summaryOf(entry.value));
      }
    }
    return out;
  }

  async putGroup(name: string, state: GroupState, now: Date): Promise<GroupRecord> {
    const generation = crypto.randomUUID();
    const chunks = await writeChunks(this.#kv, ["groupdata", name, generation], state);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await this.#kv.get<GroupHead>(["group", name]);
      const head: GroupHead = {
        name,
        updatedAt: now.toISOString(),
        revision: (current.value?.revision ?? 0) + 1,
        published: current.value?.published ?? { seq: 0, digest: null, revision: 0 },
        artifactCount: state.artifacts.length,
        generation,
        chunks,
      };
      if ((await this.#kv.atomic().check(current).set(["group", name], head).commit()).ok) {
        if (current.value) await deleteChunks(this.#kv, ["groupdata", name, current.value.generation]);
        return { ...summaryOf(head), state };
      }
    }
    throw new Error(`could not store group ${name}: too much contention`);
  }

  async deleteGroup(name: string): Promise<boolean> {
    const current = await this.#kv.get<GroupHead>(["group", name]);
    if (!current.value) return false;
    if (!(await this.#kv.atomic().check(current).delete(["group", name]).commit()).ok) {
      return await this.deleteGroup(name);
    }
    await deleteChunks(this.#kv, ["groupdata", name]);
    return true;
  }

  async createSatellite(record: SatelliteRecord, tokenExpiresAt: string): Promise<boolean> {
    const op = this.#kv.atomic().check({ key: [SAT, record.name], versionstamp: null })
      .set([SAT, record.name], record);
    if (record.tokenHash) {
      op.set(["token", record.tokenHash], { satellite: record.name, expiresAt: tokenExpiresAt });
    }
    const ok = (await op.commit()).ok;
    this.#invalidate(record.name);
    return ok;
  }

  async getSatellite(name: string): Promise<SatelliteRecord | null> {
    const hit = this.#satCache.get(name);
    if (hit) return hit;
    const generation = this.#satGeneration.get(name) ?? 0;
    const value = (await this.#kv.get<SatelliteRecord>([SAT, name])).value;
    if (value && (this.#satGeneration.get(name) ?? 0) === generation) {
      if (this.#satCache.size >= SAT_CACHE_MAX) this.#satCache.clear();
      this.#satCache.set(name, value);
    }
    return value;
  }

  async listSatellites(): Promise<SatelliteRecord[]> {
    const out: SatelliteRecord[] = [];
    for await (const entry of this.#kv.list<SatelliteRecord>({ prefix: [SAT] }, { batchSize: 500 })) {
      out.push(entry.value);
    }
    return out;
  }

  async updateSatellite(name: string, update: SatelliteUpdate): Promise<SatelliteRecord | null> {
    return await this.#mutateSatellite(name, (current) => {
      const next = update(current);
      return next ? { next, op: (a) => a } : null;
    });
  }

  async issueToken(name: string, tokenHash: string, expiresAt: string): Promise<SatelliteRecord | null> {
    return await this.#mutateSatellite(name, (current) => {
      if (current.revokedAt) return null;
      const next = { ...current, tokenHash, tokenExpiresAt: expiresAt };
      return {
        next,
        op: (a) => {
          if (current.tokenHash) a.delete(["token", current.tokenHash]);
          return a.set(["token", tokenHash], { satellite: name, expiresAt });
        },
      };
    });
  }

  async redeemToken(request: RedeemRequest): Promise<SatelliteRecord | null> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const token = await this.#kv.get<{ satellite: string; expiresAt: string }>([
        "token",
        request.tokenHash,
      ]);
      if (!token.value) return null;
      if (Date.parse(token.value.expiresAt) <= request.now.getTime()) {
        // Expired tokens are not deleted here: the clock is injectable, and the record is tiny.
        return null;
      }
      const sat = await this.#kv.get<SatelliteRecord>([SAT, token.value.satellite]);
      const current = sat.value;
      if (!current || current.revokedAt || !current.tokenHash) return null;
      if (!timingSafeEqualText(current.tokenHash, request.tokenHash)) return null;
      const next: SatelliteRecord = {
        ...current,
        registeredAt: request.now.toISOString(),
        device: request.device,
        tokenHash: null,
        tokenExpiresAt: null,
        deviceSecretHash: request.deviceSecretHash,
      };
      // Both versionstamps are checked: a racing exchange deletes the token, so only one commit wins.
      const op = this.#kv.atomic().check(token).check(sat)
        .delete(["token", request.tokenHash])
        .set([SAT, current.name], next)
        .set(["secret", request.deviceSecretHash], current.name);
      if (current.deviceSecretHash) op.delete(["secret", current.deviceSecretHash]);
      const ok = (await op.commit()).ok;
      this.#invalidate(current.name);
      if (ok) return next;
    }
    return null;
  }

  async findBySecret(secretHash: string): Promise<SatelliteRecord | null> {
    const index = await this.#kv.get<string>(["secret", secretHash]);
    if (!index.value) return null;
    const sat = await this.getSatellite(index.value);
    if (!sat || sat.revokedAt || !sat.deviceSecretHash) return null;
    return timingSafeEqualText(sat.deviceSecretHash, secretHash) ? sat : null;
  }

  async revokeSatellite(name: string, now: Date): Promise<SatelliteRecord | null> {
    const revoked = await this.#mutateSatellite(name, (current) => {
      if (current.revokedAt) return null;
      const next: SatelliteRecord = {
        ...current,
        revokedAt: now.toISOString(),
        tokenHash: null,
        tokenExpiresAt: null,
        deviceSecretHash: null,
      };
      return {
        next,
        op: (a) => {
          if (current.tokenHash) a.delete(["token", current.tokenHash]);
          if (current.deviceSecretHash) a.delete(["secret", current.deviceSecretHash]);
          return a;
        },
      };
    });
    return revoked ?? await this.getSatellite(name);
  }

  async recordSeen(name: string, seen: SeenRecord): Promise<void> {
    await this.#kv.set(["seen", name], seen);
  }

  async recordSeenMany(entries: readonly (readonly [string, SeenRecord])[]): Promise<void> {
    // Well under KV's per-commit limits (1000 mutations, 800 KiB) for status summaries.
    for (let i = 0; i < entries.length; i += SEEN_PER_COMMIT) {
      const op = this.#kv.atomic();
      for (const [name, seen] of entries.slice(i, i + SEEN_PER_COMMIT)) op.set(["seen", name], seen);
      if (!(await op.commit()).ok) throw new Error("recording status reports failed");
    }
  }

  async getSeen(name: string): Promise<SeenRecord | null> {
    return (await this.#kv.get<SeenRecord>(["seen", name])).value;
  }

  async listSeen(): Promise<Map<string, SeenRecord>> {
    const out = new Map<string, SeenRecord>();
    for await (const entry of this.#kv.list<SeenRecord>({ prefix: ["seen"] }, { batchSize: 500 })) {
      out.set(entry.key[1] as string, entry.value);
    }
    return out;
  }

  async markPublished(kind: StateKind, name: string, push: PublishRecord): Promise<void> {
    const key = kind === "group" ? ["group", name] : [SAT, name];
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await this.#kv.get<{ published: PublishRecord }>(key);
      if (!current.value || current.value.published.seq >= push.seq) return;
      const next = { ...current.value, published: push };
      const ok = (await this.#kv.atomic().check(current).set(key, next).commit()).ok;
      if (kind === "satellite") this.#invalidate(name);
      if (ok) return;
    }
    throw new Error(`could not record the push of ${kind} ${name}: too much contention`);
  }

  async listDirty(kind: StateKind): Promise<string[]> {
    const out: string[] = [];
    const prefix = kind === "group" ? ["group"] : [SAT];
    for await (const entry of this.#kv.list<GroupHead | SatelliteRecord>({ prefix }, { batchSize: 500 })) {
      const v = entry.value;
      const revoked = "revokedAt" in v && v.revokedAt !== null;
      if (!revoked && v.revision > v.published.revision) out.push(v.name);
    }
    return out;
  }

  close(): Promise<void> {
    this.#satCache.clear();
    this.#kv.close();
    return Promise.resolve();
  }

  #invalidate(name: string): void {
    this.#satCache.delete(name);
    this.#satGeneration.set(name, (this.#satGeneration.get(name) ?? 0) + 1);
  }

  async #withState(head: GroupHead): Promise<GroupRecord> {
    const state = await readChunks(this.#kv, ["groupdata", head.name, head.generation], head.chunks);
    return { ...summaryOf(head), state: state as GroupState };
  }

  /** Optimistic read-modify-write of one satellite plus extra mutations in the same commit. */
  async #mutateSatellite(
    name: string,
    plan: (current: SatelliteRecord) => {
      next: SatelliteRecord;
      op: (a: Deno.AtomicOperation) => Deno.AtomicOperation;
    } | null,
  ): Promise<SatelliteRecord | null> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const entry = await this.#kv.get<SatelliteRecord>([SAT, name]);
      if (!entry.value) return null;
      const planned = plan(entry.value);
      if (!planned) return null;
      const op = planned.op(this.#kv.atomic().check(entry).set([SAT, name], planned.next));
      const ok = (await op.commit()).ok;
      this.#invalidate(name);
      if (ok) return planned.next;
    }
    throw new Error(`could not update satellite ${name}: too much contention`);
  }
}

function summaryOf(head: GroupHead): GroupSummary {
  return {
    name: head.name,
    updatedAt: head.updatedAt,
    revision: head.revision,
    published: head.published,
    artifactCount: head.artifactCount,
  };
}
