import assert from "node:assert/strict";
import { GroupState } from "../schemas/group_state.ts";
import { RegistryClient } from "../oci/client.ts";
import { collectGarbage } from "../oci/registry/gc.ts";
import { openLocalRegistry } from "../oci/registry/local.ts";
import { startDistribution } from "../tests/support/distribution.ts";
import { buildImage, buildIndex, pushImages } from "../tests/support/images.ts";
import { SatelliteDb } from "./db.ts";
import { desiredSet } from "./desired.ts";
import { EventLog } from "./events.ts";
import { Reconciler } from "./reconcile.ts";

const group = (name: string, artifacts: unknown[]) => ({
  name,
  state: GroupState.parse({ registry: "r", artifacts }),
});

Deno.test("Reconciler: syncs by digest, moves tags, honours removals with reference counts, collects blobs", async () => {
  await using central = await startDistribution();
  const dir = await Deno.makeTempDir();
  await using db = await SatelliteDb.open(`${dir}/data`);
  try {
    const shared = await buildImage({ seed: "shared", layers: [{ randomBytes: 4096 }] });
    const web1 = await buildImage({ seed: "web1", layers: [{ randomBytes: 2048 }, { randomBytes: 1024 }] });
    const web2 = await buildImage({ seed: "web2", layers: [{ randomBytes: 2048 }] });
    const amd = await buildImage({ seed: "multi-amd", layers: [{ randomBytes: 1000 }] });
    const arm = await buildImage({
      seed: "multi-arm",
      layers: [{ randomBytes: 1000 }],
      platform: { os: "linux", architecture: "arm64" },
    });
    const multi = buildIndex([[amd, { os: "linux", architecture: "amd64" }], [arm, {
      os: "linux",
      architecture: "arm64",
    }]]);
    await pushImages(central.host, [
      { repository: "app/shared", tag: "1", image: shared },
      { repository: "app/web", tag: "1", image: web1 },
      { repository: "app/web", tag: "2", image: web2 },
      { repository: "app/multi", tag: "1", image: multi },
    ]);
    const local = await openLocalRegistry(`${dir}/registry`);
    const reconciler = await Reconciler.create({
      db,
      source: new RegistryClient({ baseUrl: central.url }),
      target: local,
      events: new EventLog(),
      collectGarbage: () => collectGarbage(local, { graceMs: 0 }),
    });
    const a = (repository: string, digest: string, tag: string[], deleted = false) => ({
      repository,
      digest,
      tag,
      deleted,
    });

    let desired = desiredSet([
      group("eu", [
        a("app/web", web1.digest, ["stable"]),
        a("app/shared", shared.digest, ["1"]),
        a("app/multi", multi.digest, ["1"]),
      ]),
      group("us", [a("app/shared", shared.digest, ["1"])]),
    ]);
    let result = await reconciler.reconcile(desired, { allowRemovals: true, concurrency: 4 });
    assert.equal(result.synced, 3);
    assert.ok(result.converged);
    assert.equal(local.resolve("app/web", "stable"), web1.digest);
    assert.equal(local.resolve("app/multi", "1"), multi.digest);
    assert.ok(await local.hasBlob("app/multi", [...arm.blobs.keys()][0]), "the index is kept whole");
    assert.ok(reconciler.isConverged(desired));

    // Tag moves to a new digest; the shared image leaves "eu" but "us" still wants it; multi is deleted.
    desired = desiredSet([
      group("eu", [a("app/web", web2.digest, ["stable"]), a("app/multi", multi.digest, ["1"], true)]),
      group("us", [a("app/shared", shared.digest, ["1"])]),
    ]);
    result = await reconciler.reconcile(desired, { allowRemovals: true });
    assert.equal(result.synced, 1);
    assert.equal(result.removed, 2);
    assert.equal(local.resolve("app/web", "stable"), web2.digest);
    assert.equal(await local.hasManifest("app/web", web1.digest), false);
    assert.equal(local.resolve("app/shared", "1"), shared.digest);
    assert.equal(await local.hasManifest("app/multi", multi.digest), false);
    const web1Layers = [...web1.blobs.keys()].filter((d) => !web2.blobs.has(d));
    assert.equal(await local.store.has(web1Layers[0]), false, "unreferenced blobs are collected");

    // Without complete knowledge of the groups, nothing is removed.
    result = await reconciler.reconcile(desiredSet([]), { allowRemovals: false });
    assert.equal(result.removed, 0);
    assert.equal(local.resolve("app/shared", "1"), shared.digest);

    // A restart continues from KV: nothing to do.
    const again = await Reconciler.create({
      db,
      source: new RegistryClient({ baseUrl: central.url }),
      target: local,
      events: new EventLog(),
    });
    assert.ok(again.isConverged(desired));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Reconciler: a missing image fails alone, is recorded, and is retried", async () => {
  await using central = await startDistribution();
  const dir = await Deno.makeTempDir();
  await using db = await SatelliteDb.open(`${dir}/data`);
  try {
    const img = await buildImage({ seed: "later", layers: [{ randomBytes: 512 }] });
    const local = await openLocalRegistry(`${dir}/registry`);
    const events = new EventLog();
    const failures: string[] = [];
    events.on((e) => e.kind === "sync.failed" && failures.push(e.message));
    const reconciler = await Reconciler.create({
      db,
      source: new RegistryClient({ baseUrl: central.url, retries: 0 }),
      target: local,
      events,
    });
    const desired = desiredSet([group("g", [{ repository: "app/later", digest: img.digest, tag: ["v"] }])]);
    let result = await reconciler.reconcile(desired, { allowRemovals: true });
    assert.equal(result.failed, 1);
    assert.equal(reconciler.records.get("app/later", img.digest)?.status, "failed");
    assert.equal(failures.length, 1);
    await pushImages(central.host, [{ repository: "app/later", tag: "v", image: img }]);
    result = await reconciler.reconcile(desired, { allowRemovals: true });
    assert.equal(result.synced, 1);
    assert.equal(local.resolve("app/later", "v"), img.digest);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
