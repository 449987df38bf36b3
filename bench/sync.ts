/**
 * Satellite sync benchmark (`deno task bench:sync`), three figures against a real docker-registry
 * behind Ground Control:
 *
 * 1. Cold sync: the satellite (built-in store) vs `skopeo copy --all` per image into one OCI layout
 *    (the same kind of destination: a local content-addressed store), same images, same path
 *    (through the same proxy). Wall-time ratio, target <= 0.7.
 * 2. No-op poll with 500 artifacts in 3 groups: HTTP requests per poll (counted at the proxy) and ms
 *    per poll. Target: 1 + groups requests, < 20 ms.
 * 3. Peak RSS (VmHWM) of a satellite child process while it syncs >= 1 GiB. Target <= 120 MB.
 *
 * @example
 * ```ts
 * // deno task bench:sync
 * ```
 * @module
 */
import { Satellite } from "../edge/satellite.ts";
import { RegistryClient } from "../oci/client.ts";
import { sha256Digest } from "../oci/digest.ts";
import { OCI_CONFIG, OCI_LAYER, OCI_MANIFEST } from "../oci/media_types.ts";
import { buildImage, type BuiltImage, pushImages, skopeoCopy } from "../tests/support/images.ts";
import { startWorld, until, type World } from "../tests/interop/edge_harness.ts";

const MiB = 1024 * 1024;

async function coldSync(world: World): Promise<{ satelliteMs: number; skopeoMs: number; bytes: number }> {
  const base = { randomBytes: 24 * MiB };
  const images: { repository: string; tag: string; image: BuiltImage }[] = [];
  for (let i = 0; i < 6; i++) {
    const image = await buildImage({
      seed: `cold-${i}`,
      gzip: false,
      layers: [i % 2 === 0 ? base : { randomBytes: 8 * MiB }, { randomBytes: 16 * MiB }],
    });
    images.push({ repository: `cold/app${i}`, tag: "1", image });
  }
  await pushImages(world.central.host, images);
  const blobs = new Map(
    images.flatMap((i) => [...i.image.blobs.values()].map((b) => [b.digest, b.bytes.byteLength])),
  );
  const bytes = [...blobs.values()].reduce((n, b) => n + b, 0);
  await world.putGroup("cold", images.map((i) => ({ repository: i.repository, tags: [i.tag] })));

  const layout = await Deno.makeTempDir({ prefix: "bench-skopeo-" });
  let started = performance.now();
  for (const { repository, tag, image } of images) {
    await skopeoCopy(
      `docker://${world.proxy.host}/${repository}@${image.digest}`,
      `oci:${layout}:${repository.replace("/", "-")}`,
      {
        extraArgs: ["--quiet"],
      },
    );
    void tag;
  }
  const skopeoMs = performance.now() - started;
  await Deno.remove(layout, { recursive: true });

  const dataDir = await Deno.makeTempDir({ prefix: "bench-sat-" });
  const token = await world.createSatellite("bench-cold", ["cold"], { concurrency: 4 });
  const satellite = await Satellite.open({
    config: world.satelliteConfig(dataDir, token),
    cmdlinePath: "/nonexistent",
  });
  try {
    await satellite.init();
    started = performance.now();
    const report = await satellite.pollOnce();
    const satelliteMs = performance.now() - started;
    if (report.reconcile?.synced !== images.length) {
      throw new Error(`cold sync synced ${report.reconcile?.synced}`);
    }
    return { satelliteMs, skopeoMs, bytes };
  } finally {
    await satellite.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
}

/** Pushes `count` tiny distinct manifests sharing one config and layer; returns their digests. */
async function pushTinyManifests(world: World, count: number): Promise<string[]> {
  const client = new RegistryClient({ baseUrl: world.central.url });
  const layer = new TextEncoder().encode("tiny layer");
  const config = new TextEncoder().encode(
    JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } }),
  );
  const repository = "noop/app";
  await client.putBlobBytes(repository, layer);
  await client.putBlobBytes(repository, config);
  const digests: string[] = [];
  for (let i = 0; i < count; i++) {
    const bytes = new TextEncoder().encode(JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: sha256Digest(config), size: config.byteLength },
      layers: [{ mediaType: OCI_LAYER, digest: sha256Digest(layer), size: layer.byteLength }],
      annotations: { "bench.index": String(i) },
    }));
    const digest = sha256Digest(bytes);
    await client.putManifest(repository, digest, { bytes, mediaType: OCI_MANIFEST, digest });
    digests.push(digest);
  }
  return digests;
}

