/**
 * The status outbox end to end: a real satellite reporting to a real Ground Control that goes down
 * and comes back (restarted on the same KV file and port). Reports and events queue in the
 * satellite's Deno KV meanwhile; on reconnect every queued report arrives, oldest first, with the
 * events queued before it. A full outbox drops its oldest entries and the next delivery says how
 * many.
 */
import assert from "node:assert/strict";
import { Satellite } from "../../edge/satellite.ts";
import type { StatusReport } from "../../schemas/status.ts";
import { buildImage, pushImages } from "../support/images.ts";
import { startWorld, until, type World } from "./edge_harness.ts";

/** A fetch that records the status reports Ground Control accepted (2xx), in order. */
function recordingFetch(): {
  fetch: typeof fetch;
  accepted: StatusReport[];
  acceptedAt: number[];
  refused: number;
} {
  const log = { accepted: [] as StatusReport[], acceptedAt: [] as number[], refused: 0 };
  const wrapped: typeof fetch = async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    try {
      const res = await fetch(input, init);
      if (url.endsWith("/api/device/status")) {
        if (res.ok) {
          log.accepted.push(JSON.parse(String(init?.body)));
          log.acceptedAt.push(performance.now());
        } else log.refused++;
      }
      return res;
    } catch (e) {
      if (url.endsWith("/api/device/status")) log.refused++;
      throw e;
    }
  };
  return Object.assign(log, { fetch: wrapped });
}

async function registeredSatellite(world: World, dataDir: string, name: string, outboxLimit?: number) {
  const image = await buildImage({ seed: `outbox-${name}`, layers: [{ randomBytes: 4096 }] });
  await pushImages(world.central.host, [{ repository: "app/web", tag: "1", image }]);
  await world.putGroup("g", [{ repository: "app/web", tags: ["1"] }]);
  const token = await world.createSatellite(name, ["g"], { reportIntervalSeconds: 3600 });
  const recorder = recordingFetch();
  const satellite = await Satellite.open({
    config: world.satelliteConfig(dataDir, token, outboxLimit ? { outboxLimit } : {}),
    cmdlinePath: "/nonexistent",
    fetch: recorder.fetch,
  });
  satellite.start();
  await satellite.registered;
  await until("synced", () => satellite.status().converged && satellite.status().counts.synced === 1);
  await satellite.flushStatus();
  assert.equal(await satellite.outbox.size(), 0, "everything delivered while Ground Control is up");
  return { satellite, recorder };
}

Deno.test("outbox: reports queued while Ground Control is down all arrive, in order, after it restarts", async () => {
  const gcDir = await Deno.makeTempDir({ prefix: "gc-kv-" });
  await using world = await startWorld({ dataPath: `${gcDir}/control.kv` });
  const dataDir = await Deno.makeTempDir({ prefix: "satellite-" });
  const { satellite, recorder } = await registeredSatellite(world, dataDir, "outbox-1");
  try {
    const gcUrl = world.gc.url;
    await world.stopGroundControl();
    for (let i = 0; i < 5; i++) {
      satellite.events.emit("warn", "test.marker", `marker ${i}`);
      await satellite.reportNow();
      await new Promise((r) => setTimeout(r, 5)); // distinct reportedAt
    }
    assert.equal(await satellite.outbox.size(), 10, "5 reports and 5 events queued in KV");
    const acceptedBefore = recorder.accepted.length;
    assert.ok(recorder.refused > 0, "deliveries were attempted while down");

    await world.startGroundControl();
    assert.equal(world.gc.url, gcUrl, "same port");
    // No call from the test: the satellite's backoff retry delivers.
    await until("queue drained", async () => await satellite.outbox.size() === 0, 30_000);
    const all = recorder.accepted.slice(acceptedBefore);
    assert.equal(all.length, 6, "every queued report, one delivery each, then a full one");
    const [delivered, full] = [all.slice(0, 5), all[5]];
    assert.equal(delivered[0].artifacts.length, 1, "the first, queued before any failure, is full");
    assert.ok(
      delivered.slice(1).every((r) => r.artifacts.length === 0),
      "later ones in the outage are compact",
    );
    assert.equal(full.artifacts.length, 1, "the report after reconnecting lists the artifacts again");
    const times = delivered.map((r) => Date.parse(r.reportedAt));
    assert.deepEqual(times, [...times].sort((a, b) => a - b), "oldest first");
    assert.deepEqual(
      delivered.map((r) => r.events.filter((e) => e.kind === "test.marker").map((e) => e.message)),
      [0, 1, 2, 3, 4].map((i) => [`marker ${i}`]),
      "each report carries the events queued before it",
    );
    assert.ok(delivered.every((r) => r.dropped === 0));
    const view = await world.api("GET", "/api/satellites/outbox-1") as {
      lastSeenAt?: string;
      status?: { reportedAt?: string; counts?: { synced?: number } };
    };
    assert.equal(
      view.status?.reportedAt,
      full.reportedAt,
      "the restarted Ground Control has the newest",
    );
    assert.equal(view.status?.counts?.synced, 1);
  } finally {
    await satellite.stop();
    await Deno.remove(dataDir, { recursive: true });
    await Deno.remove(gcDir, { recursive: true });
  }
});

