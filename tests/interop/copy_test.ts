/**
 * The copier between real registries (distribution 2.8) and into the on-disk store, checked with
 * skopeo, plus faults injected by a proxy: a corrupted blob and a connection cut mid-blob.
 */
import { deepStrictEqual, equal, ok, rejects } from "node:assert/strict";
import { RegistryClient } from "../../oci/client.ts";
import { BlobFlights, copyImage, type CopyProgress } from "../../oci/copy.ts";
import { DigestMismatchError } from "../../oci/errors.ts";
import { openLocalRegistry } from "../../oci/registry/local.ts";
import { startDistribution } from "../support/distribution.ts";
import {
  buildImage,
  buildIndex,
  type BuiltImage,
  pushImages,
  seededBytes,
  skopeoInspectRaw,
} from "../support/images.ts";
import { startProxy } from "../support/proxy.ts";

const amd64 = { os: "linux", architecture: "amd64" };
const arm64 = { os: "linux", architecture: "arm64" };
// A files layer has the same tar bytes in every image that uses it: a shared base layer.
const base = { files: { "base/data.bin": seededBytes("copy-base", 2 * 1024 * 1024) } };

async function fixtures() {
  const app = await buildImage({
    seed: "copy-app",
    gzip: false,
    layers: [base, { files: { "app/bin": "app" } }],
  });
  const tool = await buildImage({
    seed: "copy-tool",
    gzip: false,
    layers: [base, { files: { "tool/bin": "tool" } }],
  });
  const arm = await buildImage({
    seed: "copy-arm",
    gzip: false,
    layers: [{ randomBytes: 100_000 }],
    platform: arm64,
  });
  const multi = buildIndex([[app, amd64], [arm, arm64]]);
  return { app, tool, arm, multi };
}

function layers(image: BuiltImage): { digest: string; size: number }[] {
  return JSON.parse(new TextDecoder().decode(image.manifest)).layers;
}

Deno.test("copy registry -> registry: byte-identical (skopeo), shared blobs once, tags last, re-copy skips all", async () => {
  await using a = await startDistribution();
  await using b = await startDistribution();
  const { app, tool, multi } = await fixtures();
  await pushImages(a.host, [
    { repository: "demo/multi", tag: "v1", image: multi },
    { repository: "demo/app", tag: "v1", image: app },
    { repository: "demo/tool", tag: "v1", image: tool },
  ]);
  await using proxy = await startProxy(a.url);
  const source = new RegistryClient({ baseUrl: proxy.url });
  const target = new RegistryClient({ baseUrl: b.url });

  const events: CopyProgress[] = [];
  const summary = await copyImage(source, target, {
    repository: "demo/multi",
    reference: "v1",
    tags: ["v1", "stable"],
    onProgress: (e) => events.push(e),
  });
  equal(summary.digest, multi.digest);
  equal(summary.manifestsCopied, 3);
  equal(summary.tagsSet, 2);
  ok(summary.blobsCopied >= 4);
  deepStrictEqual(events.slice(-2).map((e) => e.type), ["tag", "tag"]);
  const lastManifest = events.findLastIndex((e) => e.type === "manifest");
  const firstTag = events.findIndex((e) => e.type === "tag");
  ok(lastManifest < firstTag, "tags come after every manifest");
  for (const ref of ["demo/multi:v1", "demo/multi:stable", `demo/multi@${app.digest}`]) {
    const raw = await skopeoInspectRaw(`docker://${b.host}/${ref}`);
    deepStrictEqual(raw, ref.includes("@") ? app.manifest : multi.manifest, ref);
  }

  // Two images sharing a base layer, copied at once with shared flights: the base travels once
  // and the second repository gets it by cross-repo mount.
  const flights = new BlobFlights();
  const shared = layers(app)[0];
  equal(shared.digest, layers(tool)[0].digest);
  const servedBefore = proxy.bytesServed(`/blobs/${shared.digest}`);
  const [apps, tools] = await Promise.all([
    copyImage(source, target, { repository: "demo/app", reference: "v1", flights }),
    copyImage(source, target, { repository: "demo/tool", reference: "v1", flights }),
  ]);
  equal(proxy.bytesServed(`/blobs/${shared.digest}`) - servedBefore, shared.size, "shared base fetched once");
  equal(apps.blobsMounted + tools.blobsMounted, 1);
  for (const [repo, image] of [["demo/app", app], ["demo/tool", tool]] as const) {
    deepStrictEqual(await skopeoInspectRaw(`docker://${b.host}/${repo}:v1`), image.manifest);
  }

  // Everything is there now: a second copy moves nothing.
  const second = await copyImage(source, target, { repository: "demo/multi", reference: "v1", tags: ["v1"] });
  deepStrictEqual(
    { copied: second.blobsCopied, bytes: second.bytesTransferred, manifests: second.manifestsCopied },
    { copied: 0, bytes: 0, manifests: 0 },
  );
  ok(second.manifestsSkipped >= 2);
});

