/**
 * The CRI-O/Podman drop-in written by `edge/mirror` read by a real containers/image client (skopeo):
 * pulls of the central registry's name are served by the local registry while the central is down,
 * and fall back to the central for what the local registry lacks. Two real docker-registry instances
 * play the central and the local registry; the mirror entries are plain HTTP (`insecure = true`),
 * so no `--tls-verify=false` is passed: the file alone must make it work.
 */
import { deepStrictEqual, ok, rejects } from "node:assert/strict";
import { applyMirrorConfig } from "../../edge/mirror/apply.ts";
import { startDistribution } from "../support/distribution.ts";
import { buildImage, pushImages } from "../support/images.ts";

async function inspectRaw(reference: string, registriesConf: string): Promise<Uint8Array> {
  const args = ["--registries-conf", registriesConf, "inspect", "--raw", reference];
  const out = await new Deno.Command("skopeo", { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) throw new Error(`skopeo ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  return out.stdout;
}

Deno.test("skopeo pulls through the generated registries.conf mirror and falls back upstream", async () => {
  await using central = await startDistribution();
  await using local = await startDistribution();
  const root = await Deno.makeTempDir({ prefix: "mirror-skopeo-" });
  try {
    const both = await buildImage({ seed: "mirror-both", layers: [{ randomBytes: 2048 }] });
    const centralOnly = await buildImage({ seed: "mirror-central-only", layers: [{ randomBytes: 1024 }] });
    await pushImages(central.host, [
      { repository: "mirror/app", tag: "v1", image: both },
      { repository: "mirror/only-central", tag: "v1", image: centralOnly },
    ]);
    await pushImages(local.host, [{ repository: "mirror/app", tag: "v1", image: both }]);

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
