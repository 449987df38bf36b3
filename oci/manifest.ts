/**
 * Parsing manifest bytes into a typed view: media type, digest, and the descriptors it references.
 * The exact bytes are kept, since digests are over bytes, not over re-serialised JSON.
 *
 * @example
 * ```ts
 * import { parseManifest } from "./manifest.ts";
 * const bytes = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [] }));
 * parseManifest(bytes).children.length; // 0
 * ```
 * @module
 */
import { ImageIndex, ImageManifest } from "../schemas/oci.ts";
import type { Descriptor } from "../schemas/oci.ts";
import { toFieldIssues } from "../schemas/validate.ts";
import { sha256Digest } from "./digest.ts";
import {
  DigestMismatchError,
  ManifestInvalidError,
  ManifestTooLargeError,
  MAX_MANIFEST_BYTES,
} from "./errors.ts";
import { detectManifestMediaType, isIndexMediaType, isManifestMediaType } from "./media_types.ts";
import type { ManifestBlob } from "./types.ts";

/** A parsed manifest: the stored blob plus what it points to. */
export interface ParsedManifest extends ManifestBlob {
  /** True for an index or manifest list. */
  isIndex: boolean;
  /** Child manifests (index) or config + layers (image manifest); never the subject. */
  children: Descriptor[];
  /** Present for index entries and manifests with an OCI 1.1 `subject`. */
  subject?: Descriptor;
  /** The parsed document. */
  document: ImageManifest | ImageIndex;
}

/**
 * Parses and validates manifest bytes. `expectedDigest` (when given) must match; `declaredType`
 * (the Content-Type) wins over the body's `mediaType` only when the body has none.
 *
 * @example
 * ```ts
 * import { OCI_INDEX } from "./media_types.ts";
 * parseManifest(new TextEncoder().encode('{"schemaVersion":2,"manifests":[]}'), { declaredType: OCI_INDEX });
 * ```
 */
export function parseManifest(
  bytes: Uint8Array,
  options: { expectedDigest?: string; declaredType?: string } = {},
): ParsedManifest {
  if (bytes.byteLength > MAX_MANIFEST_BYTES) throw new ManifestTooLargeError(bytes.byteLength);
  const digest = sha256Digest(bytes);
  if (
    options.expectedDigest && options.expectedDigest.startsWith("sha256:") &&
    digest !== options.expectedDigest
  ) {
    throw new DigestMismatchError(options.expectedDigest, digest);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    throw new ManifestInvalidError(`not valid JSON (${(e as Error).message})`);
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) {
    throw new ManifestInvalidError("not a JSON object");
  }
  const record = doc as Record<string, unknown>;
  const declared = options.declaredType?.split(";")[0].trim();
  const mediaType = typeof record.mediaType === "string"
    ? record.mediaType
    : declared && isManifestMediaType(declared)
    ? declared
    : detectManifestMediaType(record);
  if (!mediaType || !isManifestMediaType(mediaType)) {
    throw new ManifestInvalidError(`unsupported or missing mediaType ${JSON.stringify(mediaType ?? null)}`);
  }
  if (
    declared && isManifestMediaType(declared) && typeof record.mediaType === "string" &&
    declared !== mediaType
  ) {
    throw new ManifestInvalidError(
      `Content-Type ${declared} does not match the body's mediaType ${mediaType}`,
    );
  }
  const isIndex = isIndexMediaType(mediaType);
  const result = (isIndex ? ImageIndex : ImageManifest).safeParse(doc);
  if (!result.success) {
    throw new ManifestInvalidError(
      toFieldIssues(result.error).map((i) => `${i.path || "(root)"}: ${i.message}`).join("; "),
    );
  }
  const document = result.data;
  const children = "manifests" in document ? document.manifests : [document.config, ...document.layers];
  return { bytes, mediaType, digest, isIndex, children, subject: document.subject, document };
}
