/**
 * Discovery handlers: tag list and catalog (with `n`, `last` and a `Link` header for the next page),
 * and the OCI 1.1 referrers API with the `artifactType` filter.
 *
 * @example
 * ```ts
 * import { listTags } from "./handlers_discovery.ts";
 * const res = await listTags(registry, "a/b", new URLSearchParams("n=10"));
 * ```
 * @module
 */
import { OCI_INDEX } from "../media_types.ts";
import { InvalidInputError, OciError } from "../errors.ts";
import { parseDigest } from "../digest.ts";
import type { LocalRegistry } from "./local.ts";
import { nextLink, paginate } from "./http.ts";

function json(value: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(value), { headers: { "content-type": "application/json", ...headers } });
}

/**
 * GET /v2/<name>/tags/list: lexically sorted tags; NAME_UNKNOWN for an unknown repository.
 *
 * @example
 * ```ts
 * await listTags(registry, "a/b", new URLSearchParams("n=2&last=v1"));
 * ```
 */
export async function listTags(
  registry: LocalRegistry,
  name: string,
  params: URLSearchParams,
): Promise<Response> {
  const tags = await registry.listTags(name);
  if (tags.length === 0 && !(await registry.listRepositories()).includes(name)) {
    throw new OciError("NAME_UNKNOWN", `repository ${name} is not known to this registry`, 404);
  }
  const { page, next } = paginate(tags, params);
  return json(
    { name, tags: page },
    next ? { link: nextLink(`/v2/${name}/tags/list`, page.length, next) } : {},
  );
}

/**
 * GET /v2/_catalog.
 *
 * @example
 * ```ts
 * await catalog(registry, new URLSearchParams());
 * ```
 */
export async function catalog(registry: LocalRegistry, params: URLSearchParams): Promise<Response> {
  const { page, next } = paginate(await registry.listRepositories(), params);
  return json({ repositories: page }, next ? { link: nextLink("/v2/_catalog", page.length, next) } : {});
}

/**
 * GET /v2/<name>/referrers/<digest>[?artifactType=]: an image index of the referrers (200 even when
 * there are none, as the spec requires).
 *
 * @example
 * ```ts
 * await referrers(registry, "a/b", digest, new URLSearchParams());
 * ```
 */
export function referrers(
  registry: LocalRegistry,
  name: string,
  digest: string,
  params: URLSearchParams,
): Response {
  try {
    parseDigest(digest);
  } catch {
    throw new InvalidInputError("digest", `"${digest}" is not a valid digest`, "DIGEST_INVALID");
  }
  const artifactType = params.get("artifactType") ?? undefined;
  const manifests = registry.referrers(name, digest, artifactType);
  return new Response(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }), {
    headers: {
      "content-type": OCI_INDEX,
      ...(artifactType !== undefined ? { "oci-filters-applied": "artifactType" } : {}),
    },
  });
}
