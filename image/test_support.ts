/**
 * Fixtures for the image tests: a program shaped like the real entries (local modules, an npm
 * package, Deno KV) to bundle while `edge/main.ts` does not exist, and real ELF binaries of each
 * architecture to stand in for Zot (no Zot binary can be had here).
 *
 * @example
 * ```ts
 * import { writeTestProgram, zotStandIn } from "./test_support.ts";
 * const entry = await writeTestProgram("/tmp/prog");
 * const zot = await zotStandIn("arm64", "/tmp/prog");
 * ```
 * @module
 */
import { join } from "node:path";
import type { Arch } from "./arch.ts";
import { bundleEntry } from "./bundle.ts";
import { denoRuntime } from "./deno_runtime.ts";

/**
 * Writes `main.ts` (+ `lib/greeting.ts`) into `dir`: `main.ts NAME KVPATH` stores "hello NAME" in
 * Deno KV at KVPATH, reads it back and prints it as JSON. An empty NAME fails zod validation.
 *
 * @example
 * ```ts
 * const entry = await writeTestProgram("/tmp/prog");
 * ```
 */
export async function writeTestProgram(dir: string): Promise<string> {
  await Deno.mkdir(join(dir, "lib"), { recursive: true });
  await Deno.writeTextFile(
    join(dir, "lib", "greeting.ts"),
    `import { z } from "zod";\nexport const Name = z.string().min(1);\nexport const greet = (n: string) => "hello " + Name.parse(n);\n`,
  );
  const entry = join(dir, "main.ts");
  await Deno.writeTextFile(
    entry,
    `import { greet } from "./lib/greeting.ts";
const kv = await Deno.openKv(Deno.args[1]);
await kv.set(["greeting"], greet(Deno.args[0]));
console.log(JSON.stringify((await kv.get(["greeting"])).value));
kv.close();
`,
  );
  return entry;
}

/**
 * Bundles the test program into `dir/program.js` and returns its path.
 *
 * @example
 * ```ts
 * const js = await bundledTestProgram("/tmp/prog");
 * ```
 */
export async function bundledTestProgram(dir: string): Promise<string> {
  const entry = await writeTestProgram(join(dir, "program-src"));
  const output = join(dir, "program.js");
  await bundleEntry({ entry, output });
  return output;
}

/**
 * A real executable for `arch` to stand in for Zot: a copy of `/usr/bin/true` (x86-64 host) or of
 * the aarch64 `deno` from npm.
 *
 * @example
 * ```ts
 * const zot = await zotStandIn("amd64", "/tmp/x");
 * ```
 */
export async function zotStandIn(arch: Arch, dir: string): Promise<string> {
  const path = join(dir, `zot-${arch}`);
  await Deno.copyFile(arch === "amd64" ? "/usr/bin/true" : await denoRuntime("arm64"), path);
  await Deno.chmod(path, 0o755);
  return path;
}
