/**
 * Benchmark: the project's image copier against `skopeo copy --all`, registry to registry
 * (distribution 2.8 on loopback), one run:
 * - builds 10 images (one a two-platform index), >= 300 MB of unique layer data, with base layers
 *   shared between images (uncompressed layers, so building is quick), pushes them to registry A;
 * - copies every image A -> B1 with `copyImage` in a child `deno run` (this file with `--child`,
 *   so its peak RSS, VmHWM, is the copier's own; run with the satellite's V8 memory profile
 *   the V8 flags of `systemd/satellite.service`) and A -> B2 with `skopeo copy --all` per image; then once more
 *   A -> B3 with V8 defaults, for comparison; three alternating rounds, medians compared;
 * - checks B1 serves every manifest byte-identically, and prints the wall-time ratio
 *   (project / skopeo; < 1 means the project is faster) and the project's peak RSS.
 *
 *     deno task bench:copy
 *
 * Knobs for experiments (defaults in brackets): BENCH_IMAGE_PARALLELISM [4] images at once,
 * BENCH_BLOB_CONCURRENCY [4] blobs per image, BENCH_CHUNKED_ABOVE [16 MiB] chunked-upload threshold.
 *
 * @example
 * ```ts
 * // deno run -A bench/copy.ts
 * ```
 * @module
 */
import { RegistryClient } from "../oci/client.ts";
import { satelliteV8Flags } from "./v8_flags.ts";
import { BlobFlights, copyImage, type CopySummary } from "../oci/copy.ts";
import { startDistribution } from "../tests/support/distribution.ts";
import {
  buildImage,
  buildIndex,
  type BuiltImage,
  seededBytes,
  skopeoCopy,
  skopeoInspectRaw,
  writeOciLayout,
} from "../tests/support/images.ts";

const MiB = 1024 * 1024;
/** Images copied at once by the project's copier, and blob transfers per image. */
const IMAGE_PARALLELISM = Number(Deno.env.get("BENCH_IMAGE_PARALLELISM") ?? 4);
const BLOB_CONCURRENCY = Number(Deno.env.get("BENCH_BLOB_CONCURRENCY") ?? 4);
/** Alternating rounds of project vs skopeo; medians are compared. */
const ROUNDS = 3;

interface BenchImage {
  repository: string;
  tag: string;
  digest: string;
  bytes: number;
}

/** Child mode: copy every image, print a JSON line with the summary and own peak RSS. */
async function child(source: string, target: string, images: BenchImage[]): Promise<void> {
  const from = new RegistryClient({ baseUrl: source });
  const chunkedAbove = Number(Deno.env.get("BENCH_CHUNKED_ABOVE") ?? 16 * MiB);
  const to = new RegistryClient({ baseUrl: target, chunkedAbove });
  const flights = new BlobFlights();
  const queue = [...images];
  const totals = { bytes: 0, copied: 0, mounted: 0, skipped: 0 };
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const summary: CopySummary = await copyImage(from, to, {
        repository: next.repository,
        reference: next.digest,
        tags: [next.tag],
        concurrency: BLOB_CONCURRENCY,
        flights,
      });
      totals.bytes += summary.bytesTransferred;
      totals.copied += summary.blobsCopied;
      totals.mounted += summary.blobsMounted;
      totals.skipped += summary.blobsSkipped;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: IMAGE_PARALLELISM }, worker));
  const copyMs = performance.now() - started;
  const status = await Deno.readTextFile("/proc/self/status");
  const hwmKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  console.log(JSON.stringify({ ...totals, copyMs, peakRssMiB: hwmKb / 1024 }));
}

