import assert from "node:assert/strict";
import { RegistryClient } from "../oci/client.ts";
import { packState, publishState, stateRepository } from "../state/artifact.ts";
import { generateSigningKey, type SigningKey } from "../state/keys.ts";
import { startDistribution } from "../tests/support/distribution.ts";
import { buildImage, pushImages } from "../tests/support/images.ts";
import { AppliedStore } from "./applied.ts";
import { SatelliteDb } from "./db.ts";
import { EventLog, type SatelliteEvent } from "./events.ts";
import { StatePoller } from "./poller.ts";

const DIGEST = "sha256:" + "a".repeat(64);
const NS = "satellite";

async function publishGroup(
  client: RegistryClient,
  key: SigningKey,
  name: string,
  seq: number,
  repo: string,
) {
  const packed = await packState({
    kind: "group",
    name,
    seq,
    issuedAt: new Date().toISOString(),
    state: {
      registry: client.host,
      artifacts: [{ repository: repo, tag: ["v1"], digest: DIGEST, type: "IMAGE", deleted: false }],
    },
  }, key);
  await publishState(client, stateRepository(NS, "group", name), packed);
  return packed;
}

async function publishSatellite(
  client: RegistryClient,
  key: SigningKey,
  seq: number,
  groups: { name: string; format?: "edge" | "harbor"; reference?: string }[],
) {
  const packed = await packState(
    {
      kind: "satellite",
      name: "shop-1",
      seq,
      issuedAt: new Date().toISOString(),
      state: {
        satellite: "shop-1",
        groups: groups.map((g) => ({
          name: g.name,
          format: g.format ?? "edge",
          reference: g.reference ?? `${client.host}/${stateRepository(NS, "group", g.name)}:latest`,
        })),
        config: {},
      },
    } as Parameters<typeof packState>[0],
    key,
  );
  await publishState(client, stateRepository(NS, "satellite", "shop-1"), packed);
  return packed;
}

