/**
 * Satellite sync benchmark (`deno task bench:sync`), three figures against a real docker-registry
 * behind Ground Control:
 *
 * 1. Cold sync: the satellite (built-in store) vs `skopeo copy --all` per image into one OCI layout
 *    (the same kind of destination: a local content-addressed store), same images, same path
 *    (straight from the central registry). Wall-time ratio, target <= 0.7.
 * 2. No-op poll with 500 artifacts in 3 groups: HTTP requests per poll (counted at the proxy) and ms
 *    per poll. Target: 1 + groups requests, < 20 ms.
 * 3. Peak RSS (VmHWM) of a satellite child process while it syncs >= 1 GiB. Target <= 120 MB.
 *    Measured twice in one run: with V8's defaults and with the `--v8-flags` of
 *    `systemd/satellite.service` (what ships; override with `BENCH_V8_FLAGS`), printing the ratio.
 *
 * @example
 * ```ts
 * // deno task bench:sync
 * ```
 * @module
 */
import { Satellite } from "../edge/satellite.ts";
import { satelliteV8Flags } from "./v8_flags.ts";
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
      `docker://${world.central.host}/${repository}@${image.digest}`,
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

/** 4 images of 2 x 130 MiB uncompressed layers (1.02 GiB) in the central registry and a group. */
async function rssFixture(world: World) {
  const images: { repository: string; mediaType: string }[] = [];
  let bytes = 0;
  for (let i = 0; i < 4; i++) {
    const image = await buildImage({
      seed: `rss-${i}`,
      gzip: false,
      layers: [{ randomBytes: 130 * MiB }, { randomBytes: 130 * MiB }],
    });
    await pushImages(world.central.host, [{ repository: `rss/app${i}`, tag: "1", image }]);
    images.push({ repository: `rss/app${i}`, mediaType: image.mediaType });
    bytes += image.layerBytes;
  }
  await world.putGroup("rss", images.map((i) => ({ repository: i.repository, tags: ["1"] })));
  return { images, bytes };
}

let rssRuns = 0;

/** Peak RSS of a fresh satellite child process (own data dir) syncing the fixture. */
async function peakRss(
  world: World,
  fixture: Awaited<ReturnType<typeof rssFixture>>,
  v8Flags?: string,
): Promise<{ vmHwmMiB: number; idleMiB: number; bytes: number; ms: number }> {
  const dataDir = await Deno.makeTempDir({ prefix: "bench-rss-" });
  const token = await world.createSatellite(`bench-rss-${rssRuns++}`, ["rss"], { concurrency: 4 });
  const config = world.satelliteConfig(dataDir, token);
  const configPath = `${dataDir}.json`;
  await Deno.writeTextFile(configPath, JSON.stringify({ ...config, logLevel: "error" }));
  const listen = config.localRegistry.mode === "builtin" ? config.localRegistry.listen : "";
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      ...(v8Flags ? [`--v8-flags=${v8Flags}`] : []),
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
  const vm = async (field: string) => {
    const status = await Deno.readTextFile(`/proc/${child.pid}/status`);
    return Number(status.match(new RegExp(`${field}:\\s+(\\d+) kB`))?.[1] ?? NaN) / 1024;
  };
  try {
    await until("1 GiB synced", async () => {
      for (const { repository, mediaType } of fixture.images) {
        const res = await fetch(`http://${listen}/v2/${repository}/manifests/1`, {
          method: "HEAD",
          headers: { accept: mediaType },
        })
          .catch(() => null);
        if (res?.status !== 200) return false;
      }
      return true;
    }, 600_000);
    const ms = performance.now() - started;
    const vmHwmMiB = await vm("VmHWM");
    await new Promise((r) => setTimeout(r, 3000));
    return { vmHwmMiB, idleMiB: await vm("VmRSS"), bytes: fixture.bytes, ms };
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await Deno.remove(dataDir, { recursive: true });
    await Deno.remove(configPath).catch(() => {});
  }
}

/** Peak RSS with V8's defaults vs with the unit's V8 flags (or `BENCH_V8_FLAGS`), in one run. */
async function rssFigures(world: World): Promise<string> {
  const fixture = await rssFixture(world);
  const flags = await satelliteV8Flags();
  const base = await peakRss(world, fixture);
  const tuned = flags ? await peakRss(world, fixture, flags) : undefined;
  const line = (r: typeof base) =>
    `VmHWM ${r.vmHwmMiB.toFixed(0)} MiB (after: ${r.idleMiB.toFixed(0)} MiB), ${(r.ms / 1000).toFixed(1)} s`;
  return `peak RSS syncing ${
    (fixture.bytes / 1024 / MiB).toFixed(2)
  } GiB in a child process (target <= 120 MB):\n` +
    `  V8 defaults: ${line(base)}\n` +
    (tuned
      ? `  --v8-flags=${flags} (systemd unit): ${line(tuned)}; ratio ${
        (tuned.vmHwmMiB / base.vmHwmMiB).toFixed(2)
      }, time ratio ${(tuned.ms / base.ms).toFixed(2)}`
      : "  (no --v8-flags in systemd/satellite.service)");
}

if (import.meta.main) {
  await using world = await startWorld();
  const only = Deno.env.get("BENCH_ONLY");
  if (only === "rss") {
    console.log(await rssFigures(world));
    Deno.exit(0);
  }
  // Cold sync: both sides pull straight from the central registry (the counting proxy runs in this
  // process and would share the in-process satellite's event loop, but not skopeo's).
  const cold = await (async () => {
    await using direct = await startWorld({ pullThroughProxy: false });
    return await coldSync(direct);
  })();
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
  console.log(await rssFigures(world));
}