Deno.test("copy into the local store: whole index, platform filter keeps index bytes, re-copy fills in", async () => {
  await using a = await startDistribution();
  const { app, arm, multi } = await fixtures();
  await pushImages(a.host, [{ repository: "demo/multi", tag: "v1", image: multi }]);
  const source = new RegistryClient({ baseUrl: a.url });
  const root = await Deno.makeTempDir({ prefix: "copy-store-" });
  try {
    const store = await openLocalRegistry(root);
    const filtered = await copyImage(source, store, {
      repository: "demo/multi",
      reference: multi.digest,
      tags: ["v1"],
      platforms: ["linux/arm64"],
    });
    equal(filtered.digest, multi.digest);
    deepStrictEqual((await store.getManifest("demo/multi", "v1")).bytes, multi.manifest);
    deepStrictEqual((await store.getManifest("demo/multi", arm.digest)).bytes, arm.manifest);
    await rejects(store.getManifest("demo/multi", app.digest), /not in demo\/multi/);
    for (const layer of layers(app)) ok(!await store.hasBlob("demo/multi", layer.digest));

    const full = await copyImage(source, store, { repository: "demo/multi", reference: "v1" });
    equal(full.manifestsCopied, 1, "only the amd64 child was missing");
    deepStrictEqual((await store.getManifest("demo/multi", app.digest)).bytes, app.manifest);
    for (const layer of layers(app)) ok(await store.hasBlob("demo/multi", layer.digest));
    const again = await copyImage(source, store, { repository: "demo/multi", reference: "v1" });
    equal(again.bytesTransferred, 0);
    deepStrictEqual(await store.listTags("demo/multi"), ["v1"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a blob corrupted in flight is rejected and never becomes visible", async () => {
  await using a = await startDistribution();
  await using b = await startDistribution();
  const { app } = await fixtures();
  await pushImages(a.host, [{ repository: "demo/app", tag: "v1", image: app }]);
  const layer = layers(app)[0];
  await using proxy = await startProxy(a.url, {
    corrupt: { match: `/blobs/${layer.digest}`, at: layer.size - 100 },
  });
  const source = new RegistryClient({ baseUrl: proxy.url });
  const target = new RegistryClient({ baseUrl: b.url });
  await rejects(copyImage(source, target, { repository: "demo/app", reference: "v1" }), DigestMismatchError);
  ok(!await target.hasBlob("demo/app", layer.digest));
  ok(!await target.hasManifest("demo/app", app.digest));
  deepStrictEqual(await target.listTags("demo/app"), []);

  const root = await Deno.makeTempDir({ prefix: "copy-corrupt-" });
  try {
    const store = await openLocalRegistry(root);
    await rejects(copyImage(source, store, { repository: "demo/app", reference: "v1" }), DigestMismatchError);
    ok(!await store.hasBlob("demo/app", layer.digest));
    deepStrictEqual(await store.listTags("demo/app"), []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a transfer cut mid-blob resumes with Range and fetches little more than the blob", async () => {
  await using a = await startDistribution();
  await using b = await startDistribution();
  const { app } = await fixtures();
  await pushImages(a.host, [{ repository: "demo/app", tag: "v1", image: app }]);
  const layer = layers(app)[0];
  const match = `/blobs/${layer.digest}`;
  const chunk = 256 * 1024; // what may be in flight when the connection drops
  await using proxy = await startProxy(a.url);

  // registry -> registry: the client's blob stream resumes by itself.
  proxy.faults.cut = { match, afterBytes: 1_000_000, times: 1 };
  const source = new RegistryClient({ baseUrl: proxy.url });
  await copyImage(source, new RegistryClient({ baseUrl: b.url }), {
    repository: "demo/app",
    reference: "v1",
  });
  let requests = proxy.log.filter((r) => r.path.includes(match));
  equal(requests.length, 2);
  ok(/^bytes=\d+-$/.test(requests[1].range ?? ""), `second request has a Range: ${requests[1].range}`);
  let served = proxy.bytesServed(match);
  ok(served < layer.size + chunk, `served ${served} for a ${layer.size}-byte blob`);
  deepStrictEqual(await skopeoInspectRaw(`docker://${b.host}/demo/app:v1`), app.manifest);

  // registry -> store without client retries: the copier asks the store what it kept and resumes.
  proxy.log.length = 0;
  proxy.faults.cut = { match, afterBytes: 1_500_000, times: 1 };
  const root = await Deno.makeTempDir({ prefix: "copy-cut-" });
  try {
    const store = await openLocalRegistry(root);
    const once = new RegistryClient({ baseUrl: proxy.url, retries: 0 });
    await copyImage(once, store, { repository: "demo/app", reference: "v1" });
    requests = proxy.log.filter((r) => r.path.includes(match));
    equal(requests.length, 2);
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(requests[1].range ?? "")?.[1]);
    ok(resumedAt > 0, `resumed at ${requests[1].range}`);
    served = proxy.bytesServed(match);
    ok(served < layer.size + chunk, `served ${served} for a ${layer.size}-byte blob`);
    deepStrictEqual((await store.getManifest("demo/app", "v1")).bytes, app.manifest);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
