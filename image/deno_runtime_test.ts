import { equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { defaultCacheDir, denoRuntime } from "./deno_runtime.ts";
import { readElfMachine } from "./elf.ts";

Deno.test("defaultCacheDir: explicit, XDG, then HOME", () => {
  equal(defaultCacheDir({ SATELLITE_IMAGE_CACHE: "/c", HOME: "/h" }), "/c");
  equal(defaultCacheDir({ XDG_CACHE_HOME: "/x", HOME: "/h" }), "/x/satellite-image");
  equal(defaultCacheDir({ HOME: "/h" }), "/h/.cache/satellite-image");
});

Deno.test("denoRuntime fetches both architectures from npm into a fresh cache, concurrently, and reuses them", async () => {
  const cacheDir = await Deno.makeTempDir({ prefix: "deno-runtime-cache-" });
  try {
    // Two builds racing on an empty cache (as parallel tests do) both succeed.
    const [amd, amdAgain, arm] = await Promise.all([
      denoRuntime("amd64", { cacheDir }),
      denoRuntime("amd64", { cacheDir }),
      denoRuntime("arm64", { cacheDir }),
    ]);
    equal(amd, join(cacheDir, "deno-2.9.5-amd64", "deno"));
    equal(amdAgain, amd);
    equal((await readElfMachine(amd)).machine, 62);
    equal((await readElfMachine(arm)).machine, 183);
    const out = await new Deno.Command(amd, { args: ["--version"], stdout: "piped" }).output();
    ok(new TextDecoder().decode(out.stdout).startsWith("deno 2.9.5 "));
    // Nothing left behind but the binaries.
    const names: string[] = [];
    for await (const e of Deno.readDir(join(cacheDir, "deno-2.9.5-amd64"))) names.push(e.name);
    equal(names.join(","), "deno");
    // A cached binary of the wrong architecture is refused, not shipped.
    await Deno.copyFile(arm, amd);
    let message = "";
    await denoRuntime("amd64", { cacheDir }).catch((e) => message = (e as Error).message);
    ok(message.includes("cached deno runtime") && message.includes("AArch64"), message);
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});
