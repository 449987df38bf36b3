/**
 * Blob uploads per the distribution spec: an optional cross-repository mount, then either one
 * monolithic `PUT` (small blobs) or a series of `PATCH` chunks followed by a closing `PUT` (large
 * blobs, or a stream of unknown size). Each step follows the `Location` the server returned.
 * Bodies are streamed, never buffered whole; only a stream of unknown size is cut into buffered
 * chunks (one at a time).
 *
 * @example
 * ```ts
 * import { RegistryHttp } from "./http.ts";
 * import { uploadBlob } from "./upload.ts";
 * const http = new RegistryHttp({ baseUrl: "http://127.0.0.1:5000" });
 * const bytes = new TextEncoder().encode("{}");
 * await uploadBlob(http, "demo/a", { digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", size: 2 }, new Response(bytes).body!);
 * ```
 * @module
 */
import { expectStatus, type RegistryHttp, type RegistryResponse } from "./http.ts";
import { ByteReader, byteStream } from "./byte_stream.ts";
import { OciError } from "./errors.ts";

/** Options of {@linkcode uploadBlob}. */
export interface UploadOptions {
  /** A repository on the same registry that may hold the blob (cross-repo mount). */
  mountFrom?: string;
  signal?: AbortSignal;
  /** Blobs larger than this (or of unknown size) go up in chunks. Default 16 MiB. */
  chunkedAbove?: number;
  /** PATCH size for chunked uploads. Default 16 MiB. */
  chunkSize?: number;
}

/** What happened. */
export type UploadOutcome = "mounted" | "monolithic" | "chunked";

const MiB = 1024 * 1024;

/**
 * Uploads one blob. `descriptor.size < 0` means unknown. The registry verifies the digest when the
 * upload is closed; the caller is expected to hand in a stream that is itself digest-verified
 * (e.g. from `getBlob`), whose error then aborts the upload before it is committed.
 *
 * @example
 * ```ts
 * declare const http: RegistryHttp;
 * declare const stream: ReadableStream<Uint8Array>;
 * await uploadBlob(http, "a/b", { digest: "sha256:" + "a".repeat(64), size: 10 }, stream, { mountFrom: "a/c" });
 * ```
 */
export async function uploadBlob(
  http: RegistryHttp,
  repository: string,
  descriptor: { digest: string; size: number },
  stream: ReadableStream<Uint8Array>,
  options: UploadOptions = {},
): Promise<UploadOutcome> {
  const scopes = [`repository:${repository}:pull,push`];
  const start = new URL(`/v2/${repository}/blobs/uploads/`, http.baseUrl);
  if (options.mountFrom && options.mountFrom !== repository) {
    start.searchParams.set("mount", descriptor.digest);
    start.searchParams.set("from", options.mountFrom);
    scopes.push(`repository:${options.mountFrom}:pull`);
  }
  const what = `POST ${start.origin}${start.pathname}`;
  const started = await http.request({ method: "POST", url: start, scopes, signal: options.signal });
  await drain(started);
  await expectStatus(started, what, [201, 202], "NAME_UNKNOWN");
  if (started.status === 201) {
    await stream.cancel().catch(() => {});
    return "mounted";
  }
  let location = nextLocation(started, what);
  const push = [`repository:${repository}:pull,push`];
  try {
    const threshold = options.chunkedAbove ?? 16 * MiB;
    if (descriptor.size >= 0 && descriptor.size <= threshold) {
      const res = await http.request({
        method: "PUT",
        url: withDigest(location, descriptor.digest),
        scopes: push,
        headers: { "content-type": "application/octet-stream" },
        body: stream,
        signal: options.signal,
      });
      await drain(res);
      await expectStatus(res, `PUT ${location.origin}${location.pathname}`, [201], "BLOB_UPLOAD_UNKNOWN");
      return "monolithic";
    }
    location = await patchChunks(http, push, location, descriptor.size, stream, options);
    const closed = await http.request({
      method: "PUT",
      url: withDigest(location, descriptor.digest),
      scopes: push,
      headers: { "content-type": "application/octet-stream" },
      body: new Uint8Array(),
      signal: options.signal,
    });
    await drain(closed);
    await expectStatus(closed, `PUT ${location.origin}${location.pathname}`, [201], "BLOB_UPLOAD_UNKNOWN");
    return "chunked";
  } catch (e) {
    await stream.cancel().catch(() => {});
    // Best effort: free the server's half-written upload; the original error is what matters.
    await http.request({ method: "DELETE", url: location, scopes: push, signal: AbortSignal.timeout(5000) })
      .then(drain).catch(() => {});
    throw e;
  }
}

