import { deepStrictEqual, equal, match, ok, rejects } from "node:assert/strict";
import { join } from "node:path";
import { SatelliteConfig } from "../schemas/satellite_config.ts";
import { parseJsonOrThrow } from "../schemas/validate.ts";
import { provideStandardUnits, verifyUnits } from "../systemd/verify.ts";
import { type Arch, ARCHES } from "./arch.ts";
import { buildImage } from "./build.ts";
import { BUNDLE_SHEBANG } from "./bundle.ts";
import { sha256Digest } from "../oci/digest.ts";
import { readElfMachine } from "./elf.ts";
import { LAYOUT } from "./layout.ts";
import { unpackImage } from "./tarball.ts";
import { bundledTestProgram, zotStandIn } from "./test_support.ts";
import { ZotConfig } from "./zot_config.ts";

const UNITS = ["/etc/systemd/system/satellite.service", "/etc/systemd/system/zot.service"];

async function mode(path: string): Promise<number> {
  return (await Deno.stat(path)).mode! & 0o7777;
}

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "image-build-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The real satellite, bundled from edge/main.ts, run by the tree's own deno with the tree's config. */
async function runPackagedSatellite(root: string, dir: string): Promise<void> {
  const deno = join(root, LAYOUT.deno);
  const version = await new Deno.Command(deno, { args: ["--version"], stdout: "piped" }).output();
  match(new TextDecoder().decode(version.stdout), /^deno 2\.9\.5 /);
  const run = await new Deno.Command(deno, {
    args: [
      "run",
      "--unstable-kv",
      "-A",
      join(root, LAYOUT.satelliteJs),
      "--config",
      join(root, LAYOUT.satelliteConfig),
      "--data-dir",
      join(dir, "data"),
      "status",
      "--json",
    ],
    cwd: dir,
    env: { DENO_DIR: join(dir, "deno-dir"), NO_COLOR: "1" },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  equal(run.code, 0, new TextDecoder().decode(run.stderr));
  const status = JSON.parse(new TextDecoder().decode(run.stdout));
  equal(status.registered, false);
  deepStrictEqual(status.localRegistry, { mode: "external", url: "http://127.0.0.1:5000" });
}

for (const arch of ["amd64", "arm64"] as Arch[]) {
  Deno.test(`${arch} image: contents, ELF machines, configs that agree, units that verify`, async () => {
    await withDir(async (dir) => {
      const zot = await zotStandIn(arch, dir);
      // No satelliteJs: the build bundles edge/main.ts into dist/satellite.js first when stale.
      const built = await buildImage({ arch, zot, outDir: join(dir, "out") });
      equal(built.path, join(dir, "out", `satellite-${arch}.tar.gz`));

      const root = join(dir, "root");
      await unpackImage(built.path, root);

      // Binaries: right architecture, executable.
      const machine = ARCHES[arch].elfMachine;
      for (const bin of [LAYOUT.deno, LAYOUT.zot]) {
        equal((await readElfMachine(join(root, bin))).machine, machine, bin);
        equal(await mode(join(root, bin)), 0o755, bin);
      }
      deepStrictEqual(await Deno.readFile(join(root, LAYOUT.zot)), await Deno.readFile(zot));
      const packaged = await Deno.readFile(join(root, LAYOUT.satelliteJs));
      ok(new TextDecoder().decode(packaged.subarray(0, 200)).startsWith(BUNDLE_SHEBANG));
      equal(await mode(join(root, LAYOUT.tokenHandoff)), 0o755);

      // Units and their enablement links.
      for (const unit of ["satellite.service", "zot.service"]) {
        ok(await exists(join(root, LAYOUT.unitDir, unit)), unit);
        equal(await Deno.readLink(join(root, LAYOUT.wantsDir, unit)), `../${unit}`);
      }

      // The satellite config parses; zot's config parses and agrees with it.
      const config = parseJsonOrThrow(
        SatelliteConfig,
        await Deno.readTextFile(join(root, LAYOUT.satelliteConfig)),
        "image config",
      );
      equal(config.localRegistry.mode, "external");
      const zotConfig = parseJsonOrThrow(
        ZotConfig,
        await Deno.readTextFile(join(root, LAYOUT.zotConfig)),
        "zot",
      );
      const url = new URL(config.localRegistry.mode === "external" ? config.localRegistry.url : "");
      equal(zotConfig.http.address, url.hostname);
      equal(zotConfig.http.port, url.port);
      equal(zotConfig.storage.rootDirectory, `${config.dataDir}/zot`);
      equal(config.groundControlUrl, undefined, "set per device by provisioning");

      // The boot-partition directory, ready for a token.
      ok((await Deno.stat(join(root, LAYOUT.bootDir))).isDirectory);
      equal(await mode(join(root, LAYOUT.bootDir)), 0o700);
      const info = JSON.parse(await Deno.readTextFile(join(root, LAYOUT.buildInfo)));
      equal(info.arch, arch);
      equal(info.satelliteJs, sha256Digest(packaged));

      // On the x86-64 host: the packaged satellite runs with the stock deno from the tree.
      if (arch === "amd64") await runPackagedSatellite(root, dir);

      // systemd-analyze verify against the unpacked tree (with the distribution's units present).
      await provideStandardUnits(root);
      const verified = await verifyUnits(root, UNITS);
      ok(verified.ok, verified.output);
      // ... and the check can fail: without the runtime, the satellite unit does not verify.
      await Deno.remove(join(root, LAYOUT.deno));
      const broken = await verifyUnits(root, UNITS);
      equal(broken.ok, false);
      match(broken.output, /\/opt\/satellite\/bin\/deno is not executable/);
    });
  });
}

Deno.test("a wrong-arch zot is refused and leaves no image behind", async () => {
  await withDir(async (dir) => {
    const satelliteJs = await bundledTestProgram(dir);
    const amdZot = await zotStandIn("amd64", dir);
    await rejects(
      buildImage({ arch: "arm64", zot: amdZot, outDir: join(dir, "out"), satelliteJs }),
      /zot binary .* is for x86-64, but the image is arm64 \(AArch64, ELF machine 183\)/,
    );
    const armZot = await zotStandIn("arm64", dir);
    await rejects(
      buildImage({ arch: "amd64", zot: armZot, outDir: join(dir, "out"), satelliteJs }),
      /is for AArch64, but the image is amd64/,
    );
    await rejects(
      buildImage({ arch: "amd64", zot: "/etc/hostname", outDir: join(dir, "out"), satelliteJs }),
      /not an ELF/,
    );
    equal(await exists(join(dir, "out", "satellite-arm64.tar.gz")), false);
    equal(await exists(join(dir, "out", "satellite-amd64.tar.gz")), false);
  });
});

Deno.test("without zot: builtin registry, no zot unit, config or enablement link", async () => {
  await withDir(async (dir) => {
    const satelliteJs = await bundledTestProgram(dir);
    const plain = await buildImage({ arch: "amd64", outDir: join(dir, "plain"), satelliteJs });
    const root = join(dir, "plain-root");
    await unpackImage(plain.path, root);
    const config = parseJsonOrThrow(
      SatelliteConfig,
      await Deno.readTextFile(join(root, LAYOUT.satelliteConfig)),
      "c",
    );
    equal(config.localRegistry.mode, "builtin");
    for (
      const absent of [
        LAYOUT.zot,
        LAYOUT.zotConfig,
        `${LAYOUT.unitDir}/zot.service`,
        `${LAYOUT.wantsDir}/zot.service`,
      ]
    ) {
      equal(await exists(join(root, absent)), false, absent);
    }
    await provideStandardUnits(root);
    const verified = await verifyUnits(root, ["/etc/systemd/system/satellite.service"]);
    ok(verified.ok, verified.output);
  });
});

Deno.test("config mistakes are refused with the field named", async () => {
  await withDir(async (dir) => {
    const satelliteJs = await bundledTestProgram(dir);
    const zot = await zotStandIn("amd64", dir);
    await rejects(
      buildImage({
        arch: "amd64",
        zot,
        outDir: dir,
        satelliteJs,
        config: { localRegistry: { mode: "builtin" } },
      }),
      /localRegistry\.mode "builtin"/,
    );
    await rejects(
      buildImage({ arch: "amd64", outDir: dir, satelliteJs, config: { outboxLimit: 1 } }),
      /outboxLimit/,
    );
  });
});
