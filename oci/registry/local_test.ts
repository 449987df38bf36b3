import assert from "node:assert/strict";
import { buildImage, buildIndex, type BuiltImage } from "../../tests/support/images.ts";
import { sha256Digest } from "../digest.ts";
import { OciError } from "../errors.ts";
import { EMPTY_DESCRIPTOR, OCI_MANIFEST } from "../media_types.ts";
import { collectGarbage } from "./gc.ts";
import { type LocalRegistry, openLocalRegistry } from "./local.ts";

async function withRegistry(fn: (registry: LocalRegistry, root: string) => Promise<void>) {
  const root = await Deno.makeTempDir({ prefix: "local-registry-" });
  try {
    await fn(await openLocalRegistry(root), root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/** Writes an image's blobs then its manifest, as the sync engine does (children of an index first). */
async function push(registry: LocalRegistry, repo: string, tag: string, image: BuiltImage) {
  const manifests = new Set<string>();
  for (const blob of image.blobs.values()) {
    if (blob.mediaType.includes("manifest")) manifests.add(blob.digest);
    else {
      await registry.putBlob(
        repo,
        { digest: blob.digest, size: blob.bytes.length },
        new Blob([blob.bytes as BlobPart]).stream(),
      );
    }
  }
  for (const digest of manifests) {
    const blob = image.blobs.get(digest)!;
    await registry.putManifest(repo, digest, { bytes: blob.bytes, mediaType: blob.mediaType, digest });
  }
  await registry.putManifest(repo, tag, {
    bytes: image.manifest,
    mediaType: image.mediaType,
    digest: image.digest,
  });
}

const code = (c: string) => (e: unknown) => e instanceof OciError && e.code === c;

Deno.test("LocalRegistry: tags, manifests and indexes survive a reopen", () =>
  withRegistry(async (registry, root) => {
    const amd = await buildImage({ seed: "l1", layers: [{ randomBytes: 1000 }] });
    const arm = await buildImage({
      seed: "l2",
      layers: [{ randomBytes: 1000 }],
      platform: { os: "linux", architecture: "arm64" },
    });
    const index = buildIndex([[amd, { os: "linux", architecture: "amd64" }], [arm, {
      os: "linux",
      architecture: "arm64",
    }]]);
    await push(registry, "edge/multi", "v1", index);
    await push(registry, "edge/single", "latest", amd);
    const reopened = await openLocalRegistry(root);
    assert.deepEqual(await reopened.listRepositories(), ["edge/multi", "edge/single"]);
    assert.deepEqual(await reopened.listTags("edge/multi"), ["v1"]);
    const got = await reopened.getManifest("edge/multi", "v1");
    assert.equal(got.digest, index.digest);
    assert.deepEqual(got.bytes, index.manifest);
    assert.equal((await reopened.getManifest("edge/multi", amd.digest)).digest, amd.digest);
    assert.equal(await reopened.hasManifest("edge/single", amd.digest), true);
    const layout = JSON.parse(await Deno.readTextFile(`${root}/repositories/edge/multi/_index.json`));
    assert.equal(layout.manifests[0].annotations["org.opencontainers.image.ref.name"], "v1");
  }));

Deno.test("LocalRegistry: a manifest with a missing blob is refused and names the digest", () =>
  withRegistry(async (registry) => {
    const image = await buildImage({ seed: "l3", layers: [{ randomBytes: 100 }] });
    await assert.rejects(
      () =>
        registry.putManifest("a/b", "v1", {
          bytes: image.manifest,
          mediaType: image.mediaType,
          digest: image.digest,
        }),
      code("MANIFEST_BLOB_UNKNOWN"),
    );
    assert.deepEqual(await registry.listRepositories(), []);
    await assert.rejects(() => registry.getManifest("a/b", "v1"), code("NAME_UNKNOWN"));
    await assert.rejects(() => registry.getManifest("../etc", "v1"), code("NAME_INVALID"));
  }));

Deno.test("LocalRegistry: referrers by subject with an artifactType filter", () =>
  withRegistry(async (registry) => {
    const image = await buildImage({ seed: "l4", layers: [{ randomBytes: 100 }] });
    await push(registry, "r/x", "v1", image);
    await registry.putBlob("r/x", EMPTY_DESCRIPTOR, new Response("{}").body!);
    const referrer = (artifactType: string, note: string) => {
      const bytes = new TextEncoder().encode(JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        artifactType,
        config: { mediaType: EMPTY_DESCRIPTOR.mediaType, digest: EMPTY_DESCRIPTOR.digest, size: 2 },
        layers: [{ mediaType: EMPTY_DESCRIPTOR.mediaType, digest: EMPTY_DESCRIPTOR.digest, size: 2 }],
        subject: { mediaType: image.mediaType, digest: image.digest, size: image.manifest.length },
        annotations: { note },
      }));
      return { bytes, mediaType: OCI_MANIFEST, digest: sha256Digest(bytes) };
    };
    const sig = referrer("application/example.sig", "s");
    const sbom = referrer("application/example.sbom", "b");
    await registry.putManifest("r/x", sig.digest, sig);
    await registry.putManifest("r/x", sbom.digest, sbom);
    assert.equal(registry.referrers("r/x", image.digest).length, 2);
    const only = registry.referrers("r/x", image.digest, "application/example.sbom");
    assert.deepEqual(only, [{
      mediaType: OCI_MANIFEST,
      digest: sbom.digest,
      size: sbom.bytes.length,
      artifactType: "application/example.sbom",
      annotations: { note: "b" },
    }]);
    assert.deepEqual(registry.referrers("r/y", image.digest), []);
  }));

Deno.test("LocalRegistry: deletes, then GC frees only unreferenced and old blobs", () =>
  withRegistry(async (registry) => {
    const a = await buildImage({ seed: "g1", layers: [{ randomBytes: 500 }, { files: { "x": "shared" } }] });
    const b = await buildImage({ seed: "g2", layers: [{ randomBytes: 700 }, { files: { "x": "shared" } }] });
    await push(registry, "gc/a", "v1", a);
    await push(registry, "gc/b", "v1", b);
    await registry.deleteTag("gc/a", "v1");
    assert.equal(await registry.hasManifest("gc/a", a.digest), true, "a tag delete keeps the manifest");
    await registry.deleteManifest("gc/a", a.digest);
    assert.deepEqual(await registry.listRepositories(), ["gc/b"]);
    const young = await collectGarbage(registry);
    assert.equal(young.deleted.length, 0, "everything is within the grace period");
    const later = () => Date.now() + 3_600_000;
    const report = await collectGarbage(registry, { now: later });
    const onlyA = [...a.blobs.keys(), a.digest].filter((d) => !b.blobs.has(d)).sort();
    assert.deepEqual(report.deleted.sort(), onlyA);
    for (const digest of [...b.blobs.keys(), b.digest]) assert.equal(await registry.store.has(digest), true);
    assert.equal((await registry.getManifest("gc/b", "v1")).digest, b.digest);
    await assert.rejects(() => registry.deleteBlob([...b.blobs.keys()][0]), code("DENIED"));
  }));

Deno.test("LocalRegistry: a manifest pushed during GC keeps the old blobs it references", () =>
  withRegistry(async (registry) => {
    const image = await buildImage({ seed: "g3", layers: [{ randomBytes: 300 }] });
    for (const blob of image.blobs.values()) await registry.store.putBytes(blob.bytes);
    let pushed: Promise<void> | undefined;
    const report = await registry.withGarbageCollection(async (deleteIfUnreferenced) => {
      pushed = registry.putManifest("gc/c", "v1", {
        bytes: image.manifest,
        mediaType: image.mediaType,
        digest: image.digest,
      });
      await pushed;
      const results = [];
      for await (const d of registry.store.list()) results.push(await deleteIfUnreferenced(d));
      return results;
    });
    assert.deepEqual(report.filter(Boolean), []);
    assert.equal((await registry.getManifest("gc/c", "v1")).digest, image.digest);
  }));
