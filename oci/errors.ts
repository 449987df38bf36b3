/**
 * Typed errors of the OCI library. Each carries a distribution-spec error code where one applies,
 * so a server can map it to a status and a client can branch on it.
 *
 * @example
 * ```ts
 * import { DigestMismatchError, OciError } from "./errors.ts";
 * const e = new DigestMismatchError("sha256:" + "a".repeat(64), "sha256:" + "b".repeat(64));
 * e instanceof OciError; // true
 * ```
 * @module
 */

/** Distribution-spec error codes. */
export type OciErrorCode =
  | "BLOB_UNKNOWN"
  | "BLOB_UPLOAD_INVALID"
  | "BLOB_UPLOAD_UNKNOWN"
  | "DIGEST_INVALID"
  | "MANIFEST_BLOB_UNKNOWN"
  | "MANIFEST_INVALID"
  | "MANIFEST_UNKNOWN"
  | "NAME_INVALID"
  | "NAME_UNKNOWN"
  | "SIZE_INVALID"
  | "UNAUTHORIZED"
  | "DENIED"
  | "UNSUPPORTED"
  | "TOOMANYREQUESTS"
  | "RANGE_INVALID"
  | "UNKNOWN";

/**
 * Base class: a message, a spec code and, for errors from a registry, the HTTP status.
 *
 * @example
 * ```ts
 * new OciError("MANIFEST_UNKNOWN", "no such manifest", 404);
 * ```
 */
export class OciError extends Error {
  readonly code: OciErrorCode;
  readonly status: number | undefined;
  readonly detail: unknown;
  constructor(code: OciErrorCode, message: string, status?: number, detail?: unknown) {
    super(message);
    this.name = "OciError";
    this.code = code;
    this.status = status;
    this.detail = detail;
  }
}

/**
 * Content did not hash to the digest it was fetched or pushed by. Nothing unverified is kept.
 *
 * @example
 * ```ts
 * new DigestMismatchError("sha256:" + "a".repeat(64), "sha256:" + "b".repeat(64)).code; // "DIGEST_INVALID"
 * ```
 */
export class DigestMismatchError extends OciError {
  readonly expected: string;
  readonly actual: string;
  constructor(expected: string, actual: string) {
    super("DIGEST_INVALID", `content does not match digest ${expected} (got ${actual})`, 400);
    this.name = "DigestMismatchError";
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * Input that breaks the grammar or limits (a bad name, a malformed digest, an oversized manifest).
 *
 * @example
 * ```ts
 * new InvalidInputError("repository", "must be lower case").message; // "repository: must be lower case"
 * ```
 */
export class InvalidInputError extends OciError {
  readonly field: string;
  constructor(field: string, problem: string, code: OciErrorCode = "NAME_INVALID") {
    super(code, `${field}: ${problem}`, 400);
    this.name = "InvalidInputError";
    this.field = field;
  }
}

/**
 * A manifest that is not valid JSON or not a known manifest shape.
 *
 * @example
 * ```ts
 * new ManifestInvalidError("not JSON").code; // "MANIFEST_INVALID"
 * ```
 */
export class ManifestInvalidError extends OciError {
  constructor(problem: string) {
    super("MANIFEST_INVALID", `manifest invalid: ${problem}`, 400);
    this.name = "ManifestInvalidError";
  }
}

/**
 * A manifest larger than {@linkcode MAX_MANIFEST_BYTES}.
 *
 * @example
 * ```ts
 * new ManifestTooLargeError(5 * 1024 * 1024).status; // 413
 * ```
 */
export class ManifestTooLargeError extends OciError {
  constructor(size: number) {
    super("SIZE_INVALID", `manifest is ${size} bytes; the limit is ${MAX_MANIFEST_BYTES} bytes (4 MiB)`, 413);
    this.name = "ManifestTooLargeError";
  }
}

/**
 * A network-level failure (connection refused, reset, timeout) talking to a registry.
 *
 * @example
 * ```ts
 * new TransportError("GET http://r/v2/", new Error("refused")).retryable; // true
 * ```
 */
export class TransportError extends OciError {
  readonly retryable = true;
  constructor(what: string, cause: unknown) {
    super("UNKNOWN", `${what}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = "TransportError";
    this.cause = cause;
  }
}

/** Manifests larger than this are refused on read and write (the common registry limit). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