/** Builds the fixture set image by image and pushes each to `host` (memory stays per image). */
async function buildAndPush(host: string): Promise<{ images: BenchImage[]; uniqueBytes: number }> {
  // Shared base layers: a files layer has identical tar bytes in every image that uses it.
  const baseOs = { files: { "base/os.bin": seededBytes("bench-base-os", 48 * MiB) } };
  const baseRuntime = { files: { "base/runtime.bin": seededBytes("bench-base-runtime", 24 * MiB) } };
  const images: BenchImage[] = [];
  let uniqueBytes = 72 * MiB;
  const push = async (repository: string, image: BuiltImage) => {
    const dir = await Deno.makeTempDir({ prefix: "bench-copy-layout-" });
    try {
      await writeOciLayout(dir, { v1: image });
      await skopeoCopy(`oci:${dir}:v1`, `docker://${host}/${repository}:v1`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
    images.push({ repository, tag: "v1", digest: image.digest, bytes: image.layerBytes });
  };
  for (let i = 0; i < 9; i++) {
    const own = 24 * MiB;
    uniqueBytes += own;
    await push(
      `bench/app${i}`,
      await buildImage({
        seed: `bench-app-${i}`,
        gzip: false,
        layers: [baseOs, ...(i % 2 ? [baseRuntime] : []), { randomBytes: own }, {
          files: { "app/id": `${i}` },
        }],
      }),
    );
  }
  const platforms = [{ os: "linux", architecture: "amd64" }, { os: "linux", architecture: "arm64" }];
  const children = await Promise.all(platforms.map((platform) =>
    buildImage({
      seed: `bench-multi-${platform.architecture}`,
      gzip: false,
      platform,
      layers: [baseOs, { randomBytes: 16 * MiB }],
    })
  ));
  uniqueBytes += 32 * MiB;
  await push("bench/multi", buildIndex(children.map((c, i) => [c, platforms[i]])));
  return { images, uniqueBytes };
}

async function main(): Promise<void> {
  // The satellite's V8 memory profile (a small young generation, so the 64 KiB buffers of streamed
  // blob chunks die within milliseconds instead of piling up); a run with V8 defaults is printed too.
  const v8Flags = await satelliteV8Flags();
  await using a = await startDistribution();
  console.log("building and pushing fixtures to registry A ...");
  const { images, uniqueBytes } = await buildAndPush(a.host);
  const totalBytes = images.reduce((n, i) => n + i.bytes, 0);
  console.log(
    `${images.length} images, ${(totalBytes / MiB).toFixed(0)} MiB of layers in total, ` +
      `${(uniqueBytes / MiB).toFixed(0)} MiB unique`,
  );
  // The machine is shared: alternate the contenders over a few rounds (fresh targets each) and
  // compare medians, so one noisy moment does not decide the ratio.
  const rounds: { project: ProjectRun; skopeoMs: number; defaults: ProjectRun }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    await using b1 = await startDistribution();
    await using b2 = await startDistribution();
    await using b3 = await startDistribution();
    const project = await projectCopy(a.url, b1.url, images, v8Flags ? [`--v8-flags=${v8Flags}`] : []);
    const skopeoStarted = performance.now();
    for (const image of images) {
      await skopeoCopy(
        `docker://${a.host}/${image.repository}:${image.tag}`,
        `docker://${b2.host}/${image.repository}:${image.tag}`,
      );
    }
    const skopeoMs = performance.now() - skopeoStarted;
    const defaults = await projectCopy(a.url, b3.url, images, []);
    if (round === 0) await checkIdentical(a.host, b1.host, images);
    rounds.push({ project, skopeoMs, defaults });
    console.log(
      `round ${round + 1}: project ${(project.ms / 1000).toFixed(2)} s, skopeo ${
        (skopeoMs / 1000).toFixed(2)
      } s, ` +
        `project with V8 defaults ${(defaults.ms / 1000).toFixed(2)} s`,
    );
  }
  const projectMs = median(rounds.map((r) => r.project.ms));
  const skopeoMs = median(rounds.map((r) => r.skopeoMs));
  const defaultsMs = median(rounds.map((r) => r.defaults.ms));
  const { report } = rounds[0].project;
  console.log(
    `project copier: ${(projectMs / 1000).toFixed(2)} s median (child process incl. startup), ` +
      `${(report.bytes / MiB).toFixed(0)} MiB fetched, ${report.copied} blobs copied, ` +
      `${report.mounted} mounted, ${report.skipped} skipped`,
  );
  console.log(`skopeo copy --all per image: ${(skopeoMs / 1000).toFixed(2)} s median`);
  console.log(`wall-time ratio project/skopeo: ${(projectMs / skopeoMs).toFixed(2)} (target <= 0.70)`);
  const peak = Math.max(...rounds.map((r) => r.project.report.peakRssMiB));
  const peakDefaults = Math.max(...rounds.map((r) => r.defaults.report.peakRssMiB));
  console.log(
    `project peak RSS (VmHWM, max of rounds): ${peak.toFixed(1)} MiB (target <= 120), V8 ${
      v8Flags ?? "defaults"
    }`,
  );
  console.log(
    `with V8 defaults: ratio ${(defaultsMs / skopeoMs).toFixed(2)}, peak RSS ${peakDefaults.toFixed(1)} MiB`,
  );
}

/** Fails unless every manifest at `copyHost` is byte-identical to the source's (read with skopeo). */
async function checkIdentical(sourceHost: string, copyHost: string, images: BenchImage[]): Promise<void> {
  for (const image of images) {
    const [copied, reference] = await Promise.all([
      skopeoInspectRaw(`docker://${copyHost}/${image.repository}:${image.tag}`),
      skopeoInspectRaw(`docker://${sourceHost}/${image.repository}@${image.digest}`),
    ]);
    if (copied.byteLength !== reference.byteLength || !copied.every((b, i) => b === reference[i])) {
      throw new Error(`${image.repository}: manifest at the copy differs from the source`);
    }
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[sorted.length >> 1];
}

interface ProjectRun {
  ms: number;
  report: {
    bytes: number;
    copied: number;
    mounted: number;
    skipped: number;
    copyMs: number;
    peakRssMiB: number;
  };
}

/** Runs the project's copy in a child process; returns its wall time and report. */
async function projectCopy(
  source: string,
  target: string,
  images: BenchImage[],
  denoFlags: string[],
): Promise<ProjectRun> {
  const started = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      ...denoFlags,
      new URL(import.meta.url).pathname,
      "--child",
      source,
      target,
      JSON.stringify(images),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const ms = performance.now() - started;
  if (!out.success) throw new Error("the project's copy failed");
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  const report = JSON.parse(lines.findLast((line) => line.startsWith('{"bytes"'))!) as ProjectRun["report"];
  return { ms, report };
}

if (Deno.args[0] === "--child") {
  await child(Deno.args[1], Deno.args[2], JSON.parse(Deno.args[3]));
} else if (import.meta.main) {
  await main();
}
