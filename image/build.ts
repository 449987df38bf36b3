/**
 * The appliance image: `deno task image -- --arch arm64|amd64 [--zot PATH] --out DIR` writes
 * `DIR/satellite-<arch>.tar.gz`, an overlay for a Debian-family root filesystem holding the bundled
 * satellite, the Deno runtime for that architecture (from npm), optionally Zot, the systemd units
 * with their enablement links, a default satellite config, Zot's config generated from it, and the
 * boot-partition directory that per-device provisioning (`image/provision.ts`) fills with a token.
 *
 * Every binary's ELF machine is checked against the architecture: a wrong-arch Zot is refused.
 *
 * @example
 * ```ts
 * import { buildImage } from "./build.ts";
 * const { path } = await buildImage({ arch: "amd64", zot: "/tmp/zot-amd64", outDir: "/tmp/out" });
 * ```
 * @module
 */
import { join } from "node:path";
import { parseCliFlags } from "./cli_args.ts";
import { SatelliteConfig } from "../schemas/satellite_config.ts";
import { parseJsonOrThrow, parseOrThrow } from "../schemas/validate.ts";
import { sha256Digest } from "../oci/digest.ts";
import { type Arch, ARCHES, parseArch } from "./arch.ts";
import { BUNDLE_TARGETS, bundleAll, REPO_ROOT } from "./bundle.ts";
import { DENO_RUNTIME_VERSION, denoRuntime } from "./deno_runtime.ts";
import { assertElfArch } from "./elf.ts";
import { defaultApplianceConfig, LAYOUT } from "./layout.ts";
import { TarGzWriter } from "./tarball.ts";
import { zotConfigFromSatellite } from "./zot_config.ts";

/** Unpacking an image (e.g. for a first-boot test from the unpacked tree). */
export { unpackImage } from "./tarball.ts";

/** The repository's systemd directory. */
export const SYSTEMD_DIR = join(REPO_ROOT, "systemd");

/** Options for {@linkcode buildImage}. */
export interface BuildImageOptions {
  arch: Arch;
  /** A Zot binary for `arch`; without one the image uses the satellite's built-in registry. */
  zot?: string;
  /** Directory for `satellite-<arch>.tar.gz`. */
  outDir: string;
  /** The bundled satellite; default: `dist/satellite.js`, rebundled from `edge/main.ts` when stale. */
  satelliteJs?: string;
  /** The satellite config document to ship; default: {@linkcode defaultApplianceConfig}. */
  config?: Record<string, unknown>;
  /** Cache for the Deno runtime downloads. */
  cacheDir?: string;
}

/** What {@linkcode buildImage} wrote. */
export interface BuiltImage {
  /** The `.tar.gz`. */
  path: string;
  /** Entry names in order. */
  entries: string[];
}

/** `dist/satellite.js`, bundled first when missing or stale. */
async function bundledSatellite(): Promise<string> {
  const target = BUNDLE_TARGETS.find((t) => t.output === "satellite.js")!;
  const [outcome] = await bundleAll({ targets: [target] });
  if (outcome.status === "missing-entry") {
    throw new Error(`${target.entry} does not exist yet: pass --satellite-js with a bundled satellite`);
  }
  return outcome.output;
}

/** Every parent directory of the given entry names, outermost first (`a/`, `a/b/`). */
function parentDirectories(names: string[]): string[] {
  const dirs = new Set<string>();
  for (const name of names) {
    const parts = name.split("/").slice(0, -1);
    for (let i = 1; i <= parts.length; i++) dirs.add(`${parts.slice(0, i).join("/")}/`);
  }
  return [...dirs].sort((a, b) => a.split("/").length - b.split("/").length || a.localeCompare(b));
}

/**
 * Builds the image for one architecture.
 *
 * @example
 * ```ts
 * await buildImage({ arch: "arm64", zot: "/srv/zot-linux-arm64", outDir: "dist/images" });
 * ```
 */
