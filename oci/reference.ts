/**
 * Image references: `host[:port]/repo/path[:tag][@digest]`.
 *
 * @example
 * ```ts
 * import { parseReference } from "./reference.ts";
 * parseReference("127.0.0.1:5000/satellite/group-state/stores:latest");
 * // { host: "127.0.0.1:5000", repository: "satellite/group-state/stores", tag: "latest", reference: "latest" }
 * ```
 * @module
 */
import { Digest, RepositoryName, Tag } from "../schemas/oci.ts";
import { InvalidInputError } from "./errors.ts";

/** A parsed image reference. */
export interface ImageReference {
  host: string;
  repository: string;
  tag?: string;
  digest?: string;
  /** The digest when present, else the tag (default `latest`): what to ask the registry for. */
  reference: string;
}

/**
 * Parses a fully qualified reference (a host is required: edge devices never guess Docker Hub).
 *
 * @example
 * ```ts
 * parseReference("harbor.example.com/library/nginx@sha256:" + "a".repeat(64)).digest;
 * ```
 */
export function parseReference(text: string, field = "reference"): ImageReference {
  const slash = text.indexOf("/");
  if (slash <= 0) {
    throw new InvalidInputError(field, `"${text}" needs a registry host, e.g. registry.example.com/repo:tag`);
  }
  const host = text.slice(0, slash);
  let rest = text.slice(slash + 1);
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!Digest.safeParse(digest).success) {
      throw new InvalidInputError(field, `"${digest}" is not a valid digest`);
    }
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!Tag.safeParse(tag).success) throw new InvalidInputError(field, `"${tag}" is not a valid tag`);
  }
  if (!RepositoryName.safeParse(rest).success) {
    throw new InvalidInputError(
      field,
      `"${rest}" is not a valid repository name (lower-case path like library/nginx)`,
    );
  }
  if (!/^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-fA-F:]+\](:\d{1,5})?$/.test(host)) {
    throw new InvalidInputError(field, `"${host}" is not a valid registry host`);
  }
  return { host, repository: rest, tag, digest, reference: digest ?? tag ?? "latest" };
}

/**
 * Formats a reference back to text.
 *
 * @example
 * ```ts
 * formatReference({ host: "r:5000", repository: "a/b", reference: "v1", tag: "v1" }); // "r:5000/a/b:v1"
 * ```
 */
export function formatReference(ref: ImageReference): string {
  return `${ref.host}/${ref.repository}${ref.tag ? `:${ref.tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}`;
}
