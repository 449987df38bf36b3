import { deepStrictEqual, equal, ok, rejects } from "node:assert/strict";
import { buildImage, buildIndex, type BuiltImage } from "../tests/support/images.ts";
import { BlobFlights, copyImage, type CopyProgress } from "./copy.ts";
import { InvalidInputError } from "./errors.ts";
import { parseManifest } from "./manifest.ts";
import { type LocalRegistry, openLocalRegistry } from "./registry/local.ts";
import type { BlobReader, BlobReadOptions, ImageSource, ManifestBlob } from "./types.ts";

/** Stores `image` (children first) in `registry` under `repository:tag`. */
async function store(
  registry: LocalRegistry,
  repository: string,
  tag: string,
  image: BuiltImage,
): Promise<void> {
  const manifests: ManifestBlob[] = [];
  for (const blob of image.blobs.values()) {
    const parsed = (() => {
      try {
        return parseManifest(blob.bytes);
      } catch {
        return undefined;
      }
    })();
    if (parsed) manifests.push(parsed);
    else {
      await registry.putBlob(
        repository,
        { digest: blob.digest, size: blob.bytes.byteLength },
        new Blob([blob.bytes as BlobPart]).stream(),
      );
    }
  }
  for (const m of manifests) await registry.putManifest(repository, m.digest, m);
  await registry.putManifest(repository, tag, {
    bytes: image.manifest,
    mediaType: image.mediaType,
    digest: image.digest,
  });
}

/** A real source that counts blob reads per digest. */
function counting(source: ImageSource): ImageSource & { reads: Map<string, number> } {
  const reads = new Map<string, number>();
  return {
    reads,
    getManifest: (r: string, ref: string, s?: AbortSignal) => source.getManifest(r, ref, s),
    getBlob: (r: string, d: string, o?: BlobReadOptions): Promise<BlobReader> => {
      reads.set(d, (reads.get(d) ?? 0) + 1);
      return source.getBlob(r, d, o);
    },
  };
}

async function withRegistries(fn: (source: LocalRegistry, target: LocalRegistry) => Promise<void>) {
  const roots = [await Deno.makeTempDir(), await Deno.makeTempDir()];
  try {
    await fn(await openLocalRegistry(roots[0]), await openLocalRegistry(roots[1]));
  } finally {
    for (const root of roots) await Deno.remove(root, { recursive: true });
  }
}

const shared = { files: { "base/lib": new Uint8Array(50_000).fill(1) } };

Deno.test("copies an index with its children: same bytes, children first, tags last, re-copy skips", async () => {
  await withRegistries(async (sourceRegistry, target) => {
    const amd = await buildImage({ seed: "u-amd", layers: [shared, { randomBytes: 1000 }] });
    const arm = await buildImage({
      seed: "u-arm",
      layers: [shared],
      platform: { os: "linux", architecture: "arm64" },
    });
    const index = buildIndex([[amd, { os: "linux", architecture: "amd64" }], [arm, {
      os: "linux",
      architecture: "arm64",
    }]]);
    await store(sourceRegistry, "lib/app", "v1", index);
    const source = counting(sourceRegistry);
    const events: CopyProgress[] = [];
    const summary = await copyImage(source, target, {
      repository: "lib/app",
      reference: "v1",
      targetRepository: "mirror/app",
      onProgress: (e) => events.push(e),
    });
    equal(summary.digest, index.digest);
    equal(summary.manifestsCopied, 3);
    equal(summary.tagsSet, 1);
    equal(summary.blobsCopied, 4, "2 configs + 2 distinct layers");
    ok(summary.blobsSkipped >= 1, "the shared layer is fetched once");
    equal(source.reads.size, 4);
    ok([...source.reads.values()].every((n) => n === 1));
    deepStrictEqual((await target.getManifest("mirror/app", "v1")).bytes, index.manifest);
    const order = events.filter((e) => e.type !== "bytes" && e.type !== "blob").map((e) =>
      "digest" in e && e.type === "manifest" ? e.digest : e.type
    );
    deepStrictEqual(order.slice(-2), [index.digest, "tag"], "the index after its children, the tag last");

    source.reads.clear();
    const again = await copyImage(source, target, {
      repository: "lib/app",
      reference: "v1",
      targetRepository: "mirror/app",
    });
    deepStrictEqual([again.bytesTransferred, again.blobsCopied, again.manifestsCopied, source.reads.size], [
      0,
      0,
      0,
      0,
    ]);
  });
});

Deno.test("concurrent copies sharing BlobFlights fetch a shared blob once", async () => {
  await withRegistries(async (sourceRegistry, target) => {
    const one = await buildImage({ seed: "u-one", layers: [shared, { randomBytes: 10 }] });
    const two = await buildImage({ seed: "u-two", layers: [shared, { randomBytes: 20 }] });
    await store(sourceRegistry, "a/one", "v1", one);
    await store(sourceRegistry, "a/two", "v1", two);
    const source = counting(sourceRegistry);
    const flights = new BlobFlights();
    await Promise.all([
      copyImage(source, target, { repository: "a/one", reference: one.digest, flights }),
      copyImage(source, target, { repository: "a/two", reference: two.digest, tags: ["latest"], flights }),
    ]);
    const sharedDigest = JSON.parse(new TextDecoder().decode(one.manifest)).layers[0].digest;
    equal(source.reads.get(sharedDigest), 1);
    deepStrictEqual(await target.listTags("a/two"), ["latest"]);
    deepStrictEqual(await target.listTags("a/one"), [], "no tag when copied by digest without tags");
  });
});

Deno.test("bad input and an aborted signal stop the copy before anything is written", async () => {
  await withRegistries(async (source, target) => {
    const image = await buildImage({ seed: "u-x", layers: [{ randomBytes: 10 }] });
    await store(source, "a/x", "v1", image);
    await rejects(copyImage(source, target, { repository: "A/X", reference: "v1" }), InvalidInputError);
    await rejects(
      copyImage(source, target, { repository: "a/x", reference: "v1", targetRepository: "../x" }),
      (e) => e instanceof InvalidInputError && e.field === "targetRepository",
    );
    await rejects(
      copyImage(source, target, { repository: "a/x", reference: "v1", tags: ["-bad"] }),
      InvalidInputError,
    );
    const controller = new AbortController();
    controller.abort(new Error("cancelled"));
    await rejects(
      copyImage(source, target, { repository: "a/x", reference: "v1", signal: controller.signal }),
      /cancelled/,
    );
    deepStrictEqual(await target.listRepositories(), []);
  });
});