/** Sends the stream as PATCH chunks; returns the location to close the upload at. */
async function patchChunks(
  http: RegistryHttp,
  scopes: string[],
  location: URL,
  size: number,
  stream: ReadableStream<Uint8Array>,
  options: UploadOptions,
): Promise<URL> {
  const chunkSize = options.chunkSize ?? 16 * MiB;
  const source = new ChunkSource(stream);
  let sent = 0;
  // Bounded by the stream length: each pass sends at least one byte or stops.
  while (true) {
    const remaining = size >= 0 ? size - sent : Infinity;
    if (remaining <= 0) {
      // Read to the end so a verifying source can report a mismatch before the upload is closed.
      if (!(await source.atEnd())) {
        throw new OciError("SIZE_INVALID", `blob stream is longer than its declared ${size} bytes`);
      }
      break;
    }
    const body = size >= 0 ? source.take(Math.min(chunkSize, remaining)) : await source.buffer(chunkSize);
    if (body instanceof Uint8Array && body.byteLength === 0) break;
    const length = body instanceof Uint8Array ? body.byteLength : Math.min(chunkSize, remaining);
    const res = await http.request({
      method: "PATCH",
      url: location,
      scopes,
      headers: {
        "content-type": "application/octet-stream",
        "content-range": `${sent}-${sent + length - 1}`,
      },
      body,
      signal: options.signal,
    });
    await drain(res);
    const what = `PATCH ${location.origin}${location.pathname}`;
    await expectStatus(res, what, [202], "BLOB_UPLOAD_UNKNOWN");
    if (size >= 0 && source.taken !== sent + length) {
      throw new OciError("SIZE_INVALID", `blob stream ended after ${source.taken} of ${size} bytes`);
    }
    sent += length;
    location = nextLocation(res, what);
  }
  return location;
}

/**
 * Splits one stream into consecutive sub-streams or buffered chunks. The sub-streams are byte
 * streams reading the source straight into fetch's buffers (no copy, no second allocation).
 */
class ChunkSource {
  #reader: ByteReader;
  /** Bytes handed out so far. */
  taken = 0;
  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = new ByteReader(stream);
  }
  /** A stream of the next `length` bytes (fewer if the source ends), streamed, not buffered. */
  take(length: number): ReadableStream<Uint8Array> {
    let left = length;
    return byteStream(this.#reader, {
      maxRead: () => left,
      onData: (view) => {
        left -= view.byteLength;
        this.taken += view.byteLength;
      },
    });
  }
  /** Up to `length` bytes in one buffer (for streams of unknown size); empty at the end. */
  async buffer(length: number): Promise<Uint8Array> {
    let out: Uint8Array = new Uint8Array(length);
    let filled = 0;
    // Bounded: every pass adds at least one byte or ends (a non-byte source's empty chunks aside).
    while (filled < length) {
      const { done, view } = await this.#reader.read(out.subarray(filled));
      if (view) out = new Uint8Array(view.buffer, 0, length); // a BYOB read moved the buffer
      if (done) break;
      filled += view!.byteLength;
    }
    this.taken += filled;
    return out.subarray(0, filled);
  }
  /** True when the source has nothing more (reads it to its end, surfacing its errors). */
  async atEnd(): Promise<boolean> {
    // Bounded: a source yielding endless empty chunks is treated as not at its end.
    for (let i = 0; i < 1000; i++) {
      const { done, view } = await this.#reader.read(new Uint8Array(1));
      if (done) return true;
      if (view!.byteLength > 0) {
        this.#reader.unread(view!);
        return false;
      }
    }
    return false;
  }
}

function nextLocation(res: RegistryResponse, what: string): URL {
  const header = res.headers.get("location");
  if (!header) {
    throw new OciError("BLOB_UPLOAD_INVALID", `${what} -> ${res.status} without a Location header`);
  }
  // Relative locations resolve against the URL that answered, as RFC 9110 says.
  return new URL(header, res.url);
}

function withDigest(location: URL, digest: string): URL {
  const url = new URL(location);
  url.searchParams.set("digest", digest);
  return url;
}

async function drain(res: RegistryResponse): Promise<void> {
  if (res.body && res.status < 300) await res.body.cancel().catch(() => {});
}
