/**
 * Ground Control: its configuration and the bodies of its admin API (groups, satellites, fleet).
 * The OpenAPI description at `/openapi.json` is generated from these same schemas.
 *
 * @example
 * ```ts
 * import { ControlConfig, PutGroupRequest } from "./control.ts";
 * ControlConfig.parse({ registry: { url: "http://127.0.0.1:5000" } });
 * PutGroupRequest.parse({ artifacts: [{ repository: "library/nginx", tags: ["1.25"] }] });
 * ```
 * @module
 */
import { z } from "zod";
import { GroupName, GroupState } from "./group_state.ts";
import { Digest, RepositoryName, Tag } from "./oci.ts";
import { BasicCredentials, ListenAddress } from "./satellite_config.ts";
import { LogLevel, OtaConfig } from "./satellite_state.ts";
import { AppliedStates, ArtifactCounts } from "./status.ts";
import { DeviceInfo } from "./registration.ts";

const Timestamp = z.iso.datetime({ offset: true });
const HttpUrl = z.url({ protocol: /^https?$/, error: "must be an http(s) URL, e.g. http://127.0.0.1:5000" });

/**
 * A token bucket: `ratePerSecond` refill, up to `burst` requests at once.
 *
 * @example
 * ```ts
 * RateLimit.parse({ ratePerSecond: 2, burst: 10 });
 * ```
 */
export const RateLimit = z.object({
  ratePerSecond: z.number().positive().max(1_000_000),
  burst: z.number().int().min(1).max(1_000_000),
});
/** A rate limit. */
export type RateLimit = z.infer<typeof RateLimit>;

/**
 * Ground Control's configuration (env and flags are mapped onto this by `control/config.ts`).
 *
 * @example
 * ```ts
 * const cfg = ControlConfig.parse({ registry: { url: "http://127.0.0.1:5000" } });
 * cfg.registry.namespace; // "satellite"
 * ```
 */
export const ControlConfig = z.object({
  listen: ListenAddress.default("127.0.0.1:8080"),
  /** How satellites reach Ground Control (defaults to `http://<listen>`). */
  publicUrl: HttpUrl.optional(),
  /** The Deno KV file; `:memory:` keeps everything in memory (tests only). */
  dataPath: z.string().min(1).default("./data/control.kv"),
  registry: z.object({
    /** The central registry as Ground Control reaches it. */
    url: HttpUrl,
    /** The central registry as satellites reach it (defaults to `url`). */
    publicUrl: HttpUrl.optional(),
    /** Credentials Ground Control pushes state artifacts with. */
    pushCredentials: BasicCredentials.optional(),
    /** Repository namespace of state artifacts: `<ns>/group-state/<g>`, `<ns>/satellite-state/<s>`. */
    namespace: RepositoryName.default("satellite"),
  }),
  /** Static pull credentials handed to every satellite (when the registry needs any). */
  pullCredentials: BasicCredentials.optional(),
  /** The initial admin token (from `GROUND_CONTROL_ADMIN_TOKEN`); generated and printed once if absent. */
  adminToken: z.string().min(16, "must be at least 16 characters").optional(),
  /** Expected seconds between status reports; lifecycle (online/stale/offline) is derived from it. */
  reportIntervalSeconds: z.number().int().min(1).max(86_400).default(60),
  /** Lifetime of registration tokens. */
  tokenTtlSeconds: z.number().int().min(1).max(30 * 86_400).default(86_400),
  /** Largest request body accepted. */
  maxBodyBytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
  /** Token buckets per credential: device secret, admin token, registration token. */
  rateLimits: z.object({
    device: RateLimit.default({ ratePerSecond: 1, burst: 10 }),
    admin: RateLimit.default({ ratePerSecond: 200, burst: 1000 }),
    registration: RateLimit.default({ ratePerSecond: 1, burst: 10 }),
  }).default({
    device: { ratePerSecond: 1, burst: 10 },
    admin: { ratePerSecond: 200, burst: 1000 },
    registration: { ratePerSecond: 1, burst: 10 },
  }),
  /**
   * Satellite states are published in the background, coalesced per satellite, with this many
   * concurrent pushes (so registering 10,000 devices does not wait on 10,000 pushes one by one).
   */
  publishConcurrency: z.number().int().min(1).max(64).default(8),
  /** Lowest log level written. */
  logLevel: LogLevel.default("info"),
});
/** Ground Control configuration. */
export type ControlConfig = z.infer<typeof ControlConfig>;
/** Ground Control configuration as written. */
export type ControlConfigInput = z.input<typeof ControlConfig>;

