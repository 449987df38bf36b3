/**
 * Satellite end to end with Ground Control and a real docker-registry: registration with a token,
 * convergence through group changes (add, tag move, remove, `deleted: true`), an image shared by two
 * groups, pulls with skopeo from the built-in registry, status reports reaching Ground Control.
 */
import assert from "node:assert/strict";
import { Satellite } from "../../edge/satellite.ts";
import { buildImage, pushImages } from "../support/images.ts";
import { pullWithSkopeo, startWorld, until } from "./edge_harness.ts";

Deno.test("satellite registers with its token, converges through group changes, keeps shared images", async () => {
  await using world = await startWorld();
  const dataDir = await Deno.makeTempDir({ prefix: "satellite-" });
  const web1 = await buildImage({ seed: "e2e-web1", layers: [{ randomBytes: 64 * 1024 }] });
  const web2 = await buildImage({ seed: "e2e-web2", layers: [{ randomBytes: 64 * 1024 }] });
  const api = await buildImage({ seed: "e2e-api", layers: [{ randomBytes: 32 * 1024 }] });
  const shared = await buildImage({ seed: "e2e-shared", layers: [{ randomBytes: 16 * 1024 }] });
  await pushImages(world.central.host, [
    { repository: "app/web", tag: "stable", image: web1 },
    { repository: "app/api", tag: "1", image: api },
    { repository: "base/shared", tag: "1", image: shared },
  ]);
  await world.putGroup("eu", [{ repository: "app/web", tags: ["stable"] }, {
    repository: "base/shared",
    tags: ["1"],
  }]);
  await world.putGroup("us", [{ repository: "base/shared", tags: ["1"] }]);
  const token = await world.createSatellite("shop-1", ["eu", "us"]);
  const satellite = await Satellite.open({
    config: world.satelliteConfig(dataDir, token),
    cmdlinePath: "/nonexistent",
  });
  try {
    const local = satellite.local.registry!;
    satellite.start();
    const identity = await satellite.registered;
    assert.equal(identity.satellite.name, "shop-1");
    await until(
      "first sync",
      () => local.resolve("app/web", "stable") === web1.digest && !!local.resolve("base/shared", "1"),
    );
    await pullWithSkopeo(satellite.local.url, "app/web:stable");
    await pullWithSkopeo(satellite.local.url, `base/shared@${shared.digest}`);

    // Add an image.
    await world.putGroup("eu", [
      { repository: "app/web", tags: ["stable"] },
      { repository: "base/shared", tags: ["1"] },
      { repository: "app/api", tags: ["1"] },
    ]);
    await until("api added", () => local.resolve("app/api", "1") === api.digest);

    // Move a tag to a new digest.
    await pushImages(world.central.host, [{ repository: "app/web", tag: "stable", image: web2 }]);
    await world.putGroup("eu", [
      { repository: "app/web", tags: ["stable"] },
      { repository: "base/shared", tags: ["1"] },
      { repository: "app/api", tags: ["1"] },
    ]);
    await until("tag moved", () => local.resolve("app/web", "stable") === web2.digest);
    await until("old digest removed", async () => !(await local.hasManifest("app/web", web1.digest)));
    await pullWithSkopeo(satellite.local.url, "app/web:stable");

    // Remove an image, and drop the shared one from "eu" (group "us" still wants it).
    await world.putGroup("eu", [{ repository: "app/web", tags: ["stable"] }]);
    await until("api removed", async () => !(await local.hasManifest("app/api", api.digest)));
    assert.equal(
      local.resolve("base/shared", "1"),
      shared.digest,
      "shared image survives its removal from one group",
    );
    // Blobs are collected right after the manifest goes, in the same reconcile.
    const apiOnly = [...api.blobs.keys()].find((d) => !web2.blobs.has(d))!;
    await until("blobs collected", async () => !(await local.store.has(apiOnly)), 10_000);

    // Mark an image deleted through the Harbor adapter route.
    await world.syncGroup("eu", [{
      repository: "app/web",
      tag: ["stable"],
      digest: web2.digest,
      deleted: true,
    }]);
    await until("deleted image removed", async () => !(await local.hasManifest("app/web", web2.digest)));
    assert.equal(local.resolve("base/shared", "1"), shared.digest);

    // Status reached Ground Control (the report after the last reconcile is queued in the
    // background, so flush until it has arrived).
    await until("status reached Ground Control", async () => {
      await satellite.flushStatus();
      const view = await world.api("GET", "/api/satellites/shop-1") as {
        status?: { counts?: { synced?: number } };
      };
      return view.status?.counts?.synced === 1;
    }, 10_000);
    // Ground Control's fleet metrics follow the reports; the satellite serves its own.
    const fleet = await (await fetch(`${world.gc.url}/metrics`)).text();
    assert.match(fleet, /^ground_control_fleet_bytes_synced_total [1-9]\d*$/m);
    assert.match(fleet, /^ground_control_fleet_artifacts\{status="synced"\} 1$/m);
    const own = await (await fetch(`${satellite.local.url}/metrics`)).text();
    assert.match(own, /^satellite_sync_bytes_total [1-9]\d*$/m);
    assert.match(own, /^satellite_last_sync_success_timestamp_seconds [1-9]/m);
    assert.match(own, /^satellite_blobs [1-9]\d*$/m);
  } finally {
    await satellite.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
