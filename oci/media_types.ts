/**
 * Media types of the OCI image spec and Docker's v2 schema 2, with helpers to classify them.
 *
 * @example
 * ```ts
 * import { isIndexMediaType, OCI_INDEX } from "./media_types.ts";
 * isIndexMediaType(OCI_INDEX); // true
 * ```
 * @module
 */

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
export const OCI_LAYER = "application/vnd.oci.image.layer.v1.tar";
export const OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
export const OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd";
export const OCI_EMPTY = "application/vnd.oci.empty.v1+json";
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
export const DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
export const DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
export const DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/** The empty JSON config `{}` that OCI 1.1 artifacts use, as a descriptor. */
export const EMPTY_DESCRIPTOR = {
  mediaType: OCI_EMPTY,
  digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
  size: 2,
  data: "e30=",
} as const;

/** Every manifest type a client accepts, most preferred first. */
export const MANIFEST_ACCEPT = [OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST] as const;

/**
 * True for image indexes and Docker manifest lists.
 *
 * @example
 * ```ts
 * isIndexMediaType(DOCKER_MANIFEST_LIST); // true
 * ```
 */
export function isIndexMediaType(mediaType: string): boolean {
  return mediaType === OCI_INDEX || mediaType === DOCKER_MANIFEST_LIST;
}

/**
 * True for any manifest type this library handles (image manifests and indexes).
 *
 * @example
 * ```ts
 * isManifestMediaType(OCI_MANIFEST); // true
 * ```
 */
export function isManifestMediaType(mediaType: string): boolean {
  return (MANIFEST_ACCEPT as readonly string[]).includes(mediaType);
}

/**
 * The media type of a manifest document: its `mediaType` field, or inferred from its shape
 * (`manifests` = index, `config` = image manifest) when the field is absent, as OCI allows.
 *
 * @example
 * ```ts
 * detectManifestMediaType({ schemaVersion: 2, manifests: [] }); // OCI_INDEX
 * ```
 */
export function detectManifestMediaType(doc: Record<string, unknown>): string | undefined {
  if (typeof doc.mediaType === "string") return doc.mediaType;
  if (Array.isArray(doc.manifests)) return OCI_INDEX;
  if (doc.config && typeof doc.config === "object") return OCI_MANIFEST;
  return undefined;
}
