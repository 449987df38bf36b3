/**
 * What the local registry keeps in memory per manifest (media type, size, subject, artifact type,
 * children), and the name/tag checks its API applies.
 *
 * @example
 * ```ts
 * import { describeManifest } from "./manifest_info.ts";
 * import { parseManifest } from "../manifest.ts";
 * describeManifest(parseManifest(new TextEncoder().encode('{"schemaVersion":2,"manifests":[]}'))).children; // []
 * ```
 * @module
 */
import { RepositoryName, TAG_PATTERN } from "../../schemas/oci.ts";
import { InvalidInputError } from "../errors.ts";
import type { ParsedManifest } from "../manifest.ts";

/** What the registry remembers of a manifest beyond its bytes. */
export interface ManifestInfo {
  digest: string;
  mediaType: string;
  size: number;
  /** `artifactType`, or the config media type of an image manifest (for the referrers API). */
  artifactType?: string;
  annotations?: Record<string, string>;
  /** Digest of the OCI 1.1 `subject`. */
  subject?: string;
  /** Digests of child manifests, config and layers. */
  children: string[];
}

/**
 * The in-memory description of a parsed manifest. `artifactType` falls back to the config media type
 * of an image manifest, as the referrers API specifies.
 *
 * @example
 * ```ts
 * describeManifest(parsed).subject; // digest of the subject, if any
 * ```
 */
export function describeManifest(parsed: ParsedManifest): ManifestInfo {
  const doc = parsed.document;
  return {
    digest: parsed.digest,
    mediaType: parsed.mediaType,
    size: parsed.bytes.byteLength,
    artifactType: doc.artifactType ?? ("config" in doc ? doc.config.mediaType : undefined),
    annotations: doc.annotations,
    subject: parsed.subject?.digest,
    children: parsed.children.map((c) => c.digest),
  };
}

/**
 * Validates a repository name (NAME_INVALID otherwise) and returns it.
 *
 * @example
 * ```ts
 * checkName("library/busybox");
 * ```
 */
export function checkName(name: string): string {
  const result = RepositoryName.safeParse(name);
  if (!result.success) throw new InvalidInputError("repository", result.error.issues[0].message);
  return name;
}

/**
 * Validates a tag (MANIFEST_INVALID otherwise, as the spec has no tag error code) and returns it.
 *
 * @example
 * ```ts
 * checkTag("1.25-alpine");
 * ```
 */
export function checkTag(tag: string): string {
  if (!TAG_PATTERN.test(tag)) {
    throw new InvalidInputError(
      "tag",
      `"${tag}" is not a valid tag: up to 128 of [A-Za-z0-9_.-]`,
      "MANIFEST_INVALID",
    );
  }
  return tag;
}