/**
 * Satellite names become a repository path part, so they follow the group-name grammar.
 *
 * @example
 * ```ts
 * SatelliteName.parse("shop-001");
 * ```
 */
export const SatelliteName = GroupName;

/**
 * One artifact of a `PUT /api/groups/{name}` body: a repository with tags and/or a digest. Tags are
 * resolved against the central registry; a digest is checked to exist there.
 *
 * @example
 * ```ts
 * ArtifactSpec.parse({ repository: "library/nginx", tags: ["1.25"] });
 * ```
 */
export const ArtifactSpec = z.object({
  repository: RepositoryName,
  tags: z.array(Tag).max(100).optional(),
  digest: Digest.optional(),
  type: z.string().min(1).max(64).default("IMAGE"),
}).refine((a) => (a.tags?.length ?? 0) > 0 || a.digest !== undefined, {
  message: "give tags, a digest, or both",
  path: ["tags"],
});
/** An artifact spec. */
export type ArtifactSpec = z.infer<typeof ArtifactSpec>;

/**
 * Body of `PUT /api/groups/{name}`.
 *
 * @example
 * ```ts
 * PutGroupRequest.parse({ artifacts: [{ repository: "a/b", digest: "sha256:" + "a".repeat(64) }] });
 * ```
 */
export const PutGroupRequest = z.object({
  artifacts: z.array(ArtifactSpec).max(10_000),
});
/** A put-group body. */
export type PutGroupRequest = z.infer<typeof PutGroupRequest>;

/**
 * Body of `POST /api/groups/sync`: the Harbor registry adapter's payload, a group state with `group`.
 *
 * @example
 * ```ts
 * GroupSyncRequest.parse({ group: "g", registry: "harbor", artifacts: [] });
 * ```
 */
export const GroupSyncRequest = GroupState.extend({ group: GroupName });
/** A group sync body. */
export type GroupSyncRequest = z.infer<typeof GroupSyncRequest>;

/**
 * A published state artifact: where it is and which version.
 *
 * @example
 * ```ts
 * PublishedState.parse({ reference: "r:5000/satellite/group-state/g:latest", seq: 1, digest: null });
 * ```
 */
export const PublishedState = z.object({
  reference: z.string(),
  seq: z.number().int().nonnegative(),
  /** Manifest digest of the latest pushed version; null until the first push succeeded. */
  digest: Digest.nullable(),
});
/** A published state. */
export type PublishedState = z.infer<typeof PublishedState>;

/**
 * A group as the API shows it.
 *
 * @example
 * ```ts
 * GroupView.parse({ name: "g", state: { registry: "r", artifacts: [] }, updatedAt: new Date().toISOString(), published: { reference: "x", seq: 1, digest: null } });
 * ```
 */
export const GroupView = z.object({
  name: GroupName,
  state: GroupState,
  updatedAt: Timestamp,
  published: PublishedState,
});
/** A group view. */
export type GroupView = z.infer<typeof GroupView>;

/** Satellite lifecycle, derived from timestamps and the report interval. */
export const Lifecycle = z.enum(["pending", "online", "stale", "offline", "revoked"]);
/** A lifecycle state. */
export type Lifecycle = z.infer<typeof Lifecycle>;

/**
 * Body of `POST /api/satellites`.
 *
 * @example
 * ```ts
 * CreateSatelliteRequest.parse({ name: "shop-001", groups: ["stores-eu"] });
 * ```
 */
export const CreateSatelliteRequest = z.object({
  name: SatelliteName,
  groups: z.array(GroupName).max(100).default([]),
  config: OtaConfig.optional(),
});
/** A create-satellite body. */
export type CreateSatelliteRequest = z.infer<typeof CreateSatelliteRequest>;

