/**
 * CRI-O and Podman (containers-registries.conf v2): a drop-in
 * `/etc/containers/registries.conf.d/50-satellite.conf` with one `[[registry]]` per upstream and the
 * local registry as its first `[[registry.mirror]]`; the `location` (upstream) is the fallback.
 * Mirrors are named `host[:port]` without scheme, so a plain-HTTP registry is marked `insecure`.
 * Drop-ins override `[[registry]]` tables with the same prefix from `registries.conf`.
 *
 * The drop-in is the satellite's own file: `[[registry]]` blocks for other prefixes (another
 * upstream) are kept, the one for this upstream is replaced.
 *
 * @example
 * ```ts
 * import { containersWriter } from "./containers.ts";
 * import { resolveTarget } from "./target.ts";
 * const t = resolveTarget({ localUrl: "http://127.0.0.1:8585", upstreamHost: "harbor.example.com", skipVerify: false });
 * console.log(containersWriter.render(null, t));
 * ```
 * @module
 */
import { GENERATED_BY, type MirrorTarget } from "./target.ts";
import { joinSections, splitSections, type TomlSection, tomlString } from "./toml_sections.ts";
import type { MirrorWriter } from "./writer.ts";

/** A `[[registry]]` table plus the `[[registry.*]]` tables that belong to it. */
interface RegistryBlock {
  prefix: string | undefined;
  sections: TomlSection[];
}

function registryBlocks(sections: TomlSection[]): { before: TomlSection[]; blocks: RegistryBlock[] } {
  const before: TomlSection[] = [];
  const blocks: RegistryBlock[] = [];
  for (const section of sections) {
    const isRegistry = section.array && section.path.length === 1 && section.path[0] === "registry";
    if (isRegistry) {
      const prefixLine = section.lines.find((l) => /^\s*prefix\s*=/.test(l)) ??
        section.lines.find((l) => /^\s*location\s*=/.test(l));
      const value = prefixLine ? /=\s*(".*"|'.*')\s*(?:#.*)?$/.exec(prefixLine)?.[1] : undefined;
      const prefix = value?.startsWith('"') ? JSON.parse(value) as string : value?.slice(1, -1);
      blocks.push({ prefix, sections: [section] });
    } else if (section.path[0] === "registry" && blocks.length > 0) {
      blocks[blocks.length - 1].sections.push(section);
    } else {
      before.push(section);
    }
  }
  return { before, blocks };
}

function ourBlock(target: MirrorTarget): RegistryBlock {
  const registry = [
    "[[registry]]",
    `prefix = ${tomlString(target.host)}`,
    `location = ${tomlString(target.host)}`,
  ];
  if (target.upstreamPlainHttp) registry.push("insecure = true");
  const mirror = ["[[registry.mirror]]", `location = ${tomlString(target.localHost)}`];
  if (target.localPlainHttp || target.skipVerify) mirror.push("insecure = true");
  return {
    prefix: target.host,
    sections: [
      { path: ["registry"], array: true, lines: registry },
      { path: ["registry", "mirror"], array: true, lines: mirror },
    ],
  };
}

/**
 * The CRI-O/Podman writer.
 *
 * @example
 * ```ts
 * containersWriter.path(t); // "/etc/containers/registries.conf.d/50-satellite.conf"
 * ```
 */
export const containersWriter: MirrorWriter = {
  path: () => "/etc/containers/registries.conf.d/50-satellite.conf",
  render(existing, target) {
    const doc = splitSections(existing ?? `# ${GENERATED_BY}: the local registry mirrors these registries.`);
    const { before, blocks } = registryBlocks(doc.sections);
    const index = blocks.findIndex((b) => b.prefix === target.host);
    if (index >= 0) blocks[index] = ourBlock(target);
    else blocks.push(ourBlock(target));
    doc.sections = [...before, ...blocks.flatMap((b) => b.sections)];
    return joinSections(doc);
  },
  notes: () => [
    "Podman reads registries.conf.d on every command; CRI-O reloads it on SIGHUP (systemctl reload crio).",
  ],
};
