/**
 * Push and management handlers for manifests and blobs: manifest PUT (validated, referenced content
 * must exist, 4 MiB limit), and DELETE of manifests (by digest), tags and blobs.
 *
 * @example
 * ```ts
 * import { putManifest } from "./handlers_push.ts";
 * const res = await putManifest(registry, request, "a/b", "v1");
 * res.status; // 201
 * ```
 * @module
 */
import { ManifestTooLargeError, MAX_MANIFEST_BYTES, OciError } from "../errors.ts";
import type { LocalRegistry } from "./local.ts";
import { readLimited } from "./http.ts";

/**
 * PUT /v2/<name>/manifests/<reference>: 201 with Location, Docker-Content-Digest, and OCI-Subject
 * when the manifest has a subject.
 *
 * @example
 * ```ts
 * await putManifest(registry, new Request("http://x/", { method: "PUT", body: bytes }), "a/b", "v1");
 * ```
 */
export async function putManifest(
  registry: LocalRegistry,
  req: Request,
  name: string,
  ref: string,
): Promise<Response> {
  const bytes = await readLimited(
    req,
    MAX_MANIFEST_BYTES,
    () => new ManifestTooLargeError(MAX_MANIFEST_BYTES + 1),
  );
  const mediaType = req.headers.get("content-type") ?? "";
  const info = await registry.putManifestParsed(name, ref, { bytes, mediaType, digest: "" });
  const headers: Record<string, string> = {
    location: `/v2/${name}/manifests/${info.digest}`,
    "docker-content-digest": info.digest,
    "content-length": "0",
  };
  if (info.subject) headers["oci-subject"] = info.subject;
  return new Response(null, { status: 201, headers });
}

/**
 * DELETE /v2/<name>/manifests/<reference>: a digest removes the manifest and its tags, a tag only
 * the tag. 202 on success.
 *
 * @example
 * ```ts
 * await deleteManifest(registry, "a/b", "v1");
 * ```
 */
export async function deleteManifest(registry: LocalRegistry, name: string, ref: string): Promise<Response> {
  if (ref.includes(":")) await registry.deleteManifest(name, ref);
  else await registry.deleteTag(name, ref);
  return new Response(null, { status: 202 });
}

/**
 * DELETE /v2/<name>/blobs/<digest>: 202, 404 when absent, 409 DENIED while a manifest references it.
 *
 * @example
 * ```ts
 * await deleteBlob(registry, "sha256:" + "a".repeat(64));
 * ```
 */
export async function deleteBlob(registry: LocalRegistry, digest: string): Promise<Response> {
  try {
    await registry.deleteBlob(digest);
  } catch (e) {
    if (e instanceof OciError && e.code === "DENIED") throw new OciError("DENIED", e.message, 409);
    throw e;
  }
  return new Response(null, { status: 202 });
}
