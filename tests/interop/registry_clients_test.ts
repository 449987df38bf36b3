/**
 * Real clients against the built-in registry: skopeo copies in and out (OCI and Docker v2s2 manifests,
 * multi-arch indexes with --all) and containerd pulls with unpack, directly and as the mirror of an
 * upstream host that does not exist (containerd then adds `?ns=<upstream>` to every request).
 */
import assert from "node:assert/strict";
import { type LocalRegistry, openLocalRegistry } from "../../oci/registry/local.ts";
import { startRegistryServer } from "../../oci/registry/server.ts";
import { startContainerd } from "../support/containerd.ts";
import {
  buildImage,
  buildIndex,
  type BuiltImage,
  skopeoCopy,
  skopeoInspectRaw,
  writeOciLayout,
} from "../support/images.ts";

const decode = (b: Uint8Array) => new TextDecoder().decode(b);

async function fixtures(docker: boolean) {
  const seed = docker ? "clients-docker" : "clients-oci";
  const amd = await buildImage({
    seed: `${seed}-amd`,
    docker,
    layers: [{ files: { "etc/motd": "hello\n" } }, { randomBytes: 200_000 }],
  });
  const arm = await buildImage({
    seed: `${seed}-arm`,
    docker,
    layers: [{ randomBytes: 100_000 }],
    platform: { os: "linux", architecture: "arm64" },
  });
  const index = buildIndex([[amd, { os: "linux", architecture: "amd64" }], [arm, {
    os: "linux",
    architecture: "arm64",
  }]], docker);
  return { amd, index };
}

async function withServer(
  fn: (host: string, requests: URL[], registry: LocalRegistry) => Promise<void>,
) {
  const root = await Deno.makeTempDir({ prefix: "registry-clients-" });
  const requests: URL[] = [];
  const registry = await openLocalRegistry(root);
  const server = await startRegistryServer({
    registry,
    mode: "writable",
    observe: (req) => requests.push(new URL(req.url)),
  });
  try {
    await fn(server.url.slice("http://".length), requests, registry);
  } finally {
    await server.close();
    await Deno.remove(root, { recursive: true });
  }
}

async function roundTrip(host: string, images: Record<string, BuiltImage>, format: "oci" | "v2s2") {
  const src = await Deno.makeTempDir({ prefix: "layout-in-" });
  const out = await Deno.makeTempDir({ prefix: "layout-out-" });
  try {
    await writeOciLayout(src, images);
    for (const [tag, image] of Object.entries(images)) {
      const ref = `docker://${host}/clients/${format}/app:${tag}`;
      await skopeoCopy(`oci:${src}:${tag}`, ref, { format });
      assert.equal(
        decode(await skopeoInspectRaw(ref)),
        decode(image.manifest),
        `${tag} came back byte-identical`,
      );
      await skopeoCopy(ref, `oci:${out}:${tag}`);
      for (const digest of image.blobs.keys()) {
        const bytes = await Deno.readFile(`${out}/blobs/sha256/${digest.slice(7)}`);
        assert.equal(bytes.length, image.blobs.get(digest)!.bytes.length);
      }
    }
  } finally {
    await Deno.remove(src, { recursive: true });
    await Deno.remove(out, { recursive: true });
  }
}

Deno.test("skopeo copies OCI images and indexes in and out of the built-in registry", () =>
  withServer(async (host) => {
    const { amd, index } = await fixtures(false);
    await roundTrip(host, { single: amd, multi: index }, "oci");
  }));

/** Writes an image straight into the registry (as the satellite's sync engine does): blobs, children, then the tag. */
async function seed(registry: LocalRegistry, repo: string, tag: string, image: BuiltImage) {
  const children = [...image.blobs.values()].filter((b) => b.mediaType.includes("manifest"));
  for (const blob of image.blobs.values()) {
    if (children.includes(blob)) continue;
    await registry.putBlob(
      repo,
      { digest: blob.digest, size: blob.bytes.length },
      new Blob([blob.bytes as BlobPart]).stream(),
    );
  }
  for (const child of children) {
    await registry.putManifest(repo, child.digest, { ...child, bytes: child.bytes });
  }
  await registry.putManifest(repo, tag, {
    bytes: image.manifest,
    mediaType: image.mediaType,
    digest: image.digest,
  });
}

