/**
 * Zod schemas for the OCI distribution-spec grammar and the OCI image-spec documents
 * (manifests, indexes, descriptors). Docker v2 schema 2 manifests and manifest lists share
 * the same shapes, so one schema accepts both.
 *
 * @example
 * ```ts
 * import { RepositoryName, Digest } from "./oci.ts";
 * RepositoryName.parse("library/busybox");
 * Digest.parse("sha256:" + "a".repeat(64));
 * ```
 * @module
 */
import { z } from "zod";

/** The distribution-spec repository path component grammar. */
const PATH_COMPONENT = "[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*";
/** Full repository name: components joined by single slashes. */
export const REPOSITORY_PATTERN = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
/** Tag grammar from the distribution spec. */
export const TAG_PATTERN = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
/** Digests this project can verify: sha256 (and sha512, verified on read). */
export const DIGEST_PATTERN = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

/**
 * A repository name such as `library/busybox`. Rejects upper case, `..`, empty path parts.
 *
 * @example
 * ```ts
 * RepositoryName.safeParse("../x").success; // false
 * ```
 */
export const RepositoryName = z.string().max(255, "repository name is longer than 255 characters").regex(
  REPOSITORY_PATTERN,
  "must be a lower-case OCI repository path such as library/busybox (a-z, 0-9, separators . _ __ -, parts joined by single /)",
);
/** A repository name. */
export type RepositoryName = z.infer<typeof RepositoryName>;

/**
 * An OCI tag such as `1.25-alpine`.
 *
 * @example
 * ```ts
 * Tag.parse("latest");
 * ```
 */
export const Tag = z.string().regex(
  TAG_PATTERN,
  "must be an OCI tag: up to 128 of [A-Za-z0-9_.-], not starting with . or -",
);
/** A tag. */
export type Tag = z.infer<typeof Tag>;

/**
 * A content digest `sha256:<64 hex>` (or sha512).
 *
 * @example
 * ```ts
 * Digest.parse("sha256:" + "0".repeat(64));
 * ```
 */
export const Digest = z.string().regex(
  DIGEST_PATTERN,
  "must be a digest like sha256:<64 lower-case hex characters>",
);
/** A digest string. */
export type Digest = z.infer<typeof Digest>;

/** A media type, e.g. `application/vnd.oci.image.manifest.v1+json`. */
export const MediaType = z.string().regex(
  /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/,
  "must be a media type like application/vnd.oci.image.manifest.v1+json",
);

/** Annotations: string to string. */
export const Annotations = z.record(z.string(), z.string());

/**
 * The platform of an index entry.
 *
 * @example
 * ```ts
 * Platform.parse({ architecture: "arm64", os: "linux", variant: "v8" });
 * ```
 */
export const Platform = z.object({
  architecture: z.string().min(1),
  os: z.string().min(1),
  "os.version": z.string().optional(),
  "os.features": z.array(z.string()).optional(),
  variant: z.string().optional(),
  features: z.array(z.string()).optional(),
});
/** A platform. */
export type Platform = z.infer<typeof Platform>;

/**
 * An OCI content descriptor.
 *
 * @example
 * ```ts
 * Descriptor.parse({ mediaType: "application/vnd.oci.empty.v1+json", digest: "sha256:" + "4".repeat(64), size: 2 });
 * ```
 */
export const Descriptor = z.object({
  mediaType: MediaType,
  digest: Digest,
  size: z.number().int().nonnegative(),
  urls: z.array(z.string()).optional(),
  annotations: Annotations.optional(),
  data: z.string().optional(),
  artifactType: MediaType.optional(),
  platform: Platform.optional(),
});
/** A descriptor. */
export type Descriptor = z.infer<typeof Descriptor>;

/**
 * An image manifest (OCI 1.1 or Docker v2 schema 2).
 *
 * @example
 * ```ts
 * ImageManifest.safeParse({ schemaVersion: 2, config: {}, layers: [] }).success; // false: config needs a digest
 * ```
 */
export const ImageManifest = z.object({
  schemaVersion: z.literal(2),
  mediaType: MediaType.optional(),
  artifactType: MediaType.optional(),
  config: Descriptor,
  layers: z.array(Descriptor),
  subject: Descriptor.optional(),
  annotations: Annotations.optional(),
});
/** An image manifest. */
export type ImageManifest = z.infer<typeof ImageManifest>;

/**
 * An image index (OCI) or manifest list (Docker).
 *
 * @example
 * ```ts
 * ImageIndex.parse({ schemaVersion: 2, manifests: [] });
 * ```
 */
export const ImageIndex = z.object({
  schemaVersion: z.literal(2),
  mediaType: MediaType.optional(),
  artifactType: MediaType.optional(),
  manifests: z.array(Descriptor),
  subject: Descriptor.optional(),
  annotations: Annotations.optional(),
});
/** An image index. */
export type ImageIndex = z.infer<typeof ImageIndex>;

/**
 * One entry of a distribution-spec error body.
 *
 * @example
 * ```ts
 * ErrorBody.parse({ errors: [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown" }] });
 * ```
 */
export const ErrorBody = z.object({
  errors: z.array(z.object({
    code: z.string(),
    message: z.string().optional().default(""),
    detail: z.unknown().optional(),
  })),
});
/** A distribution-spec error body. */
export type ErrorBody = z.infer<typeof ErrorBody>;

/**
 * A tag list response.
 *
 * @example
 * ```ts
 * TagList.parse({ name: "library/busybox", tags: ["latest"] });
 * ```
 */
export const TagList = z.object({
  name: z.string(),
  tags: z.array(z.string()).nullable().transform((t) => t ?? []),
});
/** A tag list. */
export type TagList = z.infer<typeof TagList>;

/**
 * A catalog response.
 *
 * @example
 * ```ts
 * Catalog.parse({ repositories: ["a/b"] });
 * ```
 */
export const Catalog = z.object({
  repositories: z.array(z.string()).nullable().transform((r) => r ?? []),
});
/** A catalog. */
export type Catalog = z.infer<typeof Catalog>;
