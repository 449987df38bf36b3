/**
 * Registry credential rotation through the status channel, end to end: Ground Control issues pull
 * credentials at registration that the central registry (basic auth) no longer accepts, then
 * rotates them in its answer to the satellite's first status report. The satellite stores the new
 * ones, polls and pulls with them, and converges.
 */
import assert from "node:assert/strict";
import type { CredentialsProvider } from "../../control/credentials.ts";
import { SatelliteDb } from "../../edge/db.ts";
import type { SatelliteEvent } from "../../edge/events.ts";
import { Satellite } from "../../edge/satellite.ts";
import { loadIdentity } from "../../edge/ztr.ts";
import { buildImage, pushImages } from "../support/images.ts";
import { startWorld, until } from "./edge_harness.ts";

Deno.test("credentials: rotated in the status response, then used for polls and pulls", async () => {
  const auth = { username: "robot-shop", password: "current-pass-5d2c" };
  let rotations = 0;
  const credentials: CredentialsProvider = {
    issue: () => Promise.resolve({ username: auth.username, password: "expired-pass-0000" }),
    rotate: (_subject, now) => {
      if (rotations++ > 0) return Promise.resolve(undefined);
      return Promise.resolve({ ...auth, expiresAt: new Date(now.getTime() + 86_400_000).toISOString() });
    },
    revoke: () => Promise.resolve(),
  };
  await using world = await startWorld({ auth, credentials });
  const dataDir = await Deno.makeTempDir({ prefix: "satellite-" });
  const image = await buildImage({ seed: "rotate-web", layers: [{ randomBytes: 8192 }] });
  await pushImages(world.central.host, [{ repository: "app/web", tag: "1", image }], {
    destCreds: `${auth.username}:${auth.password}`,
  });
  await world.putGroup("g", [{ repository: "app/web", tags: ["1"] }]);
  const token = await world.createSatellite("rotate-1", ["g"]);
  const satellite = await Satellite.open({
    config: world.satelliteConfig(dataDir, token),
    cmdlinePath: "/nonexistent",
  });
  const events: SatelliteEvent[] = [];
  satellite.events.on((e) => events.push(e));
  try {
    satellite.start();
    const identity = await satellite.registered;
    assert.equal(identity.registry.credentials?.password, "expired-pass-0000");
    await until("rotated", () => events.some((e) => e.kind === "credentials.rotated"), 20_000);
    await until(
      "synced with the rotated credentials",
      () =>
        satellite.status().converged && satellite.local.registry!.resolve("app/web", "1") === image.digest,
      20_000,
    );
    assert.equal(satellite.identity?.registry.credentials?.password, auth.password);
  } finally {
    await satellite.stop();
  }
  try {
    await using db = await SatelliteDb.open(dataDir);
    assert.equal(
      (await loadIdentity(db))?.registry.credentials?.password,
      auth.password,
      "stored for restarts",
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
