/**
 * First boot of a flashed device, as near as a test can get without a machine: build the x86_64
 * appliance image, provision it with one device's token and Ground Control URL, unpack it, and run
 * the packaged satellite with the tree's own Deno and the tree's own config. Only the data dir,
 * the registry port and the token file's location are moved into the temp tree (the real paths
 * are absolute and root-owned). Zero-touch registration must happen, the group's images must sync
 * into the satellite's local registry, and the token file must be retired.
 */
import { equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { buildImage, unpackImage } from "../../image/build.ts";
import { LAYOUT } from "../../image/layout.ts";
import { provisionImage } from "../../image/provision.ts";
import { RegistryClient } from "../../oci/client.ts";
import { buildImage as buildTestImage, pushImages } from "../support/images.ts";
import { freePort } from "../support/ports.ts";
import { startWorld, until } from "./edge_harness.ts";

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

Deno.test("first boot: the packaged satellite registers with only the provisioned token and syncs", async () => {
  await using world = await startWorld();
  const image = await buildTestImage({
    seed: "first-boot",
    layers: [{ files: { "etc/motd": "hello edge\n" } }],
  });
  await pushImages(world.central.host, [{ repository: "fleet/motd", tag: "v1", image }]);
  await world.putGroup("first-boot", [{ repository: "fleet/motd", tags: ["v1"] }]);
  const token = await world.createSatellite("device-0001", ["first-boot"]);

  const dir = await Deno.makeTempDir({ prefix: "first-boot-" });
  let child: Deno.ChildProcess | undefined;
  try {
    const built = await buildImage({ arch: "amd64", outDir: join(dir, "out") });
    const provisioned = await provisionImage({
      image: built.path,
      token,
      groundControlUrl: world.gc.url,
      out: join(dir, "out", "device-0001.tar.gz"),
    });
    const root = join(dir, "root");
    await unpackImage(provisioned.path, root);
    const tokenFile = join(root, LAYOUT.token);
    ok(await exists(tokenFile), "provisioning wrote the token into the boot partition");

    const port = freePort();
    child = new Deno.Command(join(root, LAYOUT.deno), {
      args: [
        "run",
        "--unstable-kv",
        "-A",
        join(root, LAYOUT.satelliteJs),
        "--config",
        join(root, LAYOUT.satelliteConfig),
        "run",
      ],
      cwd: dir,
      clearEnv: true,
      env: {
        DENO_DIR: join(dir, "deno-dir"),
        NO_COLOR: "1",
        HOME: dir,
        SATELLITE_DATA_DIR: join(dir, "data"),
        SATELLITE_LISTEN: `127.0.0.1:${port}`,
        SATELLITE_TOKEN_FILES: tokenFile,
      },
      stdout: "null",
      stderr: "null",
    }).spawn();

    const local = new RegistryClient({ baseUrl: `http://127.0.0.1:${port}`, retries: 0, timeoutMs: 2_000 });
    await until("the image is served by the packaged satellite", async () => {
      try {
        return (await local.headManifest("fleet/motd", "v1"))?.digest === image.digest;
      } catch {
        return false;
      }
    }, 60_000);
    const manifest = await local.getManifest("fleet/motd", image.digest);
    equal(manifest.digest, image.digest);
    ok(!await exists(tokenFile), "the used token file is retired");
    const satellites = await world.api("GET", "/api/satellites/device-0001") as {
      lifecycle?: string;
      state?: string;
    };
    ok(
      JSON.stringify(satellites).includes("online"),
      `Ground Control sees the device: ${JSON.stringify(satellites)}`,
    );
  } finally {
    if (child) {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await child.status;
    }
    await Deno.remove(dir, { recursive: true });
  }
});
