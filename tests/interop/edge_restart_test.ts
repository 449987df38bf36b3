/**
 * SIGKILL mid-sync: the satellite runs as a child process (`deno run -A edge/main.ts run`), pulling
 * large layers through a throttled, byte-counting proxy; it is killed while transfers are in flight
 * and restarted. The sync completes and what is downloaded again is bounded by the transfers that were
 * in flight (interrupted blobs resume with Range from the bytes kept on disk).
 */
import assert from "node:assert/strict";
import { buildImage, pushImages } from "../support/images.ts";
import { startWorld, until } from "./edge_harness.ts";

const MiB = 1024 * 1024;

function spawnSatellite(configPath: string, logs: string[]): Deno.ChildProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "edge/main.ts", "run", "--config", configPath, "--cmdline", "/nonexistent"],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) logs.push(chunk);
  })().catch(() => {});
  return child;
}

Deno.test("SIGKILL mid-sync, restart: the sync completes and only in-flight transfers are fetched again", async () => {
  await using world = await startWorld();
  const dataDir = await Deno.makeTempDir({ prefix: "satellite-" });
  const big = await buildImage({
    seed: "restart-big",
    gzip: false,
    layers: [{ randomBytes: 24 * MiB }, { randomBytes: 20 * MiB }, { randomBytes: 16 * MiB }],
  });
  await pushImages(world.central.host, [{ repository: "app/big", tag: "1", image: big }]);
  await world.putGroup("edge", [{ repository: "app/big", tags: ["1"] }]);
  const token = await world.createSatellite("kill-1", ["edge"], { concurrency: 4 });
  const config = world.satelliteConfig(dataDir, token);
  const configPath = `${dataDir}.json`;
  await Deno.writeTextFile(configPath, JSON.stringify(config));
  const localUrl = `http://${config.localRegistry.mode === "builtin" ? config.localRegistry.listen : ""}`;
  const layerBytes = big.layerBytes;
  world.proxy.faults.throttle = { bytesPerSecond: 12 * MiB };
  const logs: string[] = [];
  let child = spawnSatellite(configPath, logs);
  try {
    await until("transfers under way", () => world.proxy.bytesServed("/blobs/sha256:") >= 18 * MiB, 60_000);
    child.kill("SIGKILL");
    await child.status;
    const beforeKill = world.proxy.bytesServed("/blobs/sha256:");
    const firstRun = world.proxy.log.filter((r) => r.path.includes("/blobs/sha256:"));
    const firstRunCount = firstRun.length;
    // Blobs whose transfer had started but not finished when the process died.
    const inFlight = new Set(
      firstRun.filter((r) => r.bytes > 0).map((r) => r.path.split("/blobs/")[1]).filter((digest) => {
        const blob = big.blobs.get(digest);
        const served = firstRun.filter((r) => r.path.endsWith(digest)).reduce((n, r) => n + r.bytes, 0);
        return blob !== undefined && served < blob.bytes.byteLength;
      }),
    );
    assert.ok(inFlight.size > 0, "the kill landed mid-transfer");
    const inFlightBytes = [...inFlight].reduce((n, d) => n + big.blobs.get(d)!.bytes.byteLength, 0);

    child = spawnSatellite(configPath, logs);
    await until("sync completed after restart", async () => {
      const res = await fetch(`${localUrl}/v2/app/big/manifests/1`, {
        headers: { accept: big.mediaType },
      }).catch(() => null);
      await res?.body?.cancel();
      return res?.status === 200;
    }, 90_000);
    const again = world.proxy.bytesServed("/blobs/sha256:") - beforeKill;
    const secondRun = world.proxy.log.filter((r) => r.path.includes("/blobs/sha256:")).slice(firstRunCount);
    const resumed = secondRun.filter((r) => r.range !== null && inFlight.has(r.path.split("/blobs/")[1]));
    console.log(
      `layers ${(layerBytes / MiB).toFixed(1)} MiB; before kill ${(beforeKill / MiB).toFixed(1)} MiB; ` +
        `after restart ${(again / MiB).toFixed(1)} MiB; in flight at kill ${
          (inFlightBytes / MiB).toFixed(1)
        } MiB ` +
        `(${inFlight.size} blob(s), ${resumed.length} resumed with Range)`,
    );
    assert.ok(resumed.length > 0, "interrupted blobs resume with Range");
    // Everything not finished before the kill is fetched once; in-flight blobs only from where they stopped.
    const notFinished = layerBytes + 2 * 1024 - (beforeKill - inFlightBytes);
    assert.ok(again <= notFinished, `downloaded again ${again} > ${notFinished}`);
    // Stronger: resumes continue where the disk stopped; only bytes still in socket buffers at the kill
    // (at most a couple of MiB per connection) travel twice.
    const lostInBuffers = again - (layerBytes - beforeKill);
    assert.ok(lostInBuffers <= inFlight.size * 2 * MiB, `${lostInBuffers} bytes travelled twice`);
  } catch (e) {
    console.error(logs.join("").slice(-4000));
    throw e;
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
    await Deno.remove(dataDir, { recursive: true });
    await Deno.remove(configPath).catch(() => {});
  }
});
