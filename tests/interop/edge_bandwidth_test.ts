/**
 * Bandwidth policy at the satellite level, end to end (Ground Control + real docker-registry + the
 * real satellite): a cap lowered over the air slows the transfer already running; calendar windows
 * change the cap mid-transfer; outside sync windows no image request is even sent, a closing window
 * pauses the running transfer, and the next window resumes it (with Range). Time for the policy
 * comes from a clock the test jumps; transfers run in real time.
 */
import assert from "node:assert/strict";
import type { Clock } from "../../edge/bandwidth/clock.ts";
import type { SatelliteEvent } from "../../edge/events.ts";
import { Satellite } from "../../edge/satellite.ts";
import { buildImage, pushImages } from "../support/images.ts";
import { startWorld, until } from "./edge_harness.ts";

const KiB = 1024, MiB = 1024 * 1024;
const FAST_POLL = { poll: { intervalSeconds: 1, jitterSeconds: 0 }, reportIntervalSeconds: 5 };

/** Real time shifted by an offset the test can jump; a jump wakes every sleeper to re-evaluate. */
class JumpClock implements Clock {
  #offset: number;
  #wake = new Set<() => void>();

  constructor(start: number) {
    this.#offset = start - Date.now();
  }

  now(): number {
    return Date.now() + this.#offset;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const finish = (error?: unknown) => {
        clearTimeout(timer);
        this.#wake.delete(done);
        signal?.removeEventListener("abort", onAbort);
        if (error === undefined) resolve();
        else reject(error);
      };
      const done = () => finish();
      const onAbort = () => finish(signal!.reason);
      const timer = setTimeout(done, Math.max(0, ms));
      this.#wake.add(done);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  jumpTo(time: string): void {
    this.#offset = Date.parse(time) - Date.now();
    for (const wake of [...this.#wake]) wake();
  }
}

/** Bytes/s of image data the satellite receives over `ms`. */
async function measureRate(satellite: Satellite, ms: number): Promise<number> {
  const before = satellite.bandwidth.bytesFetched;
  const started = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  return (satellite.bandwidth.bytesFetched - before) / ((performance.now() - started) / 1000);
}

Deno.test("bandwidth: a cap lowered over the air (Ground Control PATCH) slows the transfer already running", async () => {
  await using world = await startWorld();
  const dataDir = await Deno.makeTempDir({ prefix: "satellite-bw-" });
  const image = await buildImage({ seed: "bw-cap", layers: [{ randomBytes: 8 * MiB }], gzip: false });
  await pushImages(world.central.host, [{ repository: "app/big", tag: "1", image }]);
  await world.putGroup("g", [{ repository: "app/big", tags: ["1"] }]);
  const token = await world.createSatellite("bw-1", ["g"], { bandwidth: { defaultRate: "1MiB/s" } });
  const satellite = await Satellite.open({
    config: world.satelliteConfig(dataDir, token),
    cmdlinePath: "/nonexistent",
  });
  try {
    satellite.start();
    await until("transfer running", () => satellite.bandwidth.bytesFetched > 256 * KiB);
    const fast = await measureRate(satellite, 1500);
    assert.ok(fast > 0.6 * MiB && fast < 1.4 * MiB, `about 1 MiB/s before the change, got ${fast}`);

    await world.api("PATCH", "/api/satellites/bw-1", {
      config: { ...FAST_POLL, bandwidth: { defaultRate: "128KiB/s" } },
    });
    await world.gc.publisher.idle();
    await until("new cap applied", () => satellite.bandwidth.rate === 128 * KiB, 10_000);
    assert.equal(satellite.status().converged, false, "the change reached a transfer in flight");
    const slow = await measureRate(satellite, 1500);
    assert.ok(slow > 64 * KiB && slow < 192 * KiB, `about 128 KiB/s after the change, got ${slow}`);
    assert.ok(slow < fast / 4, `rate dropped (${fast} -> ${slow})`);

    await world.api("PATCH", "/api/satellites/bw-1", { config: { ...FAST_POLL, bandwidth: {} } });
    await world.gc.publisher.idle();
    await until("synced once unlimited", () => satellite.status().converged, 20_000);
    assert.equal(satellite.local.registry!.resolve("app/big", "1"), image.digest);
  } finally {
    await satellite.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("bandwidth: nothing is fetched outside sync windows; calendar and sync windows take effect mid-transfer", async () => {
  await using world = await startWorld();
  const dataDir = await Deno.makeTempDir({ prefix: "satellite-bw-" });
  const image = await buildImage({ seed: "bw-windows", layers: [{ randomBytes: 3 * MiB }], gzip: false });
  const layer = [...image.blobs.values()].find((b) => b.bytes.byteLength >= 3 * MiB)!.digest;
  await pushImages(world.central.host, [{ repository: "app/big", tag: "1", image }]);
  await world.putGroup("g", [{ repository: "app/big", tags: ["1"] }]);
  const token = await world.createSatellite("bw-2", ["g"], {
    bandwidth: {
      defaultRate: "1MiB/s",
      windows: [{ start: "02:30", end: "04:00", rate: "128KiB/s" }],
      syncWindows: [{ start: "02:00", end: "04:00" }],
      timeZone: "UTC",
    },
  });
  const clock = new JumpClock(Date.parse("2025-01-06T12:00:00Z"));
  const satellite = await Satellite.open({
    config: world.satelliteConfig(dataDir, token),
    cmdlinePath: "/nonexistent",
    clock,
  });
  const events: SatelliteEvent[] = [];
  satellite.events.on((e) => events.push(e));
  const imageRequests = () => world.proxy.log.filter((r) => r.path.startsWith("/v2/app/big/"));
  try {
    satellite.start();
    await until("waiting for a sync window", () => events.some((e) => e.kind === "sync.waiting"));
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(satellite.bandwidth.allowed, false);
    assert.equal(satellite.bandwidth.bytesFetched, 0, "no image byte outside the sync window");
    assert.deepEqual(imageRequests(), [], "not even a request for the image");
    assert.ok(
      (satellite.status().lastPoll?.requests ?? 0) > 0,
      "state polls go on (policy changes still arrive)",
    );

    // 02:00: the sync window opens at the default cap.
    clock.jumpTo("2025-01-07T02:00:00Z");
    await until("transfer running", () => satellite.bandwidth.bytesFetched > 128 * KiB);
    const fast = await measureRate(satellite, 1000);
    assert.ok(fast > 0.6 * MiB && fast < 1.4 * MiB, `about 1 MiB/s at 02:00, got ${fast}`);

    // 02:30: a calendar window lowers the cap of the running transfer.
    clock.jumpTo("2025-01-07T02:30:00Z");
    await new Promise((r) => setTimeout(r, 200));
    const slow = await measureRate(satellite, 1500);
    assert.ok(slow > 64 * KiB && slow < 192 * KiB, `about 128 KiB/s in the calendar window, got ${slow}`);

    // 04:00: the sync window closes: the transfer pauses, no more bytes.
    clock.jumpTo("2025-01-07T04:00:00Z");
    await until("paused", () => events.some((e) => e.kind === "sync.paused"), 5_000);
    const pausedAt = satellite.bandwidth.bytesFetched;
    const requestsAtPause = imageRequests().length;
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(satellite.bandwidth.bytesFetched, pausedAt, "no byte after the sync window closed");
    assert.equal(imageRequests().length, requestsAtPause, "no request after the sync window closed");
    assert.ok(pausedAt < 3 * MiB, "paused mid-transfer");
    assert.equal(satellite.status().converged, false);

    // Next day 02:00: resumes where it stopped and completes.
    clock.jumpTo("2025-01-08T02:00:00Z");
    await until("synced in the next window", () => satellite.status().converged, 20_000);
    assert.equal(satellite.local.registry!.resolve("app/big", "1"), image.digest);
    const layerGets = imageRequests().filter((r) => r.method === "GET" && r.path.endsWith(layer));
    assert.ok(layerGets.some((r) => r.range?.startsWith("bytes=")), "resumed with Range");
    assert.ok(
      satellite.bandwidth.bytesFetched < 3 * MiB + 512 * KiB,
      `bytes kept across the pause (fetched ${satellite.bandwidth.bytesFetched})`,
    );
  } finally {
    await satellite.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
