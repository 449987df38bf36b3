import { deepStrictEqual, equal, ok, rejects } from "node:assert/strict";
import { buildImage } from "../tests/support/images.ts";
import { RegistryClient } from "./client.ts";
import { sha256Digest } from "./digest.ts";
import { DigestMismatchError } from "./errors.ts";
import { EMPTY_DESCRIPTOR, OCI_MANIFEST } from "./media_types.ts";
import { openLocalRegistry } from "./registry/local.ts";
import { startRegistryServer } from "./registry/server.ts";

const enc = (text: string) => new TextEncoder().encode(text);
const readAll = async (s: ReadableStream<Uint8Array>) => new Uint8Array(await new Response(s).arrayBuffer());

Deno.test("against the built-in registry: referrers API with filter, tag pages, blobs and manifests", async () => {
  const root = await Deno.makeTempDir();
  try {
    await using server = await startRegistryServer({
      registry: await openLocalRegistry(root),
      mode: "writable",
    });
    const client = new RegistryClient({ baseUrl: server.url });
    const image = await buildImage({ seed: "client-unit", layers: [{ randomBytes: 3000 }] });
    for (const blob of image.blobs.values()) await client.putBlobBytes("a/b", blob.bytes);
    const manifest = { bytes: image.manifest, mediaType: image.mediaType, digest: image.digest };
    for (const tag of ["v1", "v2", "v3"]) await client.putManifest("a/b", tag, manifest);
    deepStrictEqual(await client.listTags("a/b", { n: 2 }), ["v1", "v2"]);
    deepStrictEqual(await client.listTags("a/b", { n: 2, last: "v2" }), ["v3"]);
    deepStrictEqual(await client.listTags("a/b"), ["v1", "v2", "v3"]);

    await client.putBlobBytes("a/b", enc("{}"));
    const artifact = enc(JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: "application/vnd.example.sig",
      config: { mediaType: EMPTY_DESCRIPTOR.mediaType, digest: EMPTY_DESCRIPTOR.digest, size: 2 },
      layers: [{ mediaType: EMPTY_DESCRIPTOR.mediaType, digest: EMPTY_DESCRIPTOR.digest, size: 2 }],
      subject: { mediaType: image.mediaType, digest: image.digest, size: image.manifest.byteLength },
    }));
    const digest = sha256Digest(artifact);
    await client.putManifest("a/b", digest, { bytes: artifact, mediaType: OCI_MANIFEST, digest });
    const found = await client.referrers("a/b", image.digest);
    deepStrictEqual(found.manifests.map((m) => [m.digest, m.artifactType]), [[
      digest,
      "application/vnd.example.sig",
    ]]);
    equal((await client.referrers("a/b", image.digest, "application/other")).manifests.length, 0);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

/** A blob server that misbehaves: ignores Range, or stalls once in the middle of the body. */
function blobServer(blob: Uint8Array, mode: "ignore-range" | "stall-once") {
  const ranges: (string | null)[] = [];
  let stalled = false;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const range = req.headers.get("range");
    ranges.push(range);
    const start = mode === "stall-once" && range ? Number(/bytes=(\d+)-/.exec(range)![1]) : 0;
    const body = blob.subarray(start);
    const headers = new Headers({ "content-length": String(body.byteLength) });
    if (start > 0) headers.set("content-range", `bytes ${start}-${blob.byteLength - 1}/${blob.byteLength}`);
    if (mode === "stall-once" && !stalled) {
      stalled = true;
      const half = body.subarray(0, body.byteLength >> 1);
      return new Response(new ReadableStream({ start: (c) => c.enqueue(half) }), { headers }); // then silence
    }
    return new Response(body as BodyInit, { status: start > 0 ? 206 : 200, headers });
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, ranges, server };
}

Deno.test("a server ignoring Range gives offset 0 (restart), and the full verified blob", async () => {
  const blob = enc("x".repeat(10_000));
  const s = blobServer(blob, "ignore-range");
  try {
    const client = new RegistryClient({ baseUrl: s.url });
    const reader = await client.getBlob("a/b", sha256Digest(blob), { offset: 500 });
    deepStrictEqual([reader.offset, reader.size], [0, blob.byteLength]);
    deepStrictEqual(await readAll(reader.stream), blob);
    deepStrictEqual(s.ranges, ["bytes=500-"]);
    const wrong = await client.getBlob("a/b", sha256Digest("other"));
    await rejects(readAll(wrong.stream), DigestMismatchError);
  } finally {
    await s.server.shutdown();
  }
});

Deno.test("a body that stalls mid-blob times out and is resumed with Range, verified end to end", async () => {
  const blob = new Uint8Array(200_000).map((_, i) => i % 251);
  const s = blobServer(blob, "stall-once");
  try {
    const client = new RegistryClient({ baseUrl: s.url, timeoutMs: 200 });
    const reader = await client.getBlob("a/b", sha256Digest(blob));
    deepStrictEqual(await readAll(reader.stream), blob);
    equal(s.ranges.length, 2);
    ok(/^bytes=\d+-$/.test(s.ranges[1] ?? ""), String(s.ranges[1]));
  } finally {
    await s.server.shutdown();
  }
});
