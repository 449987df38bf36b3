/**
 * The Deno runtime that goes into an appliance image, per architecture, from npm
 * (`@deno/linux-x64-glibc` / `@deno/linux-arm64-glibc`): fetched once with `npm pack` into a cache
 * dir, checked against the pinned sha512 integrity, and its `deno` binary extracted and checked to
 * be an ELF executable for that architecture.
 *
 * @example
 * ```ts
 * import { denoRuntime } from "./deno_runtime.ts";
 * const deno = await denoRuntime("arm64"); // path to an aarch64 `deno` binary in the cache
 * ```
 * @module
 */
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { type Arch, ARCHES, parseArch } from "./arch.ts";
import { assertElfArch } from "./elf.ts";
import { readTarGz } from "./tarball.ts";
import { exists } from "../oci/fs.ts";

/** The Deno version the appliance ships (the one the project is developed on). */
export const DENO_RUNTIME_VERSION = "2.9.5";

/** npm's sha512 integrity of each pinned package tarball. */
export const DENO_RUNTIME_INTEGRITY: Record<Arch, string> = {
  amd64: "sha512-TDqcnoLe3jlgqYEQm7H7MK6q0JOth+o8iSZzknRODnVkJfPiNnjVn1M1Zc6vnp+ipkyb6Av1/CUlHgHtlq59Gw==",
  arm64: "sha512-IuYjsz9PGl7CJcNXMuN27KNDB8Q40brK3SG3l+TXMDVW61ZKwcn0fQHBHnXFiiygEwI8by/fKnASEluhZB1atw==",
};

/**
 * The cache dir for downloaded runtimes: `SATELLITE_IMAGE_CACHE`, else `$XDG_CACHE_HOME` or
 * `~/.cache`, plus `satellite-image`.
 *
 * @example
 * ```ts
 * defaultCacheDir({ HOME: "/root" }); // "/root/.cache/satellite-image"
 * ```
 */
export function defaultCacheDir(env: Record<string, string | undefined> = Deno.env.toObject()): string {
  if (env.SATELLITE_IMAGE_CACHE) return env.SATELLITE_IMAGE_CACHE;
  const base = env.XDG_CACHE_HOME || join(env.HOME || "/tmp", ".cache");
  return join(base, "satellite-image");
}

async function sha512Integrity(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-512", await Deno.readFile(path));
  return `sha512-${Buffer.from(digest).toString("base64")}`;
}

/** Runs `npm pack` for the package into `dir` and returns the tarball path. */
async function npmPack(spec: string, dir: string): Promise<string> {
  const out = await new Deno.Command("npm", {
    args: ["pack", spec, "--pack-destination", dir, "--json", "--silent"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  if (!out.success) {
    throw new Error(
      `npm pack ${spec} failed (exit ${out.code}); is npm installed and the registry reachable?\n` +
        d.decode(out.stderr),
    );
  }
  const listing = JSON.parse(d.decode(out.stdout)) as { filename?: string }[];
  const filename = listing[0]?.filename;
  if (!filename) throw new Error(`npm pack ${spec} printed no filename`);
  return join(dir, filename.replace(/^@/, "").replace(/\//g, "-"));
}

/**
 * Returns the path of a cached `deno` binary for `arch`, fetching and extracting it on first use.
 *
 * @example
 * ```ts
 * const path = await denoRuntime("amd64", { cacheDir: "/tmp/cache" });
 * ```
 */
export async function denoRuntime(arch: Arch, options: { cacheDir?: string } = {}): Promise<string> {
  const info = ARCHES[arch];
  const dir = join(options.cacheDir ?? defaultCacheDir(), `deno-${DENO_RUNTIME_VERSION}-${arch}`);
  const binary = join(dir, "deno");
  if (await exists(binary)) {
    await assertElfArch(binary, arch, "cached deno runtime");
    return binary;
  }
  // A private pack dir: two builds filling an empty cache at once must not share the tarball.
  const packDir = join(dir, `.pack-${crypto.randomUUID()}`);
  await Deno.mkdir(packDir, { recursive: true });
  const spec = `${info.denoNpmPackage}@${DENO_RUNTIME_VERSION}`;
  try {
    const tgz = await npmPack(spec, packDir);
    const integrity = await sha512Integrity(tgz);
    if (integrity !== DENO_RUNTIME_INTEGRITY[arch]) {
      throw new Error(
        `${spec}: tarball integrity ${integrity} does not match the pinned ${DENO_RUNTIME_INTEGRITY[arch]}`,
      );
    }
    const partial = `${binary}.partial-${crypto.randomUUID()}`;
    let extracted = false;
    for await (const entry of readTarGz(tgz)) {
      if (!extracted && entry.header.name === "package/deno") {
        const file = await Deno.open(partial, { write: true, createNew: true, mode: 0o755 });
        await entry.body.pipeTo(file.writable);
        extracted = true;
      } else {
        await entry.body.cancel();
      }
    }
    if (!extracted) throw new Error(`${spec}: no package/deno in the tarball`);
    try {
      await assertElfArch(partial, arch, `deno from ${spec}`);
      await Deno.chmod(partial, 0o755);
      await Deno.rename(partial, binary);
    } finally {
      await Deno.remove(partial).catch(() => {});
    }
  } finally {
    await Deno.remove(packDir, { recursive: true }).catch(() => {});
  }
  return binary;
}

if (import.meta.main) {
  for (const name of Deno.args) console.log(await denoRuntime(parseArch(name)));
}