async function noopPoll(world: World): Promise<{ requests: number; ms: number; polls: number }> {
  const digests = await pushTinyManifests(world, 500);
  const groups = ["g1", "g2", "g3"];
  for (const [g, name] of groups.entries()) {
    await world.syncGroup(
      name,
      digests.filter((_, i) => i % 3 === g).map((digest, i) => ({
        repository: "noop/app",
        tag: [`t${g}-${i}`],
        digest,
        deleted: false,
      })),
    );
  }
  const dataDir = await Deno.makeTempDir({ prefix: "bench-noop-" });
  const token = await world.createSatellite("bench-noop", groups);
  const satellite = await Satellite.open({
    config: world.satelliteConfig(dataDir, token),
    cmdlinePath: "/nonexistent",
  });
  try {
    await satellite.init();
    const first = await satellite.pollOnce();
    if (first.reconcile?.synced !== 500) {
      throw new Error(`first poll synced ${first.reconcile?.synced} of 500`);
    }
    await satellite.pollOnce();
    const polls = 30;
    const before = world.proxy.log.length;
    let ms = 0;
    for (let i = 0; i < polls; i++) ms += (await satellite.pollOnce()).ms;
    return { requests: (world.proxy.log.length - before) / polls, ms: ms / polls, polls };
  } finally {
    await satellite.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
}

async function peakRss(world: World): Promise<{ vmHwmMiB: number; bytes: number; ms: number }> {
  const images: { repository: string; tag: string; image: BuiltImage }[] = [];
  let bytes = 0;
  for (let i = 0; i < 4; i++) {
    const image = await buildImage({
      seed: `rss-${i}`,
      gzip: false,
      layers: [{ randomBytes: 130 * MiB }, { randomBytes: 130 * MiB }],
    });
    await pushImages(world.central.host, [{ repository: `rss/app${i}`, tag: "1", image }]);
    images.push({ repository: `rss/app${i}`, tag: "1", image: { ...image, blobs: new Map() } });
    bytes += image.layerBytes;
  }
  await world.putGroup("rss", images.map((i) => ({ repository: i.repository, tags: [i.tag] })));
  const dataDir = await Deno.makeTempDir({ prefix: "bench-rss-" });
  const token = await world.createSatellite("bench-rss", ["rss"], { concurrency: 4 });
  const config = world.satelliteConfig(dataDir, token);
  const configPath = `${dataDir}.json`;
  await Deno.writeTextFile(configPath, JSON.stringify({ ...config, logLevel: "error" }));
  const listen = config.localRegistry.mode === "builtin" ? config.localRegistry.listen : "";
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      ...(Deno.env.get("BENCH_V8_FLAGS") ? [`--v8-flags=${Deno.env.get("BENCH_V8_FLAGS")}`] : []),
      "edge/main.ts",
      "run",
      "--config",
      configPath,
      "--cmdline",
      "/nonexistent",
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const started = performance.now();
  try {
    await until("1 GiB synced", async () => {
      for (const { repository, image } of images) {
        const res = await fetch(`http://${listen}/v2/${repository}/manifests/1`, {
          method: "HEAD",
          headers: { accept: image.mediaType },
        })
          .catch(() => null);
        if (res?.status !== 200) return false;
      }
      return true;
    }, 600_000);
    const ms = performance.now() - started;
    const status = await Deno.readTextFile(`/proc/${child.pid}/status`);
    const kb = Number(status.match(/VmHWM:\s+(\d+) kB/)?.[1] ?? NaN);
    return { vmHwmMiB: kb / 1024, bytes, ms };
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await Deno.remove(dataDir, { recursive: true });
    await Deno.remove(configPath).catch(() => {});
  }
}

if (import.meta.main) {
  await using world = await startWorld();
  const only = Deno.env.get("BENCH_ONLY");
  if (only === "rss") {
    const rss = await peakRss(world);
    console.log(`VmHWM ${rss.vmHwmMiB.toFixed(0)} MiB, ${(rss.ms / 1000).toFixed(1)} s`);
    Deno.exit(0);
  }
  const cold = await coldSync(world);
  if (only === "cold") {
    console.log(`satellite ${cold.satelliteMs.toFixed(0)} ms, skopeo ${cold.skopeoMs.toFixed(0)} ms`);
    Deno.exit(0);
  }
  console.log(
    `cold sync (6 images, ${(cold.bytes / MiB).toFixed(0)} MiB distinct): satellite ${
      cold.satelliteMs.toFixed(0)
    } ms, ` +
      `skopeo copy --all ${cold.skopeoMs.toFixed(0)} ms, ratio ${
        (cold.satelliteMs / cold.skopeoMs).toFixed(2)
      } (target <= 0.7)`,
  );
  const noop = await noopPoll(world);
  console.log(
    `no-op poll (500 artifacts, 3 groups, ${noop.polls} polls): ${
      noop.requests.toFixed(1)
    } requests/poll (target 4), ` +
      `${noop.ms.toFixed(1)} ms/poll (target < 20)`,
  );
  const rss = await peakRss(world);
  console.log(
    `peak RSS syncing ${(rss.bytes / 1024 / MiB).toFixed(2)} GiB in a child process: VmHWM ${
      rss.vmHwmMiB.toFixed(0)
    } MiB ` +
      `(target <= 120 MB), ${(rss.ms / 1000).toFixed(1)} s`,
  );
}
