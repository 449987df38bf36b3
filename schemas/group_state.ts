/**
 * Group state: which artifacts every satellite of a group must hold. Wire-compatible with the
 * Harbor edge state file (see `shared/fixtures/`): `labels` may be `null`, `tag` is an array,
 * `type` is `"IMAGE"` for images. `repository` is the path in the source registry, never the
 * group name.
 *
 * @example
 * ```ts
 * import { GroupState } from "./group_state.ts";
 * GroupState.parse({ registry: "test", artifacts: [] });
 * ```
 * @module
 */
import { z } from "zod";
import { Digest, RepositoryName, Tag } from "./oci.ts";

/**
 * One artifact a group wants (or, with `deleted: true`, wants removed).
 *
 * @example
 * ```ts
 * GroupArtifact.parse({ repository: "library/nginx", tag: ["1.25"], digest: "sha256:" + "a".repeat(64), type: "IMAGE", deleted: false });
 * ```
 */
export const GroupArtifact = z.object({
  repository: RepositoryName,
  tag: z.array(Tag).nullable().default([]).transform((t) => t ?? []),
  digest: Digest,
  type: z.string().min(1).default("IMAGE"),
  deleted: z.boolean().default(false),
  labels: z.array(z.string()).nullable().optional(),
});
/** One artifact of a group state. */
export type GroupArtifact = z.infer<typeof GroupArtifact>;

/**
 * A group state file. `group` is present when Harbor's registry adapter sends it.
 *
 * @example
 * ```ts
 * GroupState.parse({ group: "stores-eu", registry: "harbor.example.com", artifacts: [] });
 * ```
 */
export const GroupState = z.object({
  group: z.string().min(1).optional(),
  registry: z.string().min(1),
  artifacts: z.array(GroupArtifact),
});
/** A group state. */
export type GroupState = z.infer<typeof GroupState>;

/**
 * Group names: lower-case DNS-label-like, since they become a repository path part.
 *
 * @example
 * ```ts
 * GroupName.parse("stores-eu");
 * ```
 */
export const GroupName = z.string().regex(
  /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/,
  "must be lower-case letters, digits and single . _ - separators, e.g. stores-eu",
).max(63, "must be at most 63 characters");