Deno.test("outbox: a full queue drops the oldest entries and the next delivery reports how many", async () => {
  const gcDir = await Deno.makeTempDir({ prefix: "gc-kv-" });
  await using world = await startWorld({ dataPath: `${gcDir}/control.kv` });
  const dataDir = await Deno.makeTempDir({ prefix: "satellite-" });
  const { satellite, recorder } = await registeredSatellite(world, dataDir, "outbox-2", 10);
  try {
    await world.stopGroundControl();
    for (let i = 0; i < 14; i++) satellite.events.emit("warn", "test.marker", `marker ${i}`);
    await satellite.reportNow();
    await until("queued", async () => await satellite.outbox.size() === 10);
    assert.equal(await satellite.outbox.dropped(), 5, "15 entries into a queue of 10");
    const metrics = await (await fetch(`${satellite.local.url}/metrics`)).text();
    assert.match(metrics, /^satellite_outbox_dropped 5$/m);
    assert.match(metrics, /^satellite_outbox_entries 10$/m);

    const acceptedBefore = recorder.accepted.length;
    await world.startGroundControl();
    await satellite.flushStatus();
    const delivered = recorder.accepted.slice(acceptedBefore);
    assert.equal(delivered.length, 1);
    assert.equal(delivered[0].dropped, 5);
    assert.deepEqual(
      delivered[0].events.filter((e) => e.kind === "test.marker").map((e) => e.message),
      [5, 6, 7, 8, 9, 10, 11, 12, 13].map((i) => `marker ${i}`),
      "the oldest went first",
    );
    assert.equal(await satellite.outbox.dropped(), 0, "the count resets once reported");
  } finally {
    await satellite.stop();
    await Deno.remove(dataDir, { recursive: true });
    await Deno.remove(gcDir, { recursive: true });
  }
});

Deno.test("outbox: a backlog larger than Ground Control's rate limit drains at that rate (Retry-After, no runaway backoff)", async () => {
  const gcDir = await Deno.makeTempDir({ prefix: "gc-kv-" });
  await using world = await startWorld({
    dataPath: `${gcDir}/control.kv`,
    deviceRateLimit: { ratePerSecond: 2, burst: 3 },
  });
  const dataDir = await Deno.makeTempDir({ prefix: "satellite-" });
  const { satellite, recorder } = await registeredSatellite(world, dataDir, "outbox-3");
  try {
    await world.stopGroundControl();
    for (let i = 0; i < 12; i++) {
      satellite.events.emit("warn", "test.marker", `marker ${i}`);
      await satellite.reportNow();
    }
    const acceptedBefore = recorder.accepted.length;
    const refusedBefore = recorder.refused;
    await world.startGroundControl();
    await until("backlog drained", async () => await satellite.outbox.size() === 0, 20_000);
    const delivered = recorder.accepted.slice(acceptedBefore);
    assert.equal(delivered.length, 13, "12 queued reports and the full one after reconnecting");
    assert.deepEqual(
      delivered.flatMap((r) => r.events.filter((e) => e.kind === "test.marker").map((e) => e.message)),
      Array.from({ length: 12 }, (_, i) => `marker ${i}`),
      "in order, none lost or repeated",
    );
    assert.ok(recorder.refused > refusedBefore, "the rate limit was hit on the way");
    // At 2/s the backlog drains with ~0.5-1 s between deliveries; a backoff that kept doubling on
    // every 429 (although each attempt made progress) would leave gaps of many seconds.
    const times = recorder.acceptedAt.slice(acceptedBefore);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    assert.ok(Math.max(...gaps) < 3_000, `largest gap ${Math.max(...gaps).toFixed(0)} ms`);
  } finally {
    await satellite.stop();
    await Deno.remove(dataDir, { recursive: true });
    await Deno.remove(gcDir, { recursive: true });
  }
});
