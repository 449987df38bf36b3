/**
 * Base64 for byte arrays (no @std here: JSR is not reachable from the build machines).
 *
 * @example
 * ```ts
 * import { decodeBase64, encodeBase64 } from "./base64.ts";
 * decodeBase64(encodeBase64(new Uint8Array([1, 2, 3]))); // Uint8Array [1, 2, 3]
 * ```
 * @module
 */
import { Buffer } from "node:buffer";

/**
 * Encodes bytes as standard base64.
 *
 * @example
 * ```ts
 * encodeBase64(new TextEncoder().encode("{}")); // "e30="
 * ```
 */
export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/**
 * Decodes standard base64; throws on characters outside the alphabet.
 *
 * @example
 * ```ts
 * decodeBase64("e30="); // bytes of "{}"
 * ```
 */
export function decodeBase64(text: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new Error("not base64");
  return new Uint8Array(Buffer.from(text, "base64"));
}
