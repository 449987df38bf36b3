/**
 * Ed25519 signing keys for state artifacts (WebCrypto). Private keys are stored as PKCS#8, public
 * keys travel as raw base64; a key id is the sha256 of the raw public key.
 *
 * @example
 * ```ts
 * import { generateSigningKey, sign, verify } from "./keys.ts";
 * const key = await generateSigningKey();
 * const sig = await sign(key, new TextEncoder().encode("x"));
 * await verify(key.publicKeyBase64, new TextEncoder().encode("x"), sig); // true
 * ```
 * @module
 */
import { decodeBase64, encodeBase64 } from "./base64.ts";
import { sha256Digest } from "../oci/digest.ts";

/** A signing key pair with its exportable forms. */
export interface SigningKey {
  privateKey: CryptoKey;
  /** Raw 32-byte public key, base64. */
  publicKeyBase64: string;
  /** PKCS#8 private key, base64 (what a store persists). */
  privateKeyPkcs8Base64: string;
  /** sha256 of the raw public key. */
  keyId: string;
}

/**
 * Makes a new Ed25519 key pair.
 *
 * @example
 * ```ts
 * const key = await generateSigningKey();
 * ```
 */
export async function generateSigningKey(): Promise<SigningKey> {
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  return await importSigningKey(encodeBase64(pkcs8));
}

/**
 * Loads a key pair from its stored PKCS#8 form.
 *
 * @example
 * ```ts
 * const k = await generateSigningKey();
 * const again = await importSigningKey(k.privateKeyPkcs8Base64);
 * again.keyId === k.keyId; // true
 * ```
 */
export async function importSigningKey(pkcs8Base64: string): Promise<SigningKey> {
  const pkcs8 = decodeBase64(pkcs8Base64);
  const privateKey = await crypto.subtle.importKey(
    "pkcs8",
    pkcs8 as BufferSource,
    { name: "Ed25519" },
    true,
    ["sign"],
  );
  // The public key is the JWK's `x`; WebCrypto exports it from the private key.
  const jwk = await crypto.subtle.exportKey("jwk", privateKey);
  const raw = decodeBase64(
    jwk.x!.replaceAll("-", "+").replaceAll("_", "/") + "=".repeat((4 - jwk.x!.length % 4) % 4),
  );
  return {
    privateKey,
    publicKeyBase64: encodeBase64(raw),
    privateKeyPkcs8Base64: pkcs8Base64,
    keyId: sha256Digest(raw),
  };
}

/**
 * Signs bytes; returns a base64 signature.
 *
 * @example
 * ```ts
 * const k = await generateSigningKey();
 * await sign(k, new Uint8Array([1, 2]));
 * ```
 */
export async function sign(key: SigningKey, bytes: Uint8Array): Promise<string> {
  return encodeBase64(
    new Uint8Array(await crypto.subtle.sign("Ed25519", key.privateKey, bytes as BufferSource)),
  );
}

/**
 * Verifies a base64 signature with a raw base64 public key. Malformed keys or signatures verify false.
 *
 * @example
 * ```ts
 * await verify("AAAA", new Uint8Array(), "AAAA"); // false
 * ```
 */
export async function verify(
  publicKeyBase64: string,
  bytes: Uint8Array,
  signatureBase64: string,
): Promise<boolean> {
  try {
    const publicKey = await crypto.subtle.importKey(
      "raw",
      decodeBase64(publicKeyBase64) as BufferSource,
      { name: "Ed25519" },
      false,
      ["verify"],
    );
    return await crypto.subtle.verify(
      "Ed25519",
      publicKey,
      decodeBase64(signatureBase64) as BufferSource,
      bytes as BufferSource,
    );
  } catch {
    return false;
  }
}

/**
 * The key id of a raw base64 public key.
 *
 * @example
 * ```ts
 * const k = await generateSigningKey();
 * keyIdOf(k.publicKeyBase64) === k.keyId; // true
 * ```
 */
export function keyIdOf(publicKeyBase64: string): string {
  return sha256Digest(decodeBase64(publicKeyBase64));
}
