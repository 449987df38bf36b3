/**
 * Builds real test images without a Docker engine: layers are genuine tar (optionally gzip)
 * archives with a matching config (diff_ids), written as an OCI image layout that `skopeo` can
 * push anywhere. Content is deterministic for a given seed, so digests are stable across runs.
 *
 * @example
 * ```ts
 * import { buildImage, writeOciLayout, skopeoCopy } from "./images.ts";
 * const img = await buildImage({ seed: "demo", layers: [{ files: { "hello.txt": "hi" } }] });
 * const dir = await Deno.makeTempDir();
 * await writeOciLayout(dir, { v1: img });
 * await skopeoCopy(`oci:${dir}:v1`, "docker://127.0.0.1:5000/demo/hello:v1");
 * ```
 * @module
 */
import { createHash } from "node:crypto";
import { packTar } from "modern-tar";

/** A blob of a built image. */
export interface BuiltBlob {
  digest: string;
  mediaType: string;
  bytes: Uint8Array;
}

/** A built image manifest or index, with every blob (including child manifests) it needs. */
export interface BuiltImage {
  digest: string;
  mediaType: string;
  manifest: Uint8Array;
  /** All blobs and child manifests, keyed by digest. */
  blobs: Map<string, BuiltBlob>;
  /** Sum of layer sizes (compressed). */
  layerBytes: number;
}

/** A layer: explicit files, or a number of pseudo-random bytes in one file. */
export type LayerSpec = { files: Record<string, string | Uint8Array> } | { randomBytes: number };

/** Options for {@linkcode buildImage}. */
export interface ImageSpec {
  seed: string;
  layers: LayerSpec[];
  platform?: { os: string; architecture: string; variant?: string };
  /** gzip layers (default true); uncompressed layers make large benchmark fixtures quick to build. */
  gzip?: boolean;
  /** Docker v2 schema 2 media types instead of OCI. */
  docker?: boolean;
}

const sha = (bytes: Uint8Array) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

/**
 * Deterministic pseudo-random bytes (sha256 in counter mode) so fixtures have stable digests.
 *
 * @example
 * ```ts
 * seededBytes("x", 10).length; // 10
 * ```
 */
export function seededBytes(seed: string, size: number): Uint8Array {
  const out = new Uint8Array(size);
  const key = createHash("sha256").update(seed).digest();
  let offset = 0;
  for (let counter = 0; offset < size; counter++) {
    // A 1 MiB block per hash keeps building 300 MB fixtures fast while staying incompressible enough.
    const block = createHash("sha512").update(key).update(String(counter)).digest();
    const chunk = Math.min(size - offset, 1024 * 1024);
    for (let i = 0; i < chunk; i += block.length) {
      out.set(block.subarray(0, Math.min(block.length, chunk - i)), offset + i);
    }
    out[offset] ^= counter & 0xff;
    offset += chunk;
  }
  return out;
}