/**
 * Body of `PATCH /api/satellites/{name}`: each field given replaces the stored one.
 *
 * @example
 * ```ts
 * PatchSatelliteRequest.parse({ groups: ["stores-eu", "kiosk"] });
 * ```
 */
export const PatchSatelliteRequest = z.object({
  groups: z.array(GroupName).max(100).optional(),
  config: OtaConfig.optional(),
}).refine((p) => p.groups !== undefined || p.config !== undefined, {
  message: "give groups, config, or both",
  path: ["groups"],
});
/** A patch-satellite body. */
export type PatchSatelliteRequest = z.infer<typeof PatchSatelliteRequest>;

/**
 * A freshly issued registration token (shown once; only its hash is stored).
 *
 * @example
 * ```ts
 * RegistrationTokenResponse.parse({ satellite: "s", token: "t".repeat(22), expiresAt: new Date().toISOString() });
 * ```
 */
export const RegistrationTokenResponse = z.object({
  satellite: SatelliteName,
  token: z.string(),
  expiresAt: Timestamp,
  /** Where the device exchanges the token (`POST <url>/ztr`): what provisioning writes next to it. */
  groundControlUrl: z.string().optional(),
});
/** A registration token response. */
export type RegistrationTokenResponse = z.infer<typeof RegistrationTokenResponse>;

/**
 * The latest status report, summarised.
 *
 * @example
 * ```ts
 * StatusSummary.parse({ reportedAt: new Date().toISOString(), applied: { groups: {} }, counts: {}, lastError: null, diskFree: null, version: "0.1.0" });
 * ```
 */
export const StatusSummary = z.object({
  reportedAt: Timestamp,
  applied: AppliedStates,
  counts: ArtifactCounts,
  lastError: z.string().nullable(),
  diskFree: z.number().nullable(),
  version: z.string(),
});
/** A status summary. */
export type StatusSummary = z.infer<typeof StatusSummary>;

/**
 * A satellite as the API shows it.
 *
 * @example
 * ```ts
 * SatelliteView.shape.lifecycle.parse("pending");
 * ```
 */
export const SatelliteView = z.object({
  name: SatelliteName,
  groups: z.array(GroupName),
  config: OtaConfig,
  lifecycle: Lifecycle,
  createdAt: Timestamp,
  registeredAt: Timestamp.nullable(),
  lastSeenAt: Timestamp.nullable(),
  revokedAt: Timestamp.nullable(),
  device: DeviceInfo.nullable(),
  published: PublishedState,
  status: StatusSummary.nullable(),
  /** True when the last report's applied digests differ from the desired ones. */
  drift: z.boolean(),
});
/** A satellite view. */
export type SatelliteView = z.infer<typeof SatelliteView>;

/**
 * `GET /api/fleet`: counts per lifecycle state and the satellites that have drifted.
 *
 * @example
 * ```ts
 * FleetOverview.parse({ total: 0, counts: { pending: 0, online: 0, stale: 0, offline: 0, revoked: 0 }, drifted: [] });
 * ```
 */
export const FleetOverview = z.object({
  total: z.number().int().nonnegative(),
  counts: z.record(Lifecycle, z.number().int().nonnegative()),
  drifted: z.array(z.object({
    name: SatelliteName,
    lifecycle: Lifecycle,
    desired: z.object({ satellite: Digest.optional(), groups: z.record(z.string(), Digest) }),
    reported: AppliedStates,
  })),
});
/** A fleet overview. */
export type FleetOverview = z.infer<typeof FleetOverview>;

/**
 * Every 4xx/5xx body: a machine code, a sentence, and one issue per bad field.
 *
 * @example
 * ```ts
 * ApiError.parse({ error: { code: "invalid_request", message: "bad", issues: [{ path: "name", message: "required" }] } });
 * ```
 */
export const ApiError = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    issues: z.array(z.object({ path: z.string(), message: z.string() })),
  }),
});
/** An API error body. */
export type ApiError = z.infer<typeof ApiError>;
