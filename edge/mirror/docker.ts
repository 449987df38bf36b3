/**
 * Docker Engine: `/etc/docker/daemon.json`. Docker's `registry-mirrors` applies to Docker Hub only,
 * so the local registry becomes a mirror only when the central registry is `docker.io`. For any
 * other central registry Docker keeps pulling `<host>/...` from `<host>`; the satellite then only
 * lists the local registry (and a plain-HTTP upstream) under `insecure-registries`, so images can be
 * pulled as `<local>/<repo>` explicitly, and says so in a note.
 *
 * Existing keys are kept; values are only ever added to the two lists. Invalid JSON is an error,
 * never overwritten.
 *
 * @example
 * ```ts
 * import { dockerWriter } from "./docker.ts";
 * import { resolveTarget } from "./target.ts";
 * const t = resolveTarget({ localUrl: "http://127.0.0.1:8585", upstreamHost: "docker.io", skipVerify: false });
 * dockerWriter.render('{"log-driver":"journald"}', t);
 * ```
 * @module
 */
import { isDeepStrictEqual } from "node:util";
import type { MirrorTarget } from "./target.ts";
import type { MirrorWriter } from "./writer.ts";

function parseDaemonJson(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(
      `/etc/docker/daemon.json is not valid JSON (${(e as Error).message}); fix or remove it first`,
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error("/etc/docker/daemon.json must be a JSON object; fix or remove it first");
  }
  return value as Record<string, unknown>;
}

function stringList(config: Record<string, unknown>, key: string): string[] {
  const value = config[key] ?? [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    throw new Error(`/etc/docker/daemon.json: "${key}" must be an array of strings; fix it first`);
  }
  return value as string[];
}

/** `list` with `first` moved (or added) to the front. */
const withFirst = (list: string[], first: string) => [first, ...list.filter((v) => v !== first)];
/** `list` with `value` appended unless present. */
const withValue = (list: string[], value: string) => list.includes(value) ? list : [...list, value];

/**
 * The Docker writer.
 *
 * @example
 * ```ts
 * dockerWriter.path(t); // "/etc/docker/daemon.json"
 * ```
 */
export const dockerWriter: MirrorWriter = {
  path: () => "/etc/docker/daemon.json",
  render(existing, target) {
    const before = existing === null || existing.trim() === "" ? {} : parseDaemonJson(existing);
    const config: Record<string, unknown> = structuredClone(before);
    if (target.isDockerHub) {
      config["registry-mirrors"] = withFirst(stringList(config, "registry-mirrors"), target.localUrl);
    }
    let insecure = stringList(config, "insecure-registries");
    if (target.localPlainHttp || target.skipVerify) insecure = withValue(insecure, target.localHost);
    if (target.upstreamPlainHttp) insecure = withValue(insecure, target.host);
    if (insecure.length > 0) config["insecure-registries"] = insecure;
    // Unchanged settings keep the operator's formatting byte for byte.
    if (existing !== null && isDeepStrictEqual(before, config)) return existing;
    return JSON.stringify(config, null, 2) + "\n";
  },
  notes: (target: MirrorTarget) => [
    "Docker reads daemon.json at start: systemctl restart docker.",
    ...(target.isDockerHub ? [] : [
      `Docker Engine uses registry-mirrors for Docker Hub only, so pulls of ${target.host}/... still go to ` +
      `${target.host}. Pull ${target.localHost}/<repository> from the local registry explicitly, or use a ` +
      `runtime with real mirror support (containerd, CRI-O, Podman, k3s).`,
    ]),
  ],
};
