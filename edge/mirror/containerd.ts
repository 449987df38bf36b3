/**
 * containerd (and nerdctl, which reads the same directory): `/etc/containerd/certs.d/<host>/hosts.toml`.
 * containerd tries each `[host."..."]` in order and then falls back to `server`; a mirror host gets
 * the image's namespace as `?ns=<host>` and the same repository path. `resolve` lets the local
 * registry answer tag lookups (it only holds what the satellite verified by digest). The directory
 * is read on every pull, so no restart is needed; CRI needs `config_path` pointing at `certs.d`.
 *
 * An existing `hosts.toml` is merged: its `server`, other hosts, comments and keys stay; our host
 * table is (re)placed first.
 *
 * @example
 * ```ts
 * import { containerdWriter } from "./containerd.ts";
 * import { resolveTarget } from "./target.ts";
 * const t = resolveTarget({ localUrl: "http://127.0.0.1:8585", upstreamHost: "harbor.example.com", skipVerify: false });
 * containerdWriter.path(t); // "/etc/containerd/certs.d/harbor.example.com/hosts.toml"
 * console.log(containerdWriter.render(null, t));
 * ```
 * @module
 */
import { GENERATED_BY, type MirrorTarget } from "./target.ts";
import { joinSections, splitSections, type TomlSection, tomlString } from "./toml_sections.ts";
import type { MirrorWriter } from "./writer.ts";

function hostSection(target: MirrorTarget): TomlSection {
  const lines = [`[host.${tomlString(target.localUrl)}]`, `  capabilities = ["pull", "resolve"]`];
  if (target.skipVerify) lines.push("  skip_verify = true");
  return { path: ["host", target.localUrl], array: false, lines };
}

const isOurs = (section: TomlSection, target: MirrorTarget) =>
  section.path[0] === "host" && section.path[1]?.replace(/\/+$/, "") === target.localUrl;

/**
 * The containerd/nerdctl writer.
 *
 * @example
 * ```ts
 * containerdWriter.notes;
 * ```
 */
export const containerdWriter: MirrorWriter = {
  path: (target) => `/etc/containerd/certs.d/${target.host}/hosts.toml`,
  render(existing, target) {
    const doc = splitSections(
      existing ?? `# ${GENERATED_BY}: pulls of ${target.host} try the local registry first.`,
    );
    if (!doc.root.some((line) => /^\s*server\s*=/.test(line))) {
      doc.root.push(`server = ${tomlString(target.upstreamUrl)}`);
    }
    const others = doc.sections.filter((s) => !isOurs(s, target));
    const firstHost = others.findIndex((s) => s.path[0] === "host");
    others.splice(firstHost < 0 ? others.length : firstHost, 0, hostSection(target));
    doc.sections = others;
    return joinSections(doc);
  },
  notes: (target) => [
    `containerd reads certs.d on every pull (no restart); CRI must have config_path = "/etc/containerd/certs.d" ` +
    `(for ctr: --hosts-dir /etc/containerd/certs.d). The local registry is asked with ?ns=${target.host}.`,
  ],
};
