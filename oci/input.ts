/**
 * Validation of names and references before they reach a URL: a bad repository, tag or digest is
 * refused with an {@linkcode InvalidInputError} naming the field, and no request is made.
 *
 * @example
 * ```ts
 * import { checkReference } from "./input.ts";
 * checkReference("library/busybox", "latest"); // "tag"
 * ```
 * @module
 */
import { RepositoryName, Tag } from "../schemas/oci.ts";
import { parseDigest } from "./digest.ts";
import { InvalidInputError } from "./errors.ts";

/**
 * Throws unless `repository` is a valid OCI repository name.
 *
 * @example
 * ```ts
 * checkRepository("Library/Busybox"); // throws InvalidInputError("repository", ...)
 * ```
 */
export function checkRepository(repository: string, field = "repository"): void {
  const result = RepositoryName.safeParse(repository);
  if (!result.success) {
    throw new InvalidInputError(field, `"${repository}" ${result.error.issues[0].message}`);
  }
}

/**
 * Throws unless `tag` is a valid OCI tag.
 *
 * @example
 * ```ts
 * checkTag("1.25-alpine");
 * ```
 */
export function checkTag(tag: string, field = "tag"): void {
  const result = Tag.safeParse(tag);
  if (!result.success) throw new InvalidInputError(field, `"${tag}" ${result.error.issues[0].message}`);
}

/**
 * Validates repository and reference (a tag or a digest) and says which kind the reference is.
 *
 * @example
 * ```ts
 * checkReference("a/b", "sha256:" + "a".repeat(64)); // "digest"
 * ```
 */
export function checkReference(repository: string, reference: string): "tag" | "digest" {
  checkRepository(repository);
  if (reference.includes(":")) {
    parseDigest(reference, "reference");
    return "digest";
  }
  if (!Tag.safeParse(reference).success) {
    throw new InvalidInputError(
      "reference",
      `"${reference}" is neither a tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127}) nor a digest (sha256:<64 hex>)`,
    );
  }
  return "tag";
}

/**
 * True when `value` is a digest this project can verify.
 *
 * @example
 * ```ts
 * isValidDigest("sha256:abc"); // false
 * ```
 */
export function isValidDigest(value: string): boolean {
  try {
    parseDigest(value);
    return true;
  } catch {
    return false;
  }
}