Deno.test("skopeo copies Docker v2s2 images and manifest lists in and out of the built-in registry", () =>
  withServer(async (host, _requests, registry) => {
    // skopeo's oci: transport only reads OCI types, so the Docker fixtures enter through the Go-less path
    // (the registry API) and skopeo then pushes them (--format v2s2) and pulls them over HTTP.
    const { amd, index } = await fixtures(true);
    const out = await Deno.makeTempDir({ prefix: "dir-out-" });
    try {
      for (const [tag, image] of Object.entries({ single: amd, multi: index })) {
        await seed(registry, "clients/seed", tag, image);
        const ref = `docker://${host}/clients/v2s2/app:${tag}`;
        await skopeoCopy(`docker://${host}/clients/seed:${tag}`, ref, { format: "v2s2" });
        const raw = await skopeoInspectRaw(ref);
        assert.equal(decode(raw), decode(image.manifest), `${tag} came back byte-identical`);
        assert.equal(JSON.parse(decode(raw)).mediaType, image.mediaType);
        await skopeoCopy(ref, `dir:${out}/${tag}`);
        for (const [digest, blob] of image.blobs) {
          if (blob.mediaType.includes("manifest")) continue;
          assert.deepEqual(await Deno.readFile(`${out}/${tag}/${digest.slice(7)}`), blob.bytes);
        }
      }
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  }));

Deno.test("containerd pulls and unpacks from the built-in registry, directly and as a mirror (?ns=)", () =>
  withServer(async (host, requests) => {
    const { amd, index } = await fixtures(false);
    const src = await Deno.makeTempDir({ prefix: "layout-ctr-" });
    const hostsDir = await Deno.makeTempDir({ prefix: "hosts-d-" });
    await using containerd = await startContainerd();
    try {
      await writeOciLayout(src, { single: amd, multi: index });
      await skopeoCopy(`oci:${src}:single`, `docker://${host}/library/app:1.0`);
      await skopeoCopy(`oci:${src}:multi`, `docker://${host}/library/multi:1.0`);

      // Mirror first, so containerd's content store is empty and every blob is fetched through it.
      await Deno.mkdir(`${hostsDir}/upstream.invalid`);
      await Deno.writeTextFile(
        `${hostsDir}/upstream.invalid/hosts.toml`,
        `server = "https://upstream.invalid"\n\n[host."http://${host}"]\n  capabilities = ["pull", "resolve"]\n`,
      );
      requests.length = 0; // only the mirrored pull's requests
      await containerd.ctr(["images", "pull", "--hosts-dir", hostsDir, "upstream.invalid/library/app:1.0"]);
      const mirrored = requests.filter((u) => u.pathname.startsWith("/v2/library/app/"));
      assert.ok(mirrored.length >= 4, "manifest, config and both layers came from the mirror");
      assert.ok(
        mirrored.every((u) => u.searchParams.get("ns") === "upstream.invalid"),
        "containerd sent ?ns=",
      );
      assert.match(await containerd.ctr(["images", "ls", "-q"]), /upstream\.invalid\/library\/app:1\.0/);
      await containerd.ctr(["images", "pull", "--plain-http", `${host}/library/app:1.0`]);
      await containerd.ctr([
        "images",
        "pull",
        "--plain-http",
        "--platform",
        "linux/amd64",
        `${host}/library/multi:1.0`,
      ]);
      const list = await containerd.ctr(["images", "ls"]);
      assert.match(
        list,
        new RegExp(
          `${host}/library/app:1.0\\s+application/vnd.oci.image.manifest.v1\\+json\\s+${amd.digest}`,
        ),
      );
      assert.match(
        list,
        new RegExp(
          `${host}/library/multi:1.0\\s+application/vnd.oci.image.index.v1\\+json\\s+${index.digest}`,
        ),
      );
      // Unpacked: the snapshot exists (ctr reports unpack errors as a failed pull, but check anyway).
      assert.match(await containerd.ctr(["snapshots", "--snapshotter", "native", "ls"]), /Committed/);
    } finally {
      await Deno.remove(src, { recursive: true });
      await Deno.remove(hostsDir, { recursive: true });
    }
  }));
