/**
 * Real containerd pulling through the satellite: the satellite daemon writes containerd's
 * `hosts.toml` on start (`mirror.apply`), `satellite mirror-config --runtime containerd --apply`
 * writes the same under another root, and `ctr images pull --hosts-dir <dir> <central>/<repo>:<tag>`
 * is served by the satellite's built-in registry (the central sees no image request), also with
 * the central registry stopped.
 */
import assert from "node:assert/strict";
import { startDaemon } from "../../edge/daemon.ts";
import { main } from "../../edge/main.ts";
import { createLogger } from "../../telemetry/log.ts";
import { startContainerd } from "../support/containerd.ts";
import { buildImage, pushImages } from "../support/images.ts";
import { startWorld, until } from "./edge_harness.ts";

Deno.test("containerd pulls the central registry's names from the satellite, also with the central stopped", async () => {
  await using world = await startWorld();
  const dir = await Deno.makeTempDir({ prefix: "satellite-ctr-" });
  const image = await buildImage({
    seed: "ctr-web",
    layers: [{ randomBytes: 64 * 1024 }, { randomBytes: 8192 }],
  });
  await pushImages(world.central.host, [{ repository: "app/web", tag: "1", image }]);
  await world.putGroup("g", [{ repository: "app/web", tags: ["1"] }]);
  const token = await world.createSatellite("ctr-1", ["g"]);
  const config = world.satelliteConfig(`${dir}/data`, token, {
    mirror: { apply: true, runtimes: ["containerd"], root: `${dir}/daemon-root` },
  });
  const daemon = await startDaemon(config, {
    cmdlinePath: "/nonexistent",
    logger: createLogger({ level: "error" }),
  });
  try {
    await daemon.mirrorApplied;
    await until(
      "synced",
      () => daemon.satellite.status().converged && daemon.satellite.status().counts.synced === 1,
    );
    const central = world.proxy.host; // the central registry's name as satellites and runtimes know it
    const hostsFile = `etc/containerd/certs.d/${central}/hosts.toml`;

    // The CLI writes the same hosts.toml (identity read from the satellite's database).
    await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(config));
    const code = await main([
      "--config",
      `${dir}/config.json`,
      "mirror-config",
      "--runtime",
      "containerd",
      "--root",
      `${dir}/cli-root`,
      "--local-url",
      daemon.satellite.local.url,
      "--apply",
    ]);
    assert.equal(code, 0);
    const fromCli = await Deno.readTextFile(`${dir}/cli-root/${hostsFile}`);
    assert.equal(await Deno.readTextFile(`${dir}/daemon-root/${hostsFile}`), fromCli);
    assert.ok(fromCli.includes(new URL(daemon.satellite.local.url).host), fromCli);
    const hostsDir = `${dir}/cli-root/etc/containerd/certs.d`;

    const before = world.proxy.log.length;
    {
      await using containerd = await startContainerd();
      await containerd.ctr(["images", "pull", "--hosts-dir", hostsDir, `${central}/app/web:1`]);
      const listed = await containerd.ctr(["images", "ls"]);
      assert.ok(listed.includes(`${central}/app/web:1`) && listed.includes(image.digest), listed);
    }
    const centralHits = world.proxy.log.slice(before).filter((r) => r.path.startsWith("/v2/app/web/"));
    assert.deepEqual(centralHits, [], "served by the satellite, not the central registry");

    // Central down: a fresh containerd still pulls the central name, from the satellite.
    await world.proxy.stop();
    await world.central.kill();
    {
      await using containerd = await startContainerd();
      await containerd.ctr(["images", "pull", "--hosts-dir", hostsDir, `${central}/app/web:1`]);
      assert.ok((await containerd.ctr(["images", "ls"])).includes(image.digest));
    }
  } finally {
    await daemon.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