async function gzipBytes(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * Builds one single-platform image.
 *
 * @example
 * ```ts
 * const img = await buildImage({ seed: "a", layers: [{ randomBytes: 1024 }] });
 * ```
 */
export async function buildImage(spec: ImageSpec): Promise<BuiltImage> {
  const gzip = spec.gzip ?? true;
  const platform = spec.platform ?? { os: "linux", architecture: "amd64" };
  const blobs = new Map<string, BuiltBlob>();
  const layerDescs: { mediaType: string; digest: string; size: number }[] = [];
  const diffIds: string[] = [];
  const layerType = spec.docker
    ? "application/vnd.docker.image.rootfs.diff.tar.gzip"
    : gzip
    ? "application/vnd.oci.image.layer.v1.tar+gzip"
    : "application/vnd.oci.image.layer.v1.tar";
  for (const [index, layer] of spec.layers.entries()) {
    const entries = "files" in layer
      ? Object.entries(layer.files).map(([name, body]) => ({
        header: {
          name,
          size: typeof body === "string" ? new TextEncoder().encode(body).length : body.length,
          mtime: new Date(0),
        },
        body,
      }))
      : [{
        header: { name: `data/${spec.seed}-${index}.bin`, size: layer.randomBytes, mtime: new Date(0) },
        body: seededBytes(`${spec.seed}/${index}`, layer.randomBytes),
      }];
    const tar = await packTar(entries);
    diffIds.push(sha(tar));
    const bytes = gzip || spec.docker ? await gzipBytes(tar) : tar;
    const digest = sha(bytes);
    blobs.set(digest, { digest, mediaType: layerType, bytes });
    layerDescs.push({ mediaType: layerType, digest, size: bytes.length });
  }
  const config = json({
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    created: "2024-01-01T00:00:00Z",
    config: { Cmd: ["/bin/sh"], Labels: { "test.seed": spec.seed } },
    rootfs: { type: "layers", diff_ids: diffIds },
    history: diffIds.map(() => ({ created: "2024-01-01T00:00:00Z", created_by: "tests/support/images.ts" })),
  });
  const configType = spec.docker
    ? "application/vnd.docker.container.image.v1+json"
    : "application/vnd.oci.image.config.v1+json";
  const configDigest = sha(config);
  blobs.set(configDigest, { digest: configDigest, mediaType: configType, bytes: config });
  const mediaType = spec.docker
    ? "application/vnd.docker.distribution.manifest.v2+json"
    : "application/vnd.oci.image.manifest.v1+json";
  const manifest = json({
    schemaVersion: 2,
    mediaType,
    config: { mediaType: configType, digest: configDigest, size: config.length },
    layers: layerDescs,
  });
  return {
    digest: sha(manifest),
    mediaType,
    manifest,
    blobs,
    layerBytes: layerDescs.reduce((n, l) => n + l.size, 0),
  };
}

/**
 * Builds a multi-platform index over images (their platforms come from each config).
 *
 * @example
 * ```ts
 * const amd = await buildImage({ seed: "x", layers: [{ randomBytes: 10 }] });
 * const arm = await buildImage({ seed: "y", layers: [{ randomBytes: 10 }], platform: { os: "linux", architecture: "arm64" } });
 * const index = buildIndex([[amd, { os: "linux", architecture: "amd64" }], [arm, { os: "linux", architecture: "arm64" }]]);
 * ```
 */
export function buildIndex(
  images: [BuiltImage, { os: string; architecture: string; variant?: string }][],
  docker = false,
): BuiltImage {
  const blobs = new Map<string, BuiltBlob>();
  for (const [image] of images) {
    for (const [digest, blob] of image.blobs) blobs.set(digest, blob);
    blobs.set(image.digest, { digest: image.digest, mediaType: image.mediaType, bytes: image.manifest });
  }
  const mediaType = docker
    ? "application/vnd.docker.distribution.manifest.list.v2+json"
    : "application/vnd.oci.image.index.v1+json";
  const manifest = json({
    schemaVersion: 2,
    mediaType,
    manifests: images.map(([image, platform]) => ({
      mediaType: image.mediaType,
      digest: image.digest,
      size: image.manifest.length,
      platform,
    })),
  });
  return {
    digest: sha(manifest),
    mediaType,
    manifest,
    blobs,
    layerBytes: images.reduce((n, [i]) => n + i.layerBytes, 0),
  };
}

/**
 * Writes images into an OCI image layout directory, each under its tag (`oci:DIR:TAG` for skopeo).
 *
 * @example
 * ```ts
 * const img = await buildImage({ seed: "a", layers: [{ randomBytes: 8 }] });
 * await writeOciLayout(await Deno.makeTempDir(), { latest: img });
 * ```
 */
export async function writeOciLayout(dir: string, images: Record<string, BuiltImage>): Promise<void> {
  await Deno.mkdir(`${dir}/blobs/sha256`, { recursive: true });
  await Deno.writeTextFile(`${dir}/oci-layout`, JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  const manifests = [];
  for (const [tag, image] of Object.entries(images)) {
    for (const blob of [...image.blobs.values(), { digest: image.digest, bytes: image.manifest }]) {
      const path = `${dir}/blobs/sha256/${blob.digest.slice(7)}`;
      try {
        await Deno.stat(path);
      } catch {
        await Deno.writeFile(path, blob.bytes);
      }
    }
    manifests.push({
      mediaType: image.mediaType,
      digest: image.digest,
      size: image.manifest.length,
      annotations: { "org.opencontainers.image.ref.name": tag },
    });
  }
  await Deno.writeTextFile(`${dir}/index.json`, JSON.stringify({ schemaVersion: 2, manifests }));
}

/**
 * Runs `skopeo copy` (plain HTTP allowed, digests preserved, `--all` for indexes) and throws
 * with skopeo's stderr when it fails.
 *
 * @example
 * ```ts
 * await skopeoCopy("oci:/tmp/layout:v1", "docker://127.0.0.1:5000/a/b:v1", { destCreds: "u:p" });
 * ```
 */
export async function skopeoCopy(
  source: string,
  destination: string,
  options: { srcCreds?: string; destCreds?: string; format?: "oci" | "v2s2"; extraArgs?: string[] } = {},
): Promise<void> {
  const args = [
    "copy",
    "--all",
    "--preserve-digests",
    "--src-tls-verify=false",
    "--dest-tls-verify=false",
    ...(options.srcCreds ? ["--src-creds", options.srcCreds] : []),
    ...(options.destCreds ? ["--dest-creds", options.destCreds] : []),
    ...(options.format ? ["--format", options.format] : []),
    ...(options.extraArgs ?? []),
    source,
    destination,
  ];
  const out = await new Deno.Command("skopeo", { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`skopeo ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/**
 * `skopeo inspect --raw` of an image: the exact manifest bytes the registry serves.
 *
 * @example
 * ```ts
 * const raw = await skopeoInspectRaw("docker://127.0.0.1:5000/a/b:v1");
 * ```
 */
export async function skopeoInspectRaw(reference: string, creds?: string): Promise<Uint8Array> {
  const args = ["inspect", "--raw", "--tls-verify=false", ...(creds ? ["--creds", creds] : []), reference];
  const out = await new Deno.Command("skopeo", { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`skopeo ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return out.stdout;
}

/**
 * Builds images into a temporary OCI layout and pushes each to `registryHost/<repo>:<tag>`.
 *
 * @example
 * ```ts
 * const img = await buildImage({ seed: "a", layers: [{ randomBytes: 8 }] });
 * await pushImages("127.0.0.1:5000", [{ repository: "demo/a", tag: "v1", image: img }]);
 * ```
 */
export async function pushImages(
  registryHost: string,
  images: { repository: string; tag: string; image: BuiltImage }[],
  options: { destCreds?: string } = {},
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "oci-layout-" });
  try {
    const byTag: Record<string, BuiltImage> = {};
    images.forEach((entry, i) => byTag[`t${i}`] = entry.image);
    await writeOciLayout(dir, byTag);
    for (const [i, entry] of images.entries()) {
      await skopeoCopy(
        `oci:${dir}:t${i}`,
        `docker://${registryHost}/${entry.repository}:${entry.tag}`,
        options,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
