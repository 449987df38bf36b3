/**
 * Mirror configuration written by `edge/mirror`, read by real clients: skopeo (containers/image, as
 * CRI-O and Podman use it) with the registries.conf drop-in, and containerd with `hosts.toml`. Pulls
 * of the central registry's name are served by the local registry while the central is down, and
 * fall back to the central for what the local registry lacks. Two real docker-registry instances
 * play the central and the local registry; both speak plain HTTP and no client flag says so: the
 * generated files alone must make it work.
 */
import { deepStrictEqual, ok, rejects } from "node:assert/strict";
import { applyMirrorConfig } from "../../edge/mirror/apply.ts";
import { startContainerd } from "../support/containerd.ts";
import { type Distribution, startDistribution } from "../support/distribution.ts";
import { buildImage, type BuiltImage, pushImages } from "../support/images.ts";

async function inspectRaw(reference: string, registriesConf: string): Promise<Uint8Array> {
  const args = ["--registries-conf", registriesConf, "inspect", "--raw", reference];
  const out = await new Deno.Command("skopeo", { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) throw new Error(`skopeo ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  return out.stdout;
}

/** A central with two images and a local registry holding only the first. */
async function twoRegistries(): Promise<
  { central: Distribution; local: Distribution; both: BuiltImage; centralOnly: BuiltImage } & AsyncDisposable
> {
  const central = await startDistribution();
  const local = await startDistribution();
  const both = await buildImage({ seed: "mirror-both", layers: [{ randomBytes: 2048 }] });
  const centralOnly = await buildImage({ seed: "mirror-central-only", layers: [{ randomBytes: 1024 }] });
  await pushImages(central.host, [
    { repository: "mirror/app", tag: "v1", image: both },
    { repository: "mirror/only-central", tag: "v1", image: centralOnly },
  ]);
  await pushImages(local.host, [{ repository: "mirror/app", tag: "v1", image: both }]);
  return {
    central,
    local,
    both,
    centralOnly,
    [Symbol.asyncDispose]: async () => {
      await central.stop();
      await local.stop();
    },
  };
}

Deno.test("containerd pulls through the generated hosts.toml mirror and falls back to the server", async () => {
  await using registries = await twoRegistries();
  const { central, local, both, centralOnly } = registries;
  await using containerd = await startContainerd();
  const root = await Deno.makeTempDir({ prefix: "mirror-containerd-" });
  try {
    await applyMirrorConfig({
      runtime: "containerd",
      root,
      localUrl: local.url,
      upstreamHost: `http://${central.host}`,
      apply: true,
    });
    const hostsDir = `${root}/etc/containerd/certs.d`;
    await central.kill();
    await containerd.ctr(["images", "pull", "--hosts-dir", hostsDir, `${central.host}/mirror/app:v1`]);
    const listed = await containerd.ctr(["images", "ls"]);
    ok(listed.includes(`${central.host}/mirror/app:v1`) && listed.includes(both.digest), listed);
    await central.restart();
    await containerd.ctr([
      "images",
      "pull",
      "--hosts-dir",
      hostsDir,
      `${central.host}/mirror/only-central:v1`,
    ]);
    ok((await containerd.ctr(["images", "ls"])).includes(centralOnly.digest));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("skopeo pulls through the generated registries.conf mirror and falls back upstream", async () => {
  await using registries = await twoRegistries();
  const { central, local, both, centralOnly } = registries;
  const root = await Deno.makeTempDir({ prefix: "mirror-skopeo-" });
  try {
    const plan = await applyMirrorConfig({
      runtime: "podman",
      root,
      localUrl: local.url,
      upstreamHost: `http://${central.host}`,
      apply: true,
    });
    const conf = plan.files[0].fullPath;

    // Central down: the central name still resolves, from the local registry.
    await central.kill();
    const served = await inspectRaw(`docker://${central.host}/mirror/app:v1`, conf);
    deepStrictEqual(served, both.manifest);
    const empty = `${root}/empty.conf`;
    await Deno.writeTextFile(empty, "");
    await rejects(inspectRaw(`docker://${central.host}/mirror/app:v1`, empty), "without the mirror it fails");

    // Central up again: what the local registry lacks comes from the central.
    await central.restart();
    const fallback = await inspectRaw(`docker://${central.host}/mirror/only-central:v1`, conf);
    deepStrictEqual(fallback, centralOnly.manifest);
    ok(plan.files[0].content.includes(`location = "${local.host}"`));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
