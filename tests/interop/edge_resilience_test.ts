/**
 * Satellite resilience end to end: serving while the central registry is down (and after a restart
 * while offline), refusing forged and rolled-back state while the old images keep serving, and the
 * external local registry mode against a real docker-registry.
 */
import assert from "node:assert/strict";
import { RegistryClient } from "../../oci/client.ts";
import { Satellite } from "../../edge/satellite.ts";
import { packState, publishState, stateRepository } from "../../state/artifact.ts";
import { generateSigningKey } from "../../state/keys.ts";
import { startDistribution } from "../support/distribution.ts";
import { buildImage, pushImages, skopeoInspectRaw } from "../support/images.ts";
import { pullWithSkopeo, startWorld, until } from "./edge_harness.ts";

Deno.test("offline: the built-in registry serves every synced image, also after a restart; bad state is refused", async () => {
  await using world = await startWorld();
  const dataDir = await Deno.makeTempDir({ prefix: "satellite-" });
  const web = await buildImage({ seed: "off-web", layers: [{ randomBytes: 32 * 1024 }] });
  const db = await buildImage({ seed: "off-db", layers: [{ randomBytes: 32 * 1024 }] });
  await pushImages(world.central.host, [{ repository: "app/web", tag: "1", image: web }, {
    repository: "app/db",
    tag: "1",
    image: db,
  }]);
  await world.putGroup("eu", [{ repository: "app/web", tags: ["1"] }, { repository: "app/db", tags: ["1"] }]);
  const token = await world.createSatellite("shop-2", ["eu"]);
  const config = world.satelliteConfig(dataDir, token);
  let satellite = await Satellite.open({ config, cmdlinePath: "/nonexistent" });
  try {
    satellite.start();
    await until("synced", () => satellite.status().counts.synced === 2 && satellite.status().converged);

    // A forged group state (another key) and a rolled-back one are refused; images keep serving.
    const refused: string[] = [];
    satellite.events.on((e) => e.kind === "state.refused" && refused.push(String(e.data?.reason)));
    const central = new RegistryClient({ baseUrl: world.central.url });
    const repo = stateRepository("satellite", "group", "eu");
    const forged = await packState({
      kind: "group",
      name: "eu",
      seq: 99,
      issuedAt: new Date().toISOString(),
      state: { registry: world.central.host, artifacts: [] },
    }, await generateSigningKey());
    await publishState(central, repo, forged);
    await until("forged state refused", () => refused.includes("unknown-key"));
    // Rollback: publish v2, wait until applied, then put v1 back on latest.
    await pushImages(world.central.host, [{ repository: "app/db", tag: "2", image: db }]);
    await world.putGroup("eu", [{ repository: "app/web", tags: ["1"] }, {
      repository: "app/db",
      tags: ["1", "2"],
    }]);
    await until(
      "v2 applied",
      () => (satellite.status().applied.groups.eu?.seq ?? 0) >= 2 && satellite.status().converged,
    );
    const v1 = await central.getManifest(repo, "v1");
    await central.putManifest(repo, "latest", v1);
    await until("rollback refused", () => refused.includes("rollback"));
    await satellite.pollOnce();
    assert.equal(satellite.status().counts.synced, 2);
    await pullWithSkopeo(satellite.local.url, "app/web:1");
    const view = await world.api("GET", "/api/satellites/shop-2") as Record<string, unknown>;
    assert.ok(view, "Ground Control still knows the satellite");

    // Central registry down: everything still serves, polls fail without removing anything.
    await world.central.kill();
    const poll = await satellite.pollOnce();
    assert.ok(poll.outcome.errors.length > 0);
    await pullWithSkopeo(satellite.local.url, "app/web:1");
    await pullWithSkopeo(satellite.local.url, "app/db:1");

    // Restart while offline: serves at once, before any poll succeeds.
    await satellite.stop();
    satellite = await Satellite.open({ config, cmdlinePath: "/nonexistent" });
    satellite.start();
    await pullWithSkopeo(satellite.local.url, "app/web:1");
    await pullWithSkopeo(satellite.local.url, `app/db@${db.digest}`);
    await satellite.pollOnce();
    assert.equal(satellite.status().counts.synced, 2, "nothing removed while offline");
  } finally {
    await satellite.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("external local registry: the satellite syncs into a real docker-registry and removes from it", async () => {
  await using world = await startWorld();
  await using external = await startDistribution();
  const dataDir = await Deno.makeTempDir({ prefix: "satellite-" });
  const a = await buildImage({ seed: "ext-a", layers: [{ randomBytes: 16 * 1024 }] });
  const b = await buildImage({ seed: "ext-b", layers: [{ randomBytes: 16 * 1024 }] });
  await pushImages(world.central.host, [{ repository: "app/a", tag: "1", image: a }, {
    repository: "app/b",
    tag: "1",
    image: b,
  }]);
  await world.putGroup("g", [{ repository: "app/a", tags: ["1"] }, { repository: "app/b", tags: ["1"] }]);
  const token = await world.createSatellite("zot-1", ["g"]);
  const config = world.satelliteConfig(dataDir, token, {
    localRegistry: { mode: "external", url: external.url },
  });
  const satellite = await Satellite.open({ config, cmdlinePath: "/nonexistent" });
  try {
    satellite.start();
    await until(
      "synced into the external registry",
      () => satellite.status().converged && satellite.status().counts.synced === 2,
    );
    const raw = await skopeoInspectRaw(`docker://${external.host}/app/a:1`);
    assert.equal(new TextDecoder().decode(raw), new TextDecoder().decode(a.manifest));
    await world.putGroup("g", [{ repository: "app/a", tags: ["1"] }]);
    const client = new RegistryClient({ baseUrl: external.url });
    await until(
      "removed from the external registry",
      async () => !(await client.hasManifest("app/b", b.digest)),
    );
    assert.ok(await client.hasManifest("app/a", a.digest));
  } finally {
    await satellite.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
