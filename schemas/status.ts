/**
 * The status channel between a satellite and Ground Control: the report a satellite sends
 * (`POST` body), the answer Ground Control gives, and the entries a satellite queues in its outbox
 * while Ground Control is unreachable.
 *
 * Ground Control does not carry image bytes; the report is how it learns what a device holds, how
 * far it got, and what went wrong. The response tells the device which state digests are current
 * and carries rotated registry credentials.
 *
 * @example
 * ```ts
 * import { StatusReport, StatusResponse } from "./status.ts";
 * StatusReport.parse({
 *   satellite: "shop-001",
 *   reportedAt: new Date().toISOString(),
 *   versions: { satellite: "0.1.0", deno: "2.9.5" },
 * });
 * StatusResponse.parse({ desired: { groups: {} } });
 * ```
 * @module
 */
import { z } from "zod";
import { GroupName } from "./group_state.ts";
import { Digest, RepositoryName, Tag } from "./oci.ts";
import { AppliedState } from "./satellite_state.ts";

const Timestamp = z.iso.datetime({
  offset: true,
  error: "must be an ISO 8601 date-time, e.g. 2025-01-31T12:00:00Z",
});
const ByteCount = z.number().int().nonnegative();

/**
 * Something that happened on the device, queued and reported with the next status report.
 * `kind` is a short machine-readable name (`sync.failed`, `credentials.rotated`, ...).
 *
 * @example
 * ```ts
 * StatusEvent.parse({ at: "2025-01-31T12:00:00Z", kind: "sync.failed", message: "blob digest mismatch" });
 * ```
 */
export const StatusEvent = z.object({
  at: Timestamp,
  kind: z.string().min(1).max(64),
  message: z.string().max(4096),
  data: z.record(z.string(), z.unknown()).optional(),
});
/** An event. */
export type StatusEvent = z.infer<typeof StatusEvent>;

/** What happened to one artifact of the desired set. */
export const ArtifactStatus = z.enum(["synced", "pending", "failed", "removed"]);
/** An artifact status. */
export type ArtifactStatus = z.infer<typeof ArtifactStatus>;

/**
 * The result for one artifact (by digest; tags are informative).
 *
 * @example
 * ```ts
 * ArtifactResult.parse({ repository: "library/nginx", digest: "sha256:" + "a".repeat(64), status: "synced" });
 * ```
 */
export const ArtifactResult = z.object({
  repository: RepositoryName,
  digest: Digest,
  tags: z.array(Tag).optional(),
  status: ArtifactStatus,
  /** Why it failed (only with `status: "failed"`). */
  error: z.string().max(4096).optional(),
});
/** One artifact result. */
export type ArtifactResult = z.infer<typeof ArtifactResult>;

/**
 * Digests of the state artifacts, keyed by group name, plus the satellite's own state.
 * Used both for what a satellite applied and for what Ground Control wants.
 *
 * @example
 * ```ts
 * AppliedStates.parse({ satellite: { digest: "sha256:" + "a".repeat(64), seq: 3 }, groups: {} });
 * ```
 */
export const AppliedStates = z.object({
  satellite: AppliedState.optional(),
  groups: z.record(GroupName, AppliedState).default({}),
});
/** Applied state records. */
export type AppliedStates = z.infer<typeof AppliedStates>;

/**
 * Counts over the desired set.
 *
 * @example
 * ```ts
 * ArtifactCounts.parse({ desired: 3, synced: 2, failed: 1 });
 * ```
 */
export const ArtifactCounts = z.object({
  desired: z.number().int().nonnegative().default(0),
  synced: z.number().int().nonnegative().default(0),
  pending: z.number().int().nonnegative().default(0),
  failed: z.number().int().nonnegative().default(0),
});
/** Artifact counts. */
export type ArtifactCounts = z.infer<typeof ArtifactCounts>;

/**
 * A status report, the body a satellite `POST`s to Ground Control.
 *
 * @example
 * ```ts
 * StatusReport.parse({
 *   satellite: "shop-001",
 *   reportedAt: "2025-01-31T12:00:00Z",
 *   applied: { groups: { "stores-eu": { digest: "sha256:" + "b".repeat(64), seq: 7 } } },
 *   counts: { desired: 1, synced: 1 },
 *   bytesSynced: 1048576,
 *   diskFree: 8_000_000_000,
 *   versions: { satellite: "0.1.0", deno: "2.9.5" },
 * });
 * ```
 */
export const StatusReport = z.object({
  /** The satellite's name (Ground Control still checks it against the device secret). */
  satellite: z.string().min(1).max(253),
  reportedAt: Timestamp,
  applied: AppliedStates.default({ groups: {} }),
  artifacts: z.array(ArtifactResult).default([]),
  counts: ArtifactCounts.default({ desired: 0, synced: 0, pending: 0, failed: 0 }),
  /** Bytes fetched from the central registry since the process started. */
  bytesSynced: ByteCount.default(0),
  /** Free bytes on the data volume; null when unknown. */
  diskFree: ByteCount.nullable().default(null),
  lastError: z.string().max(4096).nullable().default(null),
  versions: z.object({ satellite: z.string().min(1), deno: z.string().min(1) }),
  /** Events queued since the last delivered report, oldest first. */
  events: z.array(StatusEvent).default([]),
  /** Outbox entries the device had to drop (oldest first) because its queue was full. */
  dropped: z.number().int().nonnegative().default(0),
});
/** A status report. */
export type StatusReport = z.infer<typeof StatusReport>;
/** A status report as written (defaults optional). */
export type StatusReportInput = z.input<typeof StatusReport>;

/**
 * Registry pull credentials that replace the current ones before they expire.
 *
 * @example
 * ```ts
 * RotatedCredentials.parse({ username: "robot$shop-001", password: "s3cret", expiresAt: "2025-03-01T00:00:00Z" });
 * ```
 */
export const RotatedCredentials = z.object({
  username: z.string().min(1),
  password: z.string().min(1),
  expiresAt: Timestamp,
});
/** Rotated credentials. */
export type RotatedCredentials = z.infer<typeof RotatedCredentials>;

/**
 * Ground Control's answer to a status report.
 *
 * @example
 * ```ts
 * StatusResponse.parse({
 *   desired: { groups: { "stores-eu": "sha256:" + "b".repeat(64) } },
 *   credentials: { username: "robot$shop-001", password: "s3cret", expiresAt: "2025-03-01T00:00:00Z" },
 * });
 * ```
 */
export const StatusResponse = z.object({
  /** Digests of the state artifacts Ground Control last published for this satellite and its groups. */
  desired: z.object({
    satellite: Digest.optional(),
    groups: z.record(GroupName, Digest).default({}),
  }),
  credentials: RotatedCredentials.optional(),
});
/** A status response. */
export type StatusResponse = z.infer<typeof StatusResponse>;

/**
 * One queued outbox entry: a whole status report or a single event.
 *
 * @example
 * ```ts
 * OutboxEntry.parse({ type: "event", event: { at: "2025-01-31T12:00:00Z", kind: "boot", message: "started" } });
 * ```
 */
export const OutboxEntry = z.discriminatedUnion("type", [
  z.object({ type: z.literal("status"), report: StatusReport }),
  z.object({ type: z.literal("event"), event: StatusEvent }),
]);
/** An outbox entry. */
export type OutboxEntry = z.infer<typeof OutboxEntry>;
