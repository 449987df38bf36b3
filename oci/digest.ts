/**
 * Digests: computing them over bytes and streams, and verifying streams on the fly.
 *
 * @example
 * ```ts
 * import { sha256Digest } from "./digest.ts";
 * sha256Digest(new TextEncoder().encode("{}")); // "sha256:44136f..."
 * ```
 * @module
 */
import { createHash, type Hash } from "node:crypto";
import { Digest } from "../schemas/oci.ts";
import { byteStream } from "./byte_stream.ts";
import { DigestMismatchError, InvalidInputError } from "./errors.ts";

/**
 * The sha256 digest of `bytes`, as `sha256:<hex>`.
 *
 * @example
 * ```ts
 * sha256Digest(new Uint8Array()); // "sha256:e3b0c4..."
 * ```
 */
export function sha256Digest(bytes: Uint8Array | string): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/**
 * Validates a digest string, throwing a typed error naming `field`.
 *
 * @example
 * ```ts
 * parseDigest("sha256:" + "a".repeat(64));
 * ```
 */
export function parseDigest(
  value: string,
  field = "digest",
): { algorithm: "sha256" | "sha512"; hex: string } {
  if (!Digest.safeParse(value).success) {
    throw new InvalidInputError(
      field,
      `"${value}" is not a valid digest: expected sha256:<64 hex> or sha512:<128 hex>`,
    );
  }
  const [algorithm, hex] = value.split(":") as ["sha256" | "sha512", string];
  return { algorithm, hex };
}

/**
 * An incremental digester for the algorithm of `expected`.
 *
 * @example
 * ```ts
 * const d = new Digester("sha256:" + "0".repeat(64));
 * d.update(new Uint8Array([1]));
 * d.matches(); // false
 * ```
 */
export class Digester {
  readonly expected: string;
  #hash: Hash;
  #bytes = 0;
  constructor(expected: string) {
    this.expected = expected;
    this.#hash = createHash(parseDigest(expected).algorithm);
  }
  /** Feeds bytes. */
  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
    this.#bytes += chunk.byteLength;
  }
  /** Bytes fed so far. */
  get bytes(): number {
    return this.#bytes;
  }
  /** Finishes and returns the computed digest (call once). */
  digest(): string {
    return `${this.expected.split(":")[0]}:${this.#hash.digest("hex")}`;
  }
  /** Finishes and compares with the expected digest. */
  matches(): boolean {
    return this.digest() === this.expected;
  }
  /** Returns a copy of the state so far, e.g. to resume a hash over a partial file. */
  copy(): Digester {
    const next = Object.create(Digester.prototype) as Digester;
    Object.assign(next, { expected: this.expected });
    next.#hash = this.#hash.copy();
    next.#bytes = this.#bytes;
    return next;
  }
}

/**
 * Wraps a stream so it errors with {@linkcode DigestMismatchError} at its end when the bytes do not
 * hash to `expected` (or when `size` is given and differs). A digester that already saw a prefix
 * (a resumed download) can be passed in.
 *
 * @example
 * ```ts
 * const body = new Response("{}").body!;
 * const verified = verifyStream(body, "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", 2);
 * await new Response(verified).arrayBuffer();
 * ```
 */
export function verifyStream(
  stream: ReadableStream<Uint8Array>,
  expected: string,
  size?: number,
  digester: Digester = new Digester(expected),
): ReadableStream<Uint8Array> {
  // A byte stream hop (not a TransformStream), so a BYOB consumer's buffer reaches the body.
  return byteStream(stream, {
    onData(view) {
      digester.update(view);
      if (size !== undefined && digester.bytes > size) {
        throw new DigestMismatchError(expected, `more than ${size} bytes`);
      }
    },
    onEnd() {
      if (size !== undefined && digester.bytes !== size) {
        throw new DigestMismatchError(expected, `${digester.bytes} bytes, expected ${size}`);
      }
      const actual = digester.digest();
      if (actual !== expected) throw new DigestMismatchError(expected, actual);
    },
  });
}
