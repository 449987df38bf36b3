/**
 * Turns the artifacts of a group request (repository + tags and/or digest) into group-state
 * artifacts pinned by digest, asking the central registry (HEAD manifest). Unknown images are
 * refused with a 422 naming each bad field (`artifacts[2].tags[0]`), all at once.
 *
 * @example
 * ```ts
 * import { resolveArtifacts } from "./resolve.ts";
 * declare const registry: import("./resolve.ts").ManifestLookup;
 * const artifacts = await resolveArtifacts(registry, [{ repository: "library/nginx", tags: ["1.25"], type: "IMAGE" }]);
 * ```
 * @module
 */
import type { ArtifactSpec } from "../schemas/control.ts";
import type { GroupArtifact } from "../schemas/group_state.ts";
import type { FieldIssue } from "../schemas/validate.ts";
import { ApiProblem } from "./http/errors.ts";

/** The one registry call resolution needs. */
export interface ManifestLookup {
  headManifest(repository: string, reference: string): Promise<{ digest: string } | null>;
}

/** Parallel HEADs per request: enough to hide latency, few enough to be polite. */
const LOOKUP_CONCURRENCY = 8;

async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * Resolves every spec; artifacts that end up with the same repository and digest are merged (tags
 * joined), in request order.
 *
 * @example
 * ```ts
 * declare const registry: ManifestLookup;
 * await resolveArtifacts(registry, [{ repository: "a/b", digest: "sha256:" + "a".repeat(64), type: "IMAGE" }]);
 * ```
 */
export async function resolveArtifacts(
  registry: ManifestLookup,
  specs: ArtifactSpec[],
): Promise<GroupArtifact[]> {
  type Lookup = { index: number; path: string; repository: string; reference: string; expect?: string };
  const lookups: Lookup[] = [];
  specs.forEach((spec, index) => {
    if (spec.digest) {
      lookups.push({
        index,
        path: `artifacts[${index}].digest`,
        repository: spec.repository,
        reference: spec.digest,
      });
    }
    (spec.tags ?? []).forEach((tag, t) =>
      lookups.push({
        index,
        path: `artifacts[${index}].tags[${t}]`,
        repository: spec.repository,
        reference: tag,
        expect: spec.digest,
      })
    );
  });
  const heads = await mapLimited(
    lookups,
    LOOKUP_CONCURRENCY,
    (l) => registry.headManifest(l.repository, l.reference),
  );
  const issues: FieldIssue[] = [];
  const byKey = new Map<string, GroupArtifact>();
  lookups.forEach((lookup, i) => {
    const head = heads[i];
    const spec = specs[lookup.index];
    if (!head) {
      issues.push({
        path: lookup.path,
        message: `${spec.repository}:${lookup.reference} does not exist in the central registry`,
      });
      return;
    }
    if (lookup.expect && head.digest !== lookup.expect) {
      issues.push({
        path: lookup.path,
        message:
          `tag ${lookup.reference} of ${spec.repository} points at ${head.digest}, not the given digest`,
      });
      return;
    }
    const key = `${spec.repository}@${head.digest}`;
    const artifact = byKey.get(key) ??
      { repository: spec.repository, tag: [], digest: head.digest, type: spec.type, deleted: false };
    if (lookup.reference !== head.digest && !artifact.tag.includes(lookup.reference)) {
      artifact.tag.push(lookup.reference);
    }
    byKey.set(key, artifact);
  });
  if (issues.length) {
    throw new ApiProblem(
      422,
      "unknown_artifact",
      `${issues.length} artifact reference(s) could not be resolved in the central registry`,
      issues,
    );
  }
  return [...byKey.values()];
}
