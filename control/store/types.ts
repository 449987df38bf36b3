/**
 * The contract between Ground Control and its store. Deno KV (`kv.ts`) is the embedded default; a
 * PostgreSQL backend implements the same interface and runs the same contract tests
 * (`contract.ts`). Secrets never reach the store: tokens and device secrets arrive as sha256 hashes.
 *
 * Status reports (`lastSeenAt` and the report summary) live apart from the satellite record, so
 * the hot status path is one write that never conflicts with admin edits.
 *
 * @example
 * ```ts
 * import type { ControlStore } from "./types.ts";
 * async function groupNames(store: ControlStore) {
 *   return (await store.listGroups()).map((g) => g.name);
 * }
 * ```
 * @module
 */
import type { GroupState } from "../../schemas/group_state.ts";
import type { OtaConfig } from "../../schemas/satellite_state.ts";
import type { StatusSummary } from "../../schemas/control.ts";
import type { DeviceInfo } from "../../schemas/registration.ts";

/** Which kind of state artifact. */
export type StateKind = "group" | "satellite";

/**
 * What was last pushed to the registry for one state (seq 0 / digest null: nothing yet). The
 * record's `revision` counts its changes; when it is ahead of `revision` here, a push is due.
 */
export interface PublishRecord {
  /** Seq of the last successful push. */
  seq: number;
  /** Manifest digest of the last successful push. */
  digest: string | null;
  /** The record revision that push carried. */
  revision: number;
}

/** A group with its state. */
export interface GroupRecord {
  name: string;
  state: GroupState;
  updatedAt: string;
  /** Bumped by every change of `state`. */
  revision: number;
  published: PublishRecord;
}

/** A group without its (possibly large) state: what the hot status path needs. */
export interface GroupSummary {
  name: string;
  updatedAt: string;
  revision: number;
  published: PublishRecord;
  artifactCount: number;
}

/** A satellite (device). Lifecycle is derived from the timestamps, never stored. */
export interface SatelliteRecord {
  name: string;
  groups: string[];
  config: OtaConfig;
  createdAt: string;
  registeredAt: string | null;
  revokedAt: string | null;
  device: DeviceInfo | null;
  /** sha256 of the current registration token (null once redeemed). */
  tokenHash: string | null;
  tokenExpiresAt: string | null;
  /** sha256 of the device secret (null before registration and after revocation). */
  deviceSecretHash: string | null;
  /** Bumped by every change of what the satellite state holds (groups, config). */
  revision: number;
  published: PublishRecord;
}

/** The latest status report of a satellite. */
export interface SeenRecord {
  lastSeenAt: string;
  status: StatusSummary;
}

/** An admin token (the token itself is never stored). */
export interface AdminTokenRecord {
  /** sha256 of the token. */
  hash: string;
  /** Short id used to key rate limits and logs. */
  id: string;
  label: string;
  createdAt: string;
}

/** What redeeming a registration token needs. */
export interface RedeemRequest {
  tokenHash: string;
  deviceSecretHash: string;
  device: DeviceInfo | null;
  now: Date;
}

/** Pieces a satellite update may change. */
export type SatelliteUpdate = (current: SatelliteRecord) => SatelliteRecord | null;

/** The store. Every method is safe to call concurrently from many requests. */
export interface ControlStore {
  /** The state-signing key (PKCS#8 base64): stores `candidate` when none exists, returns the kept one. */
  ensureSigningKey(candidate: () => Promise<string>): Promise<string>;
  /** Allocates the next state seq for a name; never returns the same number twice, across restarts. */
  nextSeq(kind: StateKind, name: string): Promise<number>;

  addAdminToken(record: AdminTokenRecord): Promise<void>;
  findAdminToken(hash: string): Promise<AdminTokenRecord | null>;
  countAdminTokens(): Promise<number>;

  getGroup(name: string): Promise<GroupRecord | null>;
  listGroups(): Promise<GroupRecord[]>;
  /** Summaries of the named groups that exist (cheap: no state bodies). */
  getGroupSummaries(names: readonly string[]): Promise<Map<string, GroupSummary>>;
  /** Creates or replaces a group (bumping its revision: a push is due). */
  putGroup(name: string, state: GroupState, now: Date): Promise<GroupRecord>;
  /** Removes a group; false when it did not exist. */
  deleteGroup(name: string): Promise<boolean>;

  /** Creates a satellite with its first registration token; false when the name is taken. */
  createSatellite(record: SatelliteRecord, tokenExpiresAt: string): Promise<boolean>;
  getSatellite(name: string): Promise<SatelliteRecord | null>;
  listSatellites(): Promise<SatelliteRecord[]>;
  /**
   * Read-modify-write with optimistic concurrency: `update` may run more than once and returns the
   * new record (or null to leave it alone). Returns the stored result, or null when absent/unchanged.
   */
  updateSatellite(name: string, update: SatelliteUpdate): Promise<SatelliteRecord | null>;
  /** Replaces the registration token (the previous one dies). Null when absent or revoked. */
  issueToken(name: string, tokenHash: string, expiresAt: string): Promise<SatelliteRecord | null>;
  /**
   * Exchanges a registration token atomically: of concurrent calls with one token exactly one gets
   * the satellite; unknown, used, expired or revoked all give null.
   */
  redeemToken(request: RedeemRequest): Promise<SatelliteRecord | null>;
  /** The satellite a device secret belongs to (null when unknown or revoked). */
  findBySecret(secretHash: string): Promise<SatelliteRecord | null>;
  /** Revokes: the device secret and any token die. Null when absent; idempotent. */
  revokeSatellite(name: string, now: Date): Promise<SatelliteRecord | null>;

  recordSeen(name: string, seen: SeenRecord): Promise<void>;
  /** Records many status reports in as few commits as the backend allows (group commit). */
  recordSeenMany(entries: readonly (readonly [string, SeenRecord])[]): Promise<void>;
  getSeen(name: string): Promise<SeenRecord | null>;
  listSeen(): Promise<Map<string, SeenRecord>>;

  /** Records a successful push of `revision` unless a newer seq was already recorded. */
  markPublished(kind: StateKind, name: string, push: PublishRecord): Promise<void>;
  /** Names whose revision is ahead of their last push (resumed after a restart). */
  listDirty(kind: StateKind): Promise<string[]>;

  close(): Promise<void>;
}
