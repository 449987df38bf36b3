/**
 * The desired set: the union over the satellite's groups of their non-deleted artifacts, keyed by
 * repository + digest, with tags merged. An artifact two groups want has both as owners, so removing
 * it from one group (or marking it `deleted` there) keeps it while the other still wants it.
 *
 * @example
 * ```ts
 * import { desiredSet } from "./desired.ts";
 * const d = "sha256:" + "a".repeat(64);
 * const set = desiredSet([
 *   { name: "a", state: { registry: "r", artifacts: [{ repository: "x/y", tag: ["1"], digest: d, type: "IMAGE", deleted: false }] } },
 *   { name: "b", state: { registry: "r", artifacts: [{ repository: "x/y", tag: ["2"], digest: d, type: "IMAGE", deleted: false }] } },
 * ]);
 * set.artifacts.get(`x/y@${d}`)?.tags; // ["1", "2"]
 * ```
 * @module
 */
import type { GroupState } from "../schemas/group_state.ts";
import type { EventLog } from "./events.ts";

/** One artifact the device must hold. */
export interface DesiredArtifact {
  repository: string;
  digest: string;
  /** Tags to set (sorted, unique). */
  tags: string[];
  /** Groups that want it (sorted). */
  groups: string[];
}

/** Two artifacts of one repository claim the same tag; the first group (by name) wins. */
export interface TagConflict {
  repository: string;
  tag: string;
  kept: string;
  dropped: string;
}

/** The desired set. */
export interface DesiredSet {
  /** By {@linkcode artifactKey}. */
  artifacts: Map<string, DesiredArtifact>;
  conflicts: TagConflict[];
}

/**
 * The key of an artifact: `repository@digest`.
 *
 * @example
 * ```ts
 * artifactKey("a/b", "sha256:" + "0".repeat(64));
 * ```
 */
export function artifactKey(repository: string, digest: string): string {
  return `${repository}@${digest}`;
}

/**
 * Computes the desired set from the group states in force.
 *
 * @example
 * ```ts
 * desiredSet([]).artifacts.size; // 0
 * ```
 */
export function desiredSet(groups: Iterable<{ name: string; state: GroupState }>): DesiredSet {
  const artifacts = new Map<string, DesiredArtifact>();
  const tagOwner = new Map<string, string>();
  const conflicts: TagConflict[] = [];
  const sorted = [...groups].sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  for (const group of sorted) {
    for (const artifact of group.state.artifacts) {
      if (artifact.deleted) continue;
      const key = artifactKey(artifact.repository, artifact.digest);
      let entry = artifacts.get(key);
      if (!entry) {
        entry = { repository: artifact.repository, digest: artifact.digest, tags: [], groups: [] };
        artifacts.set(key, entry);
      }
      if (!entry.groups.includes(group.name)) entry.groups.push(group.name);
      for (const tag of artifact.tag) {
        const tagKey = `${artifact.repository}:${tag}`;
        const owner = tagOwner.get(tagKey);
        if (owner === undefined) {
          tagOwner.set(tagKey, artifact.digest);
          entry.tags.push(tag);
        } else if (owner !== artifact.digest) {
          conflicts.push({ repository: artifact.repository, tag, kept: owner, dropped: artifact.digest });
        }
      }
    }
  }
  for (const entry of artifacts.values()) {
    entry.tags = [...new Set(entry.tags)].sort();
    entry.groups.sort();
  }
  return { artifacts, conflicts };
}

/**
 * Emits a warning event per tag claimed by two groups for different digests.
 *
 * @example
 * ```ts
 * import { EventLog } from "./events.ts";
 * declare const desired: DesiredSet;
 * warnConflicts(desired, new EventLog());
 * ```
 */
export function warnConflicts(desired: DesiredSet, events: EventLog): void {
  for (const c of desired.conflicts) {
    events.emit(
      "warn",
      "state.tag-conflict",
      `${c.repository}:${c.tag} is claimed by ${c.kept} and ${c.dropped}; keeping ${c.kept}`,
    );
  }
}
