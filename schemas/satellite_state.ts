/**
 * Satellite state (one per device) and the signed state envelope that packs group and satellite
 * states into OCI 1.1 artifacts.
 *
 * @example
 * ```ts
 * import { SatelliteState } from "./satellite_state.ts";
 * SatelliteState.parse({ satellite: "shop-001", groups: [], config: {} });
 * ```
 * @module
 */
import { z } from "zod";
import { BandwidthPolicy } from "./bandwidth.ts";
import { GroupName, GroupState } from "./group_state.ts";
import { Digest, Platform } from "./oci.ts";

/** Log levels, lowest first. */
export const LogLevel = z.enum(["debug", "info", "warn", "error"]);
/** A log level. */
export type LogLevel = z.infer<typeof LogLevel>;

/**
 * How often a satellite polls: a cron expression, or an interval in seconds; jitter spreads a fleet.
 *
 * @example
 * ```ts
 * PollSchedule.parse({ intervalSeconds: 30, jitterSeconds: 5 });
 * ```
 */
export const PollSchedule = z.object({
  cron: z.string().min(1).optional().describe(
    "a cron expression (croner syntax, e.g. `*/5 * * * *`); when set it is used instead of `intervalSeconds`",
  ),
  intervalSeconds: z.number().int().min(1).max(86_400).default(30).describe("seconds between polls"),
  jitterSeconds: z.number().min(0).max(3_600).default(3).describe(
    "up to this many random seconds added to each wait, so a fleet does not poll in lockstep",
  ),
});
/** A poll schedule. */
export type PollSchedule = z.infer<typeof PollSchedule>;

/**
 * Configuration sent over the air inside the satellite state.
 *
 * @example
 * ```ts
 * OtaConfig.parse({ logLevel: "debug" });
 * ```
 */
export const OtaConfig = z.object({
  poll: PollSchedule.default({ intervalSeconds: 30, jitterSeconds: 3 }).describe(
    "when the satellite polls its state (a steady-state poll is a few HEAD requests)",
  ),
  bandwidth: BandwidthPolicy.default({ defaultRate: 0, windows: [], syncWindows: [], timeZone: "UTC" })
    .describe("caps and windows for image data (state polls and status reports are not throttled)"),
  logLevel: LogLevel.default("info").describe("the satellite's log level"),
  platforms: z.array(Platform.pick({ os: true, architecture: true, variant: true })).optional().describe(
    "when set, only these platforms of a multi-arch index are fetched (the index itself is kept whole)",
  ),
  concurrency: z.number().int().min(1).max(32).default(4).describe("concurrent blob transfers"),
  reportIntervalSeconds: z.number().int().min(5).max(86_400).default(60).describe(
    "seconds between status reports to Ground Control (one is also sent after each sync)",
  ),
});
/** Over-the-air config. */
export type OtaConfig = z.infer<typeof OtaConfig>;

/**
 * A reference from a satellite state to a group state artifact (`host/ns/group-state/name:latest`).
 *
 * @example
 * ```ts
 * GroupRef.parse({ name: "stores-eu", reference: "127.0.0.1:5000/satellite/group-state/stores-eu:latest" });
 * ```
 */
export const GroupRef = z.object({
  name: GroupName,
  reference: z.string().min(1),
  /** "edge" = this project's signed artifact; "harbor" = upstream Harbor Satellite image with artifacts.json. */
  format: z.enum(["edge", "harbor"]).default("edge"),
});
/** A group reference. */
export type GroupRef = z.infer<typeof GroupRef>;

/**
 * The state of one satellite.
 *
 * @example
 * ```ts
 * SatelliteState.parse({ satellite: "shop-001", groups: [], config: {} });
 * ```
 */
export const SatelliteState = z.object({
  satellite: z.string().min(1),
  groups: z.array(GroupRef),
  config: OtaConfig,
});
/** A satellite state. */
export type SatelliteState = z.infer<typeof SatelliteState>;

/** Envelope fields common to both kinds. */
const EnvelopeBase = z.object({
  /** Group or satellite name. */
  name: z.string().min(1),
  /** Monotonic per name; a satellite refuses anything not greater than what it applied. */
  seq: z.number().int().positive(),
  issuedAt: z.iso.datetime({ offset: true }),
});

/**
 * The JSON layer of a state artifact. The Ed25519 signature covers the exact layer bytes and travels
 * in the manifest annotation {@linkcode STATE_SIGNATURE_ANNOTATION}.
 *
 * @example
 * ```ts
 * StateEnvelope.parse({ kind: "group", name: "g", seq: 1, issuedAt: new Date().toISOString(), state: { registry: "r", artifacts: [] } });
 * ```
 */
export const StateEnvelope = z.discriminatedUnion("kind", [
  EnvelopeBase.extend({ kind: z.literal("group"), state: GroupState }),
  EnvelopeBase.extend({ kind: z.literal("satellite"), state: SatelliteState }),
]);
/** A state envelope. */
export type StateEnvelope = z.infer<typeof StateEnvelope>;

/** artifactType of state artifacts. */
export const STATE_ARTIFACT_TYPE = "application/vnd.edge-registry.state.v1+json";
/** Media type of the single JSON layer. */
export const STATE_LAYER_MEDIA_TYPE = "application/vnd.edge-registry.state.envelope.v1+json";
/** Manifest annotation: base64 Ed25519 signature over the layer bytes. */
export const STATE_SIGNATURE_ANNOTATION = "dev.edge-registry.state.signature";
/** Manifest annotation: id (sha256 of the raw public key) of the signing key. */
export const STATE_KEY_ID_ANNOTATION = "dev.edge-registry.state.key-id";
/** Manifest annotation: the envelope's sequence number, for humans and HEAD-only tooling. */
export const STATE_SEQ_ANNOTATION = "dev.edge-registry.state.seq";

/**
 * What a satellite records about a state it applied.
 *
 * @example
 * ```ts
 * AppliedState.parse({ digest: "sha256:" + "a".repeat(64), seq: 3 });
 * ```
 */
export const AppliedState = z.object({ digest: Digest, seq: z.number().int().nonnegative() });
/** An applied state record. */
export type AppliedState = z.infer<typeof AppliedState>;
