/**
 * Runtime mirror wiring: make the satellite's local registry the mirror of the central registry
 * for containerd/nerdctl, CRI-O/Podman, Docker (Docker Hub only) and k3s/RKE2.
 *
 * @example
 * ```ts
 * import { applyMirrorConfig, mirrorConfigCommand } from "./mod.ts";
 * const plan = await applyMirrorConfig({ runtime: "crio", localUrl: "http://127.0.0.1:8585", upstreamHost: "harbor.example.com" });
 * await mirrorConfigCommand(["--help"]);
 * ```
 * @module
 */
export { applyMirrorConfig, BACKUP_SUFFIX, type MirrorPlan, type PlannedFile, WRITERS } from "./apply.ts";
export { formatMirrorPlan, MIRROR_CONFIG_USAGE, type MirrorCliDefaults, mirrorConfigCommand } from "./cli.ts";
export { type MirrorTarget, resolveTarget } from "./target.ts";
