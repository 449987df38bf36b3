/**
 * Pull handlers: manifests and blobs, GET and HEAD. Manifests come from the registry's in-memory cache
 * for hot tags; blobs stream from their file (ranges too), never buffered.
 *
 * Content negotiation: the stored manifest is returned with its own media type whatever `Accept` says.
 * The distribution spec has no MUST to refuse (only distribution's schema-1 era conversions did), and
 * every current client (containerd, skopeo, Docker) accepts all four types.
 *
 * @example
 * ```ts
 * import { getManifest } from "./handlers_pull.ts";
 * const res = await getManifest(registry, "library/busybox", "latest", false);
 * ```
 * @module
 */
import { parseDigest } from "../digest.ts";
import type { LocalRegistry } from "./local.ts";
import { errorResponse, parseRange } from "./http.ts";

/**
 * GET/HEAD /v2/<name>/manifests/<reference>.
 *
 * @example
 * ```ts
 * (await getManifest(registry, "a/b", "v1", true)).headers.get("docker-content-digest");
 * ```
 */
export async function getManifest(
  registry: LocalRegistry,
  name: string,
  ref: string,
  head: boolean,
): Promise<Response> {
  const manifest = await registry.getManifest(name, ref);
  return new Response(head ? null : manifest.bytes as Uint8Array<ArrayBuffer>, {
    headers: {
      "content-type": manifest.mediaType,
      "content-length": String(manifest.bytes.byteLength),
      "docker-content-digest": manifest.digest,
      etag: `"${manifest.digest}"`,
    },
  });
}

/**
 * GET/HEAD /v2/<name>/blobs/<digest>, with `Range` (206; 416 when unsatisfiable).
 *
 * @example
 * ```ts
 * await getBlob(registry, new Request("http://x/", { headers: { range: "bytes=0-9" } }), digest, false);
 * ```
 */
export async function getBlob(
  registry: LocalRegistry,
  req: Request,
  digest: string,
  head: boolean,
): Promise<Response> {
  parseDigest(digest);
  const rangeHeader = req.headers.get("range");
  const headers: Record<string, string> = {
    "content-type": "application/octet-stream",
    "docker-content-digest": digest,
    "accept-ranges": "bytes",
    etag: `"${digest}"`,
  };
  if (head || rangeHeader) {
    const size = await registry.store.size(digest);
    if (size === null) return errorResponse("BLOB_UNKNOWN", `blob ${digest} unknown`, 404);
    const range = parseRange(rangeHeader, size);
    if (range === "invalid") {
      return errorResponse("RANGE_INVALID", `range ${rangeHeader} is outside ${size} bytes`, 416, undefined, {
        "content-range": `bytes */${size}`,
      });
    }
    if (range === null) {
      headers["content-length"] = String(size);
      if (head) return new Response(null, { headers });
      const reader = await registry.store.read(digest);
      return new Response(reader.stream, { headers });
    }
    const [start, end] = range;
    headers["content-length"] = String(end - start);
    headers["content-range"] = `bytes ${start}-${end - 1}/${size}`;
    if (head) return new Response(null, { status: 206, headers });
    const reader = await registry.store.read(digest, { offset: start, end });
    return new Response(reader.stream, { status: 206, headers });
  }
  const reader = await registry.store.read(digest);
  headers["content-length"] = String(reader.size);
  return new Response(reader.stream, { headers });
}
