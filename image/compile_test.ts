import { equal, match, ok, rejects } from "node:assert/strict";
import { join } from "node:path";
import { compileProgram, denortFor, DenortMissingError } from "./compile.ts";
import { denoRuntime } from "./deno_runtime.ts";
import { readElfMachine } from "./elf.ts";

const MARKER = `compile-test-marker-${crypto.randomUUID()}`;

async function withBundle(fn: (dir: string, bundle: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "compile-" });
  try {
    const bundle = join(dir, "program.js");
    await Deno.writeTextFile(bundle, `console.log(${JSON.stringify(MARKER)});\n`);
    await fn(dir, bundle);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function baseEnv(denoDir: string): Record<string, string> {
  return {
    DENO_DIR: denoDir,
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: Deno.env.get("HOME") ?? "/",
  };
}

Deno.test("without a denort, compile fails with a message naming DENORT_BIN and what to download", async () => {
  await withBundle(async (dir, bundle) => {
    // An empty DENO_DIR: no cached denort; offline, the download fails too.
    const denoDir = join(dir, "deno-dir");
    await Deno.mkdir(denoDir);
    await rejects(
      compileProgram({ bundle, output: join(dir, "out"), arch: "arm64", env: baseEnv(denoDir) }),
      (e: unknown) => {
        ok(e instanceof DenortMissingError, String(e));
        match(e.message, /no denort runtime for aarch64-unknown-linux-gnu/);
        match(e.message, /DENORT_BIN=\/path\/to\/denort/);
        match(e.message, /DENORT_BIN_AARCH64/);
        match(
          e.message,
          /https:\/\/dl\.deno\.land\/release\/v2\.9\.5\/denort-aarch64-unknown-linux-gnu\.zip/,
        );
        return true;
      },
    );
  });
});

Deno.test("deno task compile's CLI exits non-zero with the DENORT_BIN message", async () => {
  await withBundle(async (dir, bundle) => {
    const denoDir = Deno.env.get("DENO_DIR") ?? join(Deno.env.get("HOME") ?? "/root", ".cache", "deno");
    const cached = join(
      denoDir,
      "dl",
      "release",
      `v${Deno.version.deno}`,
      "denort-x86_64-unknown-linux-gnu.zip",
    );
    if (await Deno.stat(cached).then(() => true, () => false)) return; // a machine that has one compiles fine
    const env = Deno.env.toObject();
    delete env.DENORT_BIN;
    delete env.DENORT_BIN_X86_64;
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("./compile.ts", import.meta.url).pathname,
        "--arch",
        "amd64",
        "--bundle",
        bundle,
      ],
      env: { ...env, NO_COLOR: "1" },
      clearEnv: true,
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    equal(out.code, 1, stderr);
    match(stderr, /error: no denort runtime for x86_64-unknown-linux-gnu/);
    match(stderr, /DENORT_BIN/);
  });
});

Deno.test("a DENORT_BIN for the target is handed to deno compile (stand-in runtime: deno itself)", async () => {
  // No real denort can be downloaded here; the arm64 deno binary from npm stands in for one. The
  // result is not runnable, but it proves the binary came from DENORT_BIN with our program in it.
  const standIn = await denoRuntime("arm64");
  await withBundle(async (dir, bundle) => {
    const denoDir = join(dir, "deno-dir");
    await Deno.mkdir(denoDir);
    const output = join(dir, "program-arm64");
    await compileProgram({
      bundle,
      output,
      arch: "arm64",
      env: { ...baseEnv(denoDir), DENORT_BIN_AARCH64: standIn },
    });
    equal((await readElfMachine(output)).machine, 183);
    const size = (await Deno.stat(output)).size;
    ok(size > (await Deno.stat(standIn)).size, "program appended to the runtime");
    const bytes = await Deno.readFile(output);
    const tail = new TextDecoder().decode(bytes.subarray(Math.max(0, bytes.length - 4 * 1024 * 1024)));
    ok(tail.includes(MARKER), "the bundle is embedded");
  });
});

Deno.test("DENORT_BIN applies only to the architecture its ELF header names; wrong ones are refused", async () => {
  const arm = await denoRuntime("arm64");
  equal(await denortFor("arm64", { DENORT_BIN: arm }), arm);
  equal(await denortFor("amd64", { DENORT_BIN: arm }), undefined);
  equal(await denortFor("amd64", {}), undefined);
  await rejects(
    denortFor("arm64", { DENORT_BIN_AARCH64: "/usr/bin/true" }),
    /DENORT_BIN_AARCH64 \/usr\/bin\/true is for x86-64/,
  );
  await rejects(denortFor("amd64", { DENORT_BIN_X86_64: "/etc/hostname" }), /not an ELF/);
});
