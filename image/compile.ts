/**
 * Self-contained executables: `deno task compile [-- --arch amd64,arm64]` turns each bundle
 * (`dist/satellite.js`, `dist/ground-control.js`; bundled first when stale) into
 * `dist/<name>-<arch>` with `deno compile --target x86_64-unknown-linux-gnu|aarch64-unknown-linux-gnu`.
 *
 * `deno compile` needs the small `denort` runtime of the target. It takes it from the `DENORT_BIN`
 * environment variable when set, else from its cache, else downloads it. Offline, give it one per
 * target: `DENORT_BIN_X86_64` / `DENORT_BIN_AARCH64` (or `DENORT_BIN` for the architecture it is
 * built for; its ELF header tells which). Without one, the run fails with a message saying what to
 * download.
 *
 * @example
 * ```ts
 * import { compileProgram } from "./compile.ts";
 * await compileProgram({ bundle: "dist/satellite.js", output: "dist/satellite-arm64", arch: "arm64" });
 * ```
 * @module
 */
import { join } from "node:path";
import { parseCliFlags } from "./cli_args.ts";
import { type Arch, ARCHES, archOfMachine, parseArch } from "./arch.ts";
import { bundleAll, REPO_ROOT } from "./bundle.ts";
import { assertElfArch, readElfMachine } from "./elf.ts";

/** Per-architecture environment variables naming a denort binary. */
export const DENORT_ENV: Record<Arch, string> = { amd64: "DENORT_BIN_X86_64", arm64: "DENORT_BIN_AARCH64" };

/**
 * Where `deno compile` would download the denort runtime for a target.
 *
 * @example
 * ```ts
 * denortUrl("arm64", "2.9.5"); // "https://dl.deno.land/release/v2.9.5/denort-aarch64-unknown-linux-gnu.zip"
 * ```
 */
export function denortUrl(arch: Arch, version = Deno.version.deno): string {
  return `https://dl.deno.land/release/v${version}/denort-${ARCHES[arch].denoTarget}.zip`;
}

/**
 * Thrown when no denort runtime is available for a target; the message says what to download.
 *
 * @example
 * ```ts
 * console.log(new DenortMissingError("arm64", "offline").message);
 * ```
 */
export class DenortMissingError extends Error {
  constructor(arch: Arch, detail: string) {
    const target = ARCHES[arch].denoTarget;
    super(
      `no denort runtime for ${target}: ${detail}\n` +
        `Download ${denortUrl(arch)} on a machine with network access, unzip it, and run again with ` +
        `DENORT_BIN=/path/to/denort (or ${
          DENORT_ENV[arch]
        }=/path/to/denort to build several targets in one run).`,
    );
    this.name = "DenortMissingError";
  }
}

/**
 * The denort binary to use for `arch`, from the environment: `DENORT_BIN_X86_64`/`DENORT_BIN_AARCH64`
 * first, then `DENORT_BIN` if its ELF header says it is for `arch`. Undefined = let deno find one.
 *
 * @example
 * ```ts
 * await denortFor("arm64", { DENORT_BIN_AARCH64: "/opt/denort-arm64" });
 * ```
 */
export async function denortFor(
  arch: Arch,
  env: Record<string, string | undefined> = Deno.env.toObject(),
): Promise<string | undefined> {
  const specific = env[DENORT_ENV[arch]];
  if (specific) {
    await assertElfArch(specific, arch, DENORT_ENV[arch]);
    return specific;
  }
  const generic = env.DENORT_BIN;
  if (!generic) return undefined;
  const { machine } = await readElfMachine(generic);
  return archOfMachine(machine) === arch ? generic : undefined;
}

/** Options for {@linkcode compileProgram}. */
export interface CompileOptions {
  /** The single-file bundle to compile. */
  bundle: string;
  /** The executable to write. */
  output: string;
  arch: Arch;
  /** Environment to read DENORT_* from (default: the process's). */
  env?: Record<string, string | undefined>;
}

/**
 * Compiles one bundle for one architecture and checks the result's ELF machine.
 *
 * @example
 * ```ts
 * await compileProgram({ bundle: "dist/satellite.js", output: "dist/satellite-amd64", arch: "amd64" });
 * ```
 */
export async function compileProgram(options: CompileOptions): Promise<void> {
  const env = options.env ?? Deno.env.toObject();
  const denort = await denortFor(options.arch, env);
  // Never let a DENORT_BIN meant for another architecture leak into this target's compile.
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && k !== "DENORT_BIN") childEnv[k] = v;
  if (denort) childEnv.DENORT_BIN = denort;
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "compile",
      "--quiet",
      "--no-config",
      "--unstable-kv",
      "--allow-all",
      "--no-prompt",
      "--target",
      ARCHES[options.arch].denoTarget,
      "--output",
      options.output,
      options.bundle,
    ],
    env: childEnv,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    const stderr = new TextDecoder().decode(out.stderr);
    if (!denort && /base binary|dl\.deno\.land|denort|error sending request/i.test(stderr)) {
      const reason = stderr.split("\n").find((l) => /error sending request|dns error|Connect/i.test(l))
        ?.trim().replace(/^\d+:\s*/, "");
      throw new DenortMissingError(
        options.arch,
        `DENORT_BIN is not set for it and deno compile could not download it (${reason ?? "offline?"})`,
      );
    }
    throw new Error(
      `deno compile ${options.bundle} for ${options.arch} failed (exit ${out.code}):\n${stderr}`,
    );
  }
  await assertElfArch(options.output, options.arch, "compiled executable");
}

if (import.meta.main) {
  const values = parseCliFlags(Deno.args, {
    arch: { type: "string", default: "amd64,arm64" },
    out: { type: "string" },
    // Compile these files instead of the project's bundles.
    bundle: { type: "string", multiple: true },
  }, "usage: deno task compile -- [--arch amd64,arm64] [--out DIR] [--bundle FILE ...]");
  const outDir = values.out ?? join(REPO_ROOT, "dist");
  const arches = values.arch.split(",").filter(Boolean).map(parseArch);
  const bundles = values.bundle?.length
    ? values.bundle
    : (await bundleAll()).filter((o) => o.status !== "missing-entry").map((o) => o.output);
  if (bundles.length === 0) {
    console.error("nothing to compile: neither edge/main.ts nor control/main.ts exists yet");
    Deno.exit(1);
  }
  await Deno.mkdir(outDir, { recursive: true });
  let failed = false;
  const noRuntime = new Set<Arch>();
  for (const bundle of bundles) {
    const name = bundle.slice(bundle.lastIndexOf("/") + 1).replace(/\.js$/, "");
    for (const arch of arches) {
      if (noRuntime.has(arch)) continue; // said once per architecture is enough
      const output = join(outDir, `${name}-${arch}`);
      try {
        await compileProgram({ bundle, output, arch });
        console.log(`compiled ${output} (${ARCHES[arch].denoTarget})`);
      } catch (e) {
        failed = true;
        if (e instanceof DenortMissingError) noRuntime.add(arch);
        console.error(`error: ${(e as Error).message}`);
      }
    }
  }
  if (failed) Deno.exit(1);
}