Deno.test("StatePoller: HEAD-only steady state, verified changes, forged and rolled-back state refused", async () => {
  await using reg = await startDistribution();
  const dir = await Deno.makeTempDir();
  await using db = await SatelliteDb.open(dir);
  try {
    const client = new RegistryClient({ baseUrl: reg.url });
    const key = await generateSigningKey();
    await publishGroup(client, key, "eu", 1, "app/web");
    await publishSatellite(client, key, 1, [{ name: "eu" }]);
    const events: SatelliteEvent[] = [];
    const log = new EventLog();
    log.on((e) => events.push(e));
    const options = {
      registry: client,
      stateReference: `${reg.host}/${stateRepository(NS, "satellite", "shop-1")}:latest`,
      satelliteName: "shop-1",
      publicKeyBase64: key.publicKeyBase64,
      store: new AppliedStore(db, dir),
      events: log,
    };
    const poller = new StatePoller(options);
    await poller.init();
    const first = await poller.poll();
    assert.equal(first.changed, true);
    assert.equal(first.complete, true);
    assert.equal(first.groups.get("eu")?.state.artifacts[0].repository, "app/web");
    const idle = await poller.poll();
    assert.equal(idle.changed, false);
    assert.equal(idle.requests, 2, "one HEAD per state");

    // A new group version is accepted.
    await publishGroup(client, key, "eu", 2, "app/api");
    const second = await poller.poll();
    assert.equal(second.changed, true);
    assert.equal(poller.groups.get("eu")?.seq, 2);

    // Forged by another key: refused, old state stays, not fetched again.
    await publishGroup(client, await generateSigningKey(), "eu", 3, "evil/x");
    const forged = await poller.poll();
    assert.equal(forged.changed, false);
    assert.equal(forged.refused[0]?.reason, "unknown-key");
    assert.equal(poller.groups.get("eu")?.state.artifacts[0].repository, "app/api");
    assert.equal((await poller.poll()).requests, 2);

    // Rollback: the v1 manifest re-pushed to latest.
    const v1 = await client.getManifest(stateRepository(NS, "group", "eu"), "v1");
    await client.putManifest(stateRepository(NS, "group", "eu"), "latest", v1);
    const rolled = await poller.poll();
    assert.equal(rolled.refused[0]?.reason, "rollback");
    assert.equal(poller.groups.get("eu")?.seq, 2);
    assert.ok(events.some((e) => e.kind === "state.refused"));

    // A restart reloads the states in force from KV and polls HEAD-only.
    const again = new StatePoller(options);
    await again.init();
    assert.equal(again.groups.get("eu")?.seq, 2);
    await publishGroup(client, key, "eu", 4, "app/api");
    await client.putManifest(stateRepository(NS, "group", "eu"), "latest", v1);
    // (latest is v1 again: the restarted poller also refuses the rollback)
    assert.equal((await again.poll()).refused[0]?.reason, "rollback");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("StatePoller: follows an upstream Harbor group state (artifacts.json in a gzip tar layer); leaving a group drops it", async () => {
  await using reg = await startDistribution();
  const dir = await Deno.makeTempDir();
  await using db = await SatelliteDb.open(dir);
  try {
    const client = new RegistryClient({ baseUrl: reg.url });
    const key = await generateSigningKey();
    const harborState = {
      registry: "harbor.example.com",
      artifacts: [{
        repository: "library/nginx",
        tag: ["1.25"],
        digest: DIGEST,
        type: "IMAGE",
        deleted: false,
      }],
    };
    const image = await buildImage({
      seed: "harbor-state",
      layers: [{ files: { "artifacts.json": JSON.stringify(harborState) } }],
    });
    await pushImages(reg.host, [{ repository: "satellite/harbor/group-state", tag: "latest", image }]);
    await publishSatellite(client, key, 1, [{
      name: "hb",
      format: "harbor",
      reference: `${reg.host}/satellite/harbor/group-state:latest`,
    }]);
    const poller = new StatePoller({
      registry: client,
      stateReference: `${reg.host}/${stateRepository(NS, "satellite", "shop-1")}:latest`,
      satelliteName: "shop-1",
      publicKeyBase64: key.publicKeyBase64,
      store: new AppliedStore(db, dir),
      events: new EventLog(),
    });
    await poller.init();
    const outcome = await poller.poll();
    assert.deepEqual(outcome.errors, []);
    assert.equal(outcome.groups.get("hb")?.state.artifacts[0].repository, "library/nginx");
    await publishSatellite(client, key, 2, []);
    const left = await poller.poll();
    assert.equal(left.changed, true);
    assert.equal(left.groups.size, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("StatePoller: a group left and re-joined later refuses an older version of itself (also after a restart)", async () => {
  await using reg = await startDistribution();
  const dir = await Deno.makeTempDir();
  await using db = await SatelliteDb.open(dir);
  try {
    const client = new RegistryClient({ baseUrl: reg.url });
    const key = await generateSigningKey();
    const repo = stateRepository(NS, "group", "eu");
    await publishGroup(client, key, "eu", 1, "app/old");
    await publishGroup(client, key, "eu", 2, "app/new");
    await publishSatellite(client, key, 1, [{ name: "eu" }]);
    const options = {
      registry: client,
      stateReference: `${reg.host}/${stateRepository(NS, "satellite", "shop-1")}:latest`,
      satelliteName: "shop-1",
      publicKeyBase64: key.publicKeyBase64,
      store: new AppliedStore(db, dir),
      events: new EventLog(),
    };
    const poller = new StatePoller(options);
    await poller.init();
    await poller.poll();
    assert.equal(poller.groups.get("eu")?.seq, 2);

    // Leave the group, then an attacker (or a stale mirror) puts v1 back on latest, then re-join.
    await publishSatellite(client, key, 2, []);
    assert.equal((await poller.poll()).groups.has("eu"), false);
    await client.putManifest(repo, "latest", await client.getManifest(repo, "v1"));
    await publishSatellite(client, key, 3, [{ name: "eu" }]);
    const rejoined = await poller.poll();
    assert.equal(rejoined.refused[0]?.reason, "rollback", "v1 refused after re-joining");
    assert.equal(rejoined.groups.has("eu"), false);
    assert.equal(rejoined.complete, false, "removals stay off while the group has no state");

    // The guard survives a restart.
    const restarted = new StatePoller(options);
    await restarted.init();
    assert.equal((await restarted.poll()).refused[0]?.reason, "rollback");

    // A genuinely newer version is accepted.
    await publishGroup(client, key, "eu", 3, "app/newer");
    const accepted = await restarted.poll();
    assert.equal(accepted.groups.get("eu")?.seq, 3);
    assert.equal(accepted.groups.get("eu")?.state.artifacts[0].repository, "app/newer");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
