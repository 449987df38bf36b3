/**
 * Zero-touch registration (ZTR): the one-time exchange of a registration token for a device's
 * identity, its device secret (for status calls), registry pull credentials, the reference of its
 * satellite state and the state-signing public key.
 *
 * `POST /ztr` with a {@linkcode ZtrRequest} body answers a {@linkcode ZtrResponse}. An unknown, used
 * or expired token all get the same `401` body, so a caller learns nothing about which it was.
 *
 * @example
 * ```ts
 * import { ZtrRequest, ZtrResponse } from "./registration.ts";
 * ZtrRequest.parse({ token: "a".repeat(32), device: { hostname: "shop-001" } });
 * ZtrResponse.parse({
 *   satellite: { name: "shop-001" },
 *   deviceSecret: "s".repeat(43),
 *   registry: { url: "http://127.0.0.1:5000" },
 *   state: { reference: "127.0.0.1:5000/satellite/satellite-state/shop-001:latest" },
 *   stateSigningKey: { alg: "Ed25519", publicKey: "A".repeat(43) + "=", keyId: "sha256:" + "a".repeat(64) },
 * });
 * ```
 * @module
 */
import { z } from "zod";

const Timestamp = z.iso.datetime({
  offset: true,
  error: "must be an ISO 8601 date-time, e.g. 2025-01-31T12:00:00Z",
});

/**
 * What a device says about itself when it registers (informative; shown in the fleet view).
 *
 * @example
 * ```ts
 * DeviceInfo.parse({ hostname: "shop-001", arch: "arm64", os: "linux", version: "0.1.0" });
 * ```
 */
export const DeviceInfo = z.object({
  hostname: z.string().min(1).max(253).optional(),
  machineId: z.string().min(1).max(128).optional(),
  arch: z.string().min(1).max(32).optional(),
  os: z.string().min(1).max(32).optional(),
  /** The satellite software version. */
  version: z.string().min(1).max(64).optional(),
});
/** Device information. */
export type DeviceInfo = z.infer<typeof DeviceInfo>;

/**
 * A registration token as handed to a device: URL-safe base64 of at least 16 random bytes.
 *
 * @example
 * ```ts
 * RegistrationToken.parse("Zm9vYmFyYmF6cXV4cXV1eA" + "x".repeat(4));
 * ```
 */
export const RegistrationToken = z.string()
  .min(22, "must be the registration token Ground Control issued (at least 22 characters)")
  .max(512, "must be at most 512 characters")
  .regex(/^[A-Za-z0-9_-]+$/, "must be URL-safe base64 (A-Z a-z 0-9 _ -), as Ground Control issued it");

/**
 * The body of `POST /ztr`.
 *
 * @example
 * ```ts
 * ZtrRequest.parse({ token: "t".repeat(43) });
 * ```
 */
export const ZtrRequest = z.object({
  token: RegistrationToken,
  device: DeviceInfo.optional(),
});
/** A ZTR request. */
export type ZtrRequest = z.infer<typeof ZtrRequest>;

/**
 * Registry pull credentials; `expiresAt` is present when they rotate (they are then renewed through
 * the status channel before they expire).
 *
 * @example
 * ```ts
 * RegistryCredentials.parse({ username: "robot$shop-001", password: "p" });
 * ```
 */
export const RegistryCredentials = z.object({
  username: z.string().min(1),
  password: z.string().min(1),
  expiresAt: Timestamp.optional(),
});
/** Registry credentials. */
export type RegistryCredentials = z.infer<typeof RegistryCredentials>;

/**
 * Where a satellite pulls its state and images from.
 *
 * @example
 * ```ts
 * RegistryAccess.parse({ url: "http://127.0.0.1:5000" });
 * ```
 */
export const RegistryAccess = z.object({
  /** Base URL of the central registry, e.g. `http://127.0.0.1:5000` or `https://harbor.example.com`. */
  url: z.url({ protocol: /^https?$/, error: "must be an http(s) URL, e.g. https://harbor.example.com" }),
  credentials: RegistryCredentials.optional(),
});
/** Registry access. */
export type RegistryAccess = z.infer<typeof RegistryAccess>;

/**
 * The public half of the state-signing key (raw 32-byte Ed25519 key, base64) and its id
 * (`sha256:` of the raw key), as `state/keys.ts` produces them.
 *
 * @example
 * ```ts
 * StateSigningPublicKey.parse({ alg: "Ed25519", publicKey: "A".repeat(43) + "=", keyId: "sha256:" + "a".repeat(64) });
 * ```
 */
export const StateSigningPublicKey = z.object({
  alg: z.literal("Ed25519"),
  publicKey: z.string().regex(/^[A-Za-z0-9+/]{43}=$/, "must be a raw 32-byte Ed25519 public key in base64"),
  keyId: z.string().regex(/^sha256:[a-f0-9]{64}$/, "must be sha256:<hex> of the raw public key"),
});
/** A state-signing public key. */
export type StateSigningPublicKey = z.infer<typeof StateSigningPublicKey>;

/**
 * The answer to a successful `POST /ztr`.
 *
 * @example
 * ```ts
 * const r = ZtrResponse.parse({
 *   satellite: { name: "shop-001" },
 *   deviceSecret: "s".repeat(43),
 *   registry: { url: "http://127.0.0.1:5000", credentials: { username: "u", password: "p" } },
 *   state: { reference: "127.0.0.1:5000/satellite/satellite-state/shop-001:latest" },
 *   stateSigningKey: { alg: "Ed25519", publicKey: "A".repeat(43) + "=", keyId: "sha256:" + "a".repeat(64) },
 * });
 * ```
 */
export const ZtrResponse = z.object({
  satellite: z.object({ name: z.string().min(1) }),
  /** Sent as `Authorization: Bearer <deviceSecret>` on `POST /api/device/status`. */
  deviceSecret: z.string().min(22),
  registry: RegistryAccess,
  /** The satellite state artifact: `<registry host>/<ns>/satellite-state/<name>:latest`. */
  state: z.object({ reference: z.string().min(1) }),
  stateSigningKey: StateSigningPublicKey,
});
/** A ZTR response. */
export type ZtrResponse = z.infer<typeof ZtrResponse>;
