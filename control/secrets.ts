/**
 * Secrets of Ground Control: random tokens (registration tokens, device secrets, admin tokens),
 * their sha256 hashes (the only form a store keeps) and constant-time comparison.
 *
 * @example
 * ```ts
 * import { hashSecret, randomSecret, timingSafeEqualText } from "./secrets.ts";
 * const token = randomSecret();
 * timingSafeEqualText(hashSecret(token), hashSecret(token)); // true
 * ```
 * @module
 */
import { sha256Digest } from "../oci/digest.ts";

/**
 * A URL-safe base64 string of `bytes` random bytes (default 32 = 256 bits; never below 16).
 *
 * @example
 * ```ts
 * randomSecret().length; // 43
 * ```
 */
export function randomSecret(bytes = 32): string {
  const raw = crypto.getRandomValues(new Uint8Array(Math.max(16, bytes)));
  let binary = "";
  for (const b of raw) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * The stored form of a secret: `sha256:<hex>` of its UTF-8 bytes.
 *
 * @example
 * ```ts
 * hashSecret("x").startsWith("sha256:"); // true
 * ```
 */
export function hashSecret(secret: string): string {
  return sha256Digest(secret);
}

/**
 * Compares two strings in time that depends only on their lengths (never early-exits on a mismatch).
 *
 * @example
 * ```ts
 * timingSafeEqualText("abc", "abd"); // false
 * ```
 */
export function timingSafeEqualText(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/**
 * The bearer token of an `Authorization` header, or null.
 *
 * @example
 * ```ts
 * bearerToken("Bearer abc"); // "abc"
 * ```
 */
export function bearerToken(header: string | undefined | null): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return match ? match[1] : null;
}
