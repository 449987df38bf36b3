/**
 * The demo's images: a handful of real images (tar+gzip layers, valid configs, one two-platform
 * index, one base layer shared by several images), built in memory and pushed into the central
 * registry with the project's own copier, exactly as any image would travel.
 *
 * @example
 * ```ts
 * import { buildDemoImages, seedRegistry } from "./seed.ts";
 * import { RegistryClient } from "../oci/client.ts";
 * const images = await buildDemoImages();
 * await seedRegistry(new RegistryClient({ baseUrl: "http://127.0.0.1:5000" }), images);
 * ```
 * @module
 */
import { createHash } from "node:crypto";
import { copyImage } from "../oci/copy.ts";
import { isManifestMediaType } from "../oci/media_types.ts";
import type { BlobReader, ImageSource, ImageTarget, ManifestBlob } from "../oci/types.ts";
import { buildImage, buildIndex, type BuiltImage } from "../tests/support/images.ts";

/** One demo image and where it goes in the central registry. */
export interface DemoImage {
  repository: string;
  tag: string;
  image: BuiltImage;
  /** Human description for the demo output. */
  about: string;
}

/**
 * An {@linkcode ImageSource} over built images held in memory (what the copier reads from).
 *
 * @example
 * ```ts
 * declare const images: DemoImage[];
 * const source = new MemoryImageSource(images);
 * await source.getManifest(images[0].repository, images[0].tag);
 * ```
 */
export class MemoryImageSource implements ImageSource {
  readonly #manifests = new Map<string, ManifestBlob>();
  readonly #blobs = new Map<string, Uint8Array>();
  readonly #tags = new Map<string, string>();

  constructor(images: DemoImage[]) {
    for (const { repository, tag, image } of images) {
      this.#manifests.set(image.digest, {
        bytes: image.manifest,
        mediaType: image.mediaType,
        digest: image.digest,
      });
      this.#tags.set(`${repository}:${tag}`, image.digest);
      for (const blob of image.blobs.values()) {
        this.#blobs.set(blob.digest, blob.bytes);
        // Child manifests of an index travel as manifests, not blobs.
        if (isManifestMediaType(blob.mediaType)) {
          this.#manifests.set(blob.digest, {
            bytes: blob.bytes,
            mediaType: blob.mediaType,
            digest: blob.digest,
          });
        }
      }
    }
  }

  getManifest(repository: string, reference: string): Promise<ManifestBlob> {
    const digest = reference.includes(":") ? reference : this.#tags.get(`${repository}:${reference}`);
    const manifest = digest ? this.#manifests.get(digest) : undefined;
    if (!manifest) return Promise.reject(new Error(`${repository}:${reference} is not a demo image`));
    return Promise.resolve(manifest);
  }

  getBlob(_repository: string, digest: string): Promise<BlobReader> {
    const bytes = this.#blobs.get(digest);
    if (!bytes) return Promise.reject(new Error(`${digest} is not a demo blob`));
    return Promise.resolve({ stream: new Blob([bytes as BlobPart]).stream(), offset: 0, size: bytes.length });
  }
}

/**
 * Deterministic bytes that gzip cannot shrink (xorshift32 seeded from sha256 of `seed`), so layer
 * sizes on screen are real transfer sizes and digests are the same on every run.
 *
 * @example
 * ```ts
 * incompressibleBytes("x", 100).length; // 100
 * ```
 */
export function incompressibleBytes(seed: string, size: number): Uint8Array {
  const words = new Uint32Array(Math.ceil(size / 4));
  let x = createHash("sha256").update(seed).digest().readUInt32LE(0) || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return new Uint8Array(words.buffer, 0, size);
}

const payload = (seed: string, size: number) => ({
  files: { [`opt/${seed}/payload.bin`]: incompressibleBytes(seed, size) },
});

/**
 * Builds the demo images (deterministic: the same digests on every run).
 *
 * @example
 * ```ts
 * const images = await buildDemoImages();
 * images.map((i) => `${i.repository}:${i.tag}`);
 * ```
 */
export async function buildDemoImages(): Promise<DemoImage[]> {
  // Identical layer specs give identical blobs: this base layer is shared and travels once.
  const base = { files: { "etc/os-release": 'NAME="Demo Linux"\nVERSION_ID="1"\n' } };
  const webAmd = await buildImage({
    seed: "demo-web-amd64",
    layers: [
      base,
      { files: { "srv/www/index.html": "<h1>served from the edge (amd64)</h1>\n" } },
      payload("web-amd64", 1536 * 1024),
    ],
    platform: { os: "linux", architecture: "amd64" },
  });
  const webArm = await buildImage({
    seed: "demo-web-arm64",
    layers: [
      base,
      { files: { "srv/www/index.html": "<h1>served from the edge (arm64)</h1>\n" } },
      payload("web-arm64", 1536 * 1024),
    ],
    platform: { os: "linux", architecture: "arm64", variant: "v8" },
  });
  const web = buildIndex([
    [webAmd, { os: "linux", architecture: "amd64" }],
    [webArm, { os: "linux", architecture: "arm64", variant: "v8" }],
  ]);
  const api = await buildImage({
    seed: "demo-api",
    layers: [base, payload("api", 3 * 1024 * 1024)],
  });
  const agent = await buildImage({
    seed: "demo-agent",
    layers: [
      base,
      { files: { "usr/bin/agent.sh": "#!/bin/sh\necho collecting\n" } },
      payload("agent", 512 * 1024),
    ],
  });
  return [
    {
      repository: "demo/web",
      tag: "1.0",
      image: web,
      about: "two-platform index (linux/amd64, linux/arm64/v8)",
    },
    { repository: "demo/api", tag: "2.3", image: api, about: "single-platform image" },
    { repository: "demo/agent", tag: "stable", image: agent, about: "single-platform image" },
  ];
}

/** What seeding one image did. */
export interface SeedResult {
  image: DemoImage;
  bytes: number;
  /** Blobs uploaded (or mounted from another repository). */
  blobs: number;
  /** Blobs the registry already had. */
  skipped: number;
}

/**
 * Pushes the images (children first, tags last) into `target`, e.g. a `RegistryClient`.
 *
 * @example
 * ```ts
 * declare const target: ImageTarget;
 * for (const r of await seedRegistry(target, await buildDemoImages())) console.log(r.bytes);
 * ```
 */
export async function seedRegistry(target: ImageTarget, images: DemoImage[]): Promise<SeedResult[]> {
  const source = new MemoryImageSource(images);
  const results: SeedResult[] = [];
  for (const image of images) {
    const summary = await copyImage(source, target, { repository: image.repository, reference: image.tag });
    results.push({
      image,
      bytes: summary.bytesTransferred,
      blobs: summary.blobsCopied + summary.blobsMounted,
      skipped: summary.blobsSkipped,
    });
  }
  return results;
}