export async function buildImage(options: BuildImageOptions): Promise<BuiltImage> {
  const { arch } = options;
  const withZot = options.zot !== undefined;
  const configDoc = options.config ?? defaultApplianceConfig({ withZot });
  const config = parseOrThrow(SatelliteConfig, configDoc, "satellite config for the image");
  if (withZot && config.localRegistry.mode !== "external") {
    throw new Error(
      'a Zot binary was given but the satellite config has localRegistry.mode "builtin": ' +
        'set localRegistry to { "mode": "external", "url": "http://127.0.0.1:5000" } or drop --zot',
    );
  }
  if (options.zot) await assertElfArch(options.zot, arch, "zot binary");
  const zot = withZot ? await zotConfigFromSatellite(config) : undefined;
  const satelliteJs = options.satelliteJs ?? await bundledSatellite();
  const deno = await denoRuntime(arch, options.cacheDir ? { cacheDir: options.cacheDir } : {});
  const satelliteCode = await Deno.readFile(satelliteJs);

  const units = ["satellite.service", ...(withZot ? ["zot.service"] : [])];
  const files: { name: string; mode: number; content?: string | Uint8Array; path?: string }[] = [
    { name: LAYOUT.deno, mode: 0o755, path: deno },
    ...(options.zot ? [{ name: LAYOUT.zot, mode: 0o755, path: options.zot }] : []),
    { name: LAYOUT.satelliteJs, mode: 0o755, content: satelliteCode },
    { name: LAYOUT.tokenHandoff, mode: 0o755, path: join(SYSTEMD_DIR, "satellite-token-handoff") },
    {
      name: LAYOUT.buildInfo,
      mode: 0o644,
      content: JSON.stringify(
        {
          arch,
          denoTarget: ARCHES[arch].denoTarget,
          deno: `${ARCHES[arch].denoNpmPackage}@${DENO_RUNTIME_VERSION}`,
          satelliteJs: sha256Digest(satelliteCode),
          zot: withZot,
        },
        null,
        2,
      ) + "\n",
    },
    { name: LAYOUT.satelliteConfig, mode: 0o644, content: JSON.stringify(configDoc, null, 2) + "\n" },
    ...(zot
      ? [{ name: LAYOUT.zotConfig, mode: 0o644, content: JSON.stringify(zot.config, null, 2) + "\n" }]
      : []),
    // Zot (an unprivileged service) must read it; it holds only a bcrypt hash.
    ...(zot?.htpasswd ? [{ name: LAYOUT.zotHtpasswd, mode: 0o644, content: zot.htpasswd }] : []),
    ...units.map((u) => ({ name: `${LAYOUT.unitDir}/${u}`, mode: 0o644, path: join(SYSTEMD_DIR, u) })),
  ];
  const links = units.map((u) => ({ name: `${LAYOUT.wantsDir}/${u}`, target: `../${u}` }));
  const directories = parentDirectories([
    ...files.map((f) => f.name),
    ...links.map((l) => l.name),
    `${LAYOUT.bootDir}/x`,
  ]);

  await Deno.mkdir(options.outDir, { recursive: true });
  const path = join(options.outDir, `satellite-${arch}.tar.gz`);
  const entries: string[] = [];
  await TarGzWriter.writeAtomically(path, async (writer) => {
    for (const dir of directories) {
      // The boot partition's satellite directory will hold the token: owner only.
      await writer.directory(dir, dir === `${LAYOUT.bootDir}/` ? 0o700 : 0o755);
      entries.push(dir);
    }
    for (const f of files) {
      if (f.path) await writer.fileFromPath(f.name, f.path, f.mode);
      else await writer.file(f.name, f.content ?? "", f.mode);
      entries.push(f.name);
    }
    for (const l of links) {
      await writer.symlink(l.name, l.target);
      entries.push(l.name);
    }
  });
  return { path, entries };
}

if (import.meta.main) {
  const values = parseCliFlags(
    Deno.args,
    {
      arch: { type: "string" },
      zot: { type: "string" },
      out: { type: "string" },
      config: { type: "string" },
      "satellite-js": { type: "string" },
      cache: { type: "string" },
    },
    "usage: deno task image -- --arch amd64|arm64 [--zot PATH] --out DIR [--config FILE] [--satellite-js FILE] [--cache DIR]",
  );
  try {
    if (!values.arch || !values.out) {
      throw new Error("usage: deno task image -- --arch amd64|arm64 [--zot PATH] --out DIR [--config FILE]");
    }
    let config: Record<string, unknown> | undefined;
    if (values.config) {
      const text = await Deno.readTextFile(values.config);
      parseJsonOrThrow(SatelliteConfig, text, `satellite config ${values.config}`);
      config = JSON.parse(text);
    }
    const built = await buildImage({
      arch: parseArch(values.arch),
      outDir: values.out,
      ...(values.zot ? { zot: values.zot } : {}),
      ...(config ? { config } : {}),
      ...(values["satellite-js"] ? { satelliteJs: values["satellite-js"] } : {}),
      ...(values.cache ? { cacheDir: values.cache } : {}),
    });
    console.log(`wrote ${built.path} (${built.entries.length} entries)`);
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
