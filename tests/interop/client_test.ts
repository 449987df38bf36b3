/**
 * The registry client against a real docker-registry (distribution 2.8): anonymous, htpasswd
 * basic auth, and a bearer-token flow (a local token server plus an enforcing proxy); uploads in
 * every mode; deletes; referrers via the tag-schema fallback; and bad input from outside.
 */
import { deepStrictEqual, equal, ok, rejects } from "node:assert/strict";
import { RegistryClient } from "../../oci/client.ts";
import { sha256Digest } from "../../oci/digest.ts";
import {
  DigestMismatchError,
  InvalidInputError,
  ManifestInvalidError,
  ManifestTooLargeError,
  OciError,
} from "../../oci/errors.ts";
import { EMPTY_DESCRIPTOR, OCI_INDEX, OCI_MANIFEST } from "../../oci/media_types.ts";
import { startDistribution } from "../support/distribution.ts";
import { buildImage, buildIndex, type BuiltImage, pushImages, seededBytes } from "../support/images.ts";
import { startProxy } from "../support/proxy.ts";

const amd64 = { os: "linux", architecture: "amd64" };
const arm64 = { os: "linux", architecture: "arm64" };

async function fixtures() {
  const app = await buildImage({
    seed: "client-app",
    layers: [{ files: { "etc/app": "v1" } }, { randomBytes: 300_000 }],
  });
  const docker = await buildImage({ seed: "client-docker", layers: [{ randomBytes: 1000 }], docker: true });
  const armImage = await buildImage({ seed: "client-arm", layers: [{ randomBytes: 2000 }], platform: arm64 });
  const multi = buildIndex([[app, amd64], [armImage, arm64]]);
  return { app, docker, armImage, multi };
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const streamOf = (bytes: Uint8Array) => new Blob([bytes as BlobPart]).stream();
const readAll = async (stream: ReadableStream<Uint8Array>) =>
  new Uint8Array(await new Response(stream).arrayBuffer());
const firstLayer = (image: BuiltImage) => {
  const manifest = JSON.parse(text(image.manifest));
  return image.blobs.get(manifest.layers[manifest.layers.length - 1].digest)!;
};

for (const auth of [undefined, { username: "alice", password: "s3cret-pw" }]) {
  const mode = auth ? "htpasswd basic auth" : "anonymous";
  Deno.test(`client reads, writes and deletes on a real distribution (${mode})`, async (t) => {
    await using reg = await startDistribution({ auth });
    const { app, docker, multi } = await fixtures();
    const creds = auth ? { destCreds: `${auth.username}:${auth.password}` } : {};
    await pushImages(reg.host, [
      { repository: "demo/app", tag: "v1", image: app },
      { repository: "demo/multi", tag: "v1", image: multi },
      ...["t1", "t2", "t3", "t4", "t5"].map((tag) => ({ repository: "demo/app", tag, image: app })),
    ], creds);
    const client = new RegistryClient({
      baseUrl: reg.url,
      credentials: auth,
      chunkedAbove: 64 * 1024,
      chunkSize: 48 * 1024,
    });
    await client.ping();
    equal(client.host, reg.host);
    // skopeo's OCI layout transport will not carry Docker media types: push that one with the client.
    for (const blob of docker.blobs.values()) await client.putBlobBytes("demo/docker", blob.bytes);
    await client.putManifest("demo/docker", "v1", {
      bytes: docker.manifest,
      mediaType: docker.mediaType,
      digest: docker.digest,
    });

    await t.step("manifests by tag and digest, byte-identical, any media type", async () => {
      for (
        const [repo, image] of [["demo/app", app], ["demo/docker", docker], ["demo/multi", multi]] as const
      ) {
        const byTag = await client.getManifest(repo, "v1");
        deepStrictEqual(byTag.bytes, image.manifest);
        equal(byTag.digest, image.digest);
        equal(byTag.mediaType, image.mediaType);
        const byDigest = await client.getManifest(repo, image.digest);
        deepStrictEqual(byDigest.bytes, image.manifest);
        deepStrictEqual(await client.headManifest(repo, "v1"), {
          digest: image.digest,
          mediaType: image.mediaType,
          size: image.manifest.byteLength,
        });
        ok(await client.hasManifest(repo, image.digest));
      }
      const index = await client.getManifest("demo/multi", "v1");
      ok(index.isIndex);
      deepStrictEqual(index.children.map((c) => c.platform?.architecture), ["amd64", "arm64"]);
      equal(await client.headManifest("demo/app", "nope"), null);
      await rejects(
        client.getManifest("demo/app", "nope"),
        (e) => e instanceof OciError && e.code === "MANIFEST_UNKNOWN",
      );
    });

    await t.step("blobs: verified full reads, ranged reads, sizes", async () => {
      const layer = firstLayer(app);
      const full = await client.getBlob("demo/app", layer.digest);
      equal(full.offset, 0);
      equal(full.size, layer.bytes.byteLength);
      deepStrictEqual(await readAll(full.stream), layer.bytes);
      const rest = await client.getBlob("demo/app", layer.digest, { offset: 1000 });
      equal(rest.offset, 1000);
      equal(rest.size, layer.bytes.byteLength);
      deepStrictEqual(await readAll(rest.stream), layer.bytes.subarray(1000));
      equal(await client.headBlob("demo/app", layer.digest), layer.bytes.byteLength);
      ok(await client.hasBlob("demo/app", layer.digest));
      ok(!await client.hasBlob("demo/app", sha256Digest("absent")));
      await rejects(
        client.getBlob("demo/app", sha256Digest("absent")),
        (e) => e instanceof OciError && e.code === "BLOB_UNKNOWN" && e.status === 404,
      );
    });

    await t.step("tags and catalog follow Link pagination", async () => {
      deepStrictEqual((await client.listTags("demo/app")).sort(), ["t1", "t2", "t3", "t4", "t5", "v1"]);
      deepStrictEqual(await client.listTags("demo/app", { n: 2 }), ["t1", "t2"]);
      deepStrictEqual(await client.listTags("demo/app", { n: 2, last: "t2" }), ["t3", "t4"]);
      deepStrictEqual(await client.listTags("demo/absent"), []);
      deepStrictEqual(await client.catalog({ pageSize: 1 }), ["demo/app", "demo/docker", "demo/multi"]);
      deepStrictEqual(await client.catalog(), ["demo/app", "demo/docker", "demo/multi"]);
    });

    await t.step("uploads: monolithic, chunked (known and unknown size), cross-repo mount", async () => {
      const small = seededBytes("small", 10_000);
      const large = seededBytes("large", 200_000);
      const unknown = seededBytes("unknown", 130_000);
      const before = { ...client.uploads };
      equal(await client.putBlobBytes("up/a", small), sha256Digest(small));
      await client.putBlob(
        "up/a",
        { digest: sha256Digest(large), size: large.byteLength },
        streamOf(large),
      );
      await client.putBlob("up/a", { digest: sha256Digest(unknown), size: -1 }, streamOf(unknown));
      deepStrictEqual(client.uploads, {
        mounted: 0,
        monolithic: before.monolithic + 1,
        chunked: before.chunked + 2,
      });
      for (const bytes of [small, large, unknown]) {
        deepStrictEqual(await readAll((await client.getBlob("up/a", sha256Digest(bytes))).stream), bytes);
      }
      await client.putBlob(
        "up/b",
        { digest: sha256Digest(large), size: large.byteLength },
        streamOf(large),
        {
          mountFrom: "up/a",
        },
      );
      equal(client.uploads.mounted, 1);
      equal(await client.headBlob("up/b", sha256Digest(large)), large.byteLength);
      // A stream that does not match its digest is refused by the registry and not kept.
      await rejects(
        client.putBlob(
          "up/a",
          { digest: sha256Digest("other"), size: small.byteLength },
          streamOf(small),
        ),
        (e) => e instanceof OciError && e.code === "DIGEST_INVALID",
      );
      ok(!await client.hasBlob("up/a", sha256Digest("other")));
    });

    await t.step("putManifest, deleteTag (unsupported on 2.8), deleteManifest", async () => {
      const manifest = await client.getManifest("demo/app", "v1");
      await rejects(
        client.putManifest("demo/copy", "c1", manifest),
        (e) => e instanceof OciError && e.code === "MANIFEST_BLOB_UNKNOWN",
      );
      const mountedBefore = client.uploads.mounted;
      for (const child of manifest.children) {
        await client.putBlob("demo/copy", child, streamOf(new Uint8Array()), { mountFrom: "demo/app" });
      }
      equal(client.uploads.mounted, mountedBefore + manifest.children.length);
      await client.putManifest("demo/copy", "c1", manifest);
      await rejects(
        client.putManifest("demo/copy", "c2", { ...manifest, digest: sha256Digest("x") }),
        DigestMismatchError,
      );
      deepStrictEqual(await client.listTags("demo/copy"), ["c1"]);
      await rejects(client.deleteTag("demo/copy", "c1"), (e) => {
        ok(e instanceof OciError && e.code === "UNSUPPORTED", String(e));
        ok(/cannot delete tag "c1"/.test(e.message));
        return true;
      });
      await client.deleteManifest("demo/copy", manifest.digest);
      equal(await client.headManifest("demo/copy", manifest.digest), null);
      deepStrictEqual(await client.listTags("demo/copy"), []);
      await client.deleteManifest("demo/copy", manifest.digest); // idempotent
    });

    await t.step("referrers fall back to the sha256-<hex> tag on distribution 2.8", async () => {
      const layer = new TextEncoder().encode('{"sbom":true}');
      const layerDigest = await client.putBlobBytes("demo/app", layer);
      await client.putBlobBytes("demo/app", new TextEncoder().encode("{}"));
      const artifact = new TextEncoder().encode(JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        artifactType: "application/vnd.example.sbom+json",
        config: { mediaType: EMPTY_DESCRIPTOR.mediaType, digest: EMPTY_DESCRIPTOR.digest, size: 2 },
        layers: [{ mediaType: "application/json", digest: layerDigest, size: layer.byteLength }],
        subject: { mediaType: app.mediaType, digest: app.digest, size: app.manifest.byteLength },
      }));
      const artifactDigest = sha256Digest(artifact);
      await client.putManifest("demo/app", artifactDigest, {
        bytes: artifact,
        mediaType: OCI_MANIFEST,
        digest: artifactDigest,
      });
      const descriptor = {
        mediaType: OCI_MANIFEST,
        digest: artifactDigest,
        size: artifact.byteLength,
        artifactType: "application/vnd.example.sbom+json",
      };
      const fallback = new TextEncoder().encode(
        JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [descriptor] }),
      );
      await client.putManifest("demo/app", app.digest.replace(":", "-"), {
        bytes: fallback,
        mediaType: OCI_INDEX,
        digest: sha256Digest(fallback),
      });
      deepStrictEqual((await client.referrers("demo/app", app.digest)).manifests, [descriptor]);
      deepStrictEqual(
        (await client.referrers("demo/app", app.digest, "application/vnd.example.sbom+json")).manifests,
        [descriptor],
      );
      deepStrictEqual((await client.referrers("demo/app", app.digest, "application/other")).manifests, []);
      deepStrictEqual((await client.referrers("demo/app", docker.digest)).manifests, []);
    });

    if (auth) {
      await t.step("wrong or missing credentials give a clear UNAUTHORIZED error", async () => {
        for (const credentials of [undefined, { username: "alice", password: "wrong" }]) {
          const other = new RegistryClient({ baseUrl: reg.url, credentials, retries: 0 });
          await rejects(other.getManifest("demo/app", "v1"), (e) => {
            ok(e instanceof OciError && e.code === "UNAUTHORIZED" && e.status === 401, String(e));
            ok(/credentials missing or rejected/.test(e.message), e.message);
            return true;
          });
        }
      });
    }
  });
}

Deno.test("bad input is refused before any request, bad registry answers become typed errors", async () => {
  await using reg = await startDistribution();
  const { app } = await fixtures();
  await pushImages(reg.host, [{ repository: "demo/app", tag: "v1", image: app }]);
  const huge = new Uint8Array(5 * 1024 * 1024).fill(0x20);
  await using proxy = await startProxy(reg.url, {
    intercept: (req) => {
      const path = new URL(req.url).pathname;
      if (path.endsWith("/manifests/garbage")) {
        return new Response('{"schemaVersion": 2, "layers": [', {
          headers: { "content-type": OCI_MANIFEST },
        });
      }
      if (path.endsWith("/manifests/huge")) {
        return new Response(huge, { headers: { "content-type": OCI_MANIFEST } });
      }
      if (path.endsWith("/manifests/chunked-huge")) {
        return new Response(streamOf(huge), { headers: { "content-type": OCI_MANIFEST } });
      }
      if (path.endsWith("/manifests/html")) return new Response("<html>Bad Gateway</html>", { status: 502 });
      return undefined;
    },
  });
  const client = new RegistryClient({ baseUrl: proxy.url, retries: 0 });

  for (const repo of ["Demo/App", "demo//app", "../etc", "a".repeat(256)]) {
    await rejects(
      client.getManifest(repo, "v1"),
      (e) => e instanceof InvalidInputError && e.field === "repository",
    );
  }
  await rejects(
    client.getBlob("demo/app", "sha256:abc"),
    (e) => e instanceof InvalidInputError && e.field === "digest",
  );
  await rejects(
    client.getManifest("demo/app", "bad tag"),
    (e) => e instanceof InvalidInputError && e.field === "reference",
  );
  await rejects(
    client.putBlob("demo/app", { digest: app.digest, size: 1 }, new Blob([]).stream(), { mountFrom: "UP" }),
    (e) => e instanceof InvalidInputError && e.field === "mountFrom",
  );
  await rejects(
    client.putManifest("demo/app", "big", {
      bytes: huge,
      mediaType: OCI_MANIFEST,
      digest: sha256Digest(huge),
    }),
    ManifestTooLargeError,
  );
  equal(proxy.log.length, 0, "no request may leave for invalid input");

  await rejects(client.getManifest("demo/app", "garbage"), (e) => {
    ok(e instanceof ManifestInvalidError && /not valid JSON/.test(e.message), String(e));
    return true;
  });
  await rejects(client.getManifest("demo/app", "huge"), ManifestTooLargeError);
  await rejects(client.getManifest("demo/app", "chunked-huge"), ManifestTooLargeError);
  await rejects(client.getManifest("demo/app", "html"), (e) => {
    ok(e instanceof OciError && e.status === 502, String(e));
    ok(
      e.message.includes(`${proxy.url}/v2/demo/app/manifests/html`) && e.message.includes("Bad Gateway"),
      e.message,
    );
    return true;
  });
  proxy.faults.corrupt = { match: `/manifests/${app.digest}`, at: 10 };
  await rejects(client.getManifest("demo/app", app.digest), DigestMismatchError);
  proxy.faults.corrupt = { match: "/manifests/v1", at: 10 };
  await rejects(client.getManifest("demo/app", "v1"), DigestMismatchError);
  const layer = firstLayer(app);
  proxy.faults.corrupt = { match: `/blobs/${layer.digest}`, at: layer.bytes.byteLength >> 1 };
  const corrupted = await client.getBlob("demo/app", layer.digest);
  await rejects(readAll(corrupted.stream), DigestMismatchError);
});

Deno.test("transient failures are retried: 503 and 429 with Retry-After, idempotent calls only", async () => {
  await using reg = await startDistribution();
  const { app } = await fixtures();
  await pushImages(reg.host, [{ repository: "demo/app", tag: "v1", image: app }]);
  let failures = 0;
  let posts = 0;
  await using proxy = await startProxy(reg.url, {
    intercept: (req) => {
      if (req.method === "POST") {
        posts++;
        return new Response("boom", { status: 500 });
      }
      if (failures-- > 0) {
        return failures % 2 ? new Response("busy", { status: 503 }) : new Response("slow down", {
          status: 429,
          headers: { "retry-after": "0" },
        });
      }
      return undefined;
    },
  });
  const client = new RegistryClient({ baseUrl: proxy.url, retries: 3 });
  failures = 3;
  deepStrictEqual((await client.getManifest("demo/app", "v1")).bytes, app.manifest);
  equal(proxy.log.length, 4);
  failures = 4;
  await rejects(client.getManifest("demo/app", "v1"), (e) => e instanceof OciError && e.status === 429);
  equal(proxy.log.length, 8, "one try and three retries");
  failures = 0;
  await rejects(
    client.putBlobBytes("demo/app", new Uint8Array([1, 2, 3])),
    (e) => e instanceof OciError && e.status === 500,
  );
  equal(posts, 1, "a POST that failed with 500 is not repeated");
});

Deno.test("bearer tokens: fetched per scope, cached, refreshed once on 401", async () => {
  await using reg = await startDistribution();
  const { app } = await fixtures();
  await pushImages(reg.host, [{ repository: "demo/app", tag: "v1", image: app }]);
  const valid = new Map<string, string>(); // token -> scope string
  const tokenRequests: URLSearchParams[] = [];
  const tokenServer = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const params = new URL(req.url).searchParams;
    tokenRequests.push(params);
    if (req.headers.get("authorization") !== `Basic ${btoa("bob:pw")}`) {
      return new Response("no", { status: 401 });
    }
    const token = crypto.randomUUID();
    valid.set(token, params.getAll("scope").join(" "));
    // Alternate the two field names registries use.
    const body = tokenRequests.length % 2
      ? { token, expires_in: 300 }
      : { access_token: token, expires_in: 300 };
    return Response.json(body);
  });
  const realm = `http://127.0.0.1:${tokenServer.addr.port}/token`;
  let unauthorized = 0;
  await using proxy = await startProxy(reg.url, {
    intercept: (req) => {
      const path = new URL(req.url).pathname;
      const repo = /^\/v2\/(.+?)\/(manifests|blobs|tags)\//.exec(path)?.[1];
      const scope = repo ? `repository:${repo}:pull` : "";
      const token = req.headers.get("authorization")?.replace(/^Bearer /, "") ?? "";
      if (valid.get(token)?.includes(scope)) return undefined;
      unauthorized++;
      return Response.json({ errors: [{ code: "UNAUTHORIZED", message: "token required" }] }, {
        status: 401,
        headers: { "www-authenticate": `Bearer realm="${realm}",service="test-registry",scope="${scope}"` },
      });
    },
  });
  try {
    const client = new RegistryClient({
      baseUrl: proxy.url,
      credentials: { username: "bob", password: "pw" },
    });
    deepStrictEqual((await client.getManifest("demo/app", "v1")).bytes, app.manifest);
    equal(client.http.auth.tokenRequests, 1);
    equal(tokenRequests[0].get("service"), "test-registry");
    deepStrictEqual(tokenRequests[0].getAll("scope"), ["repository:demo/app:pull"]);
    // Cached: more calls on the same scope need no new token and meet no 401.
    await client.headManifest("demo/app", "v1");
    await client.listTags("demo/app");
    await readAll((await client.getBlob("demo/app", firstLayer(app).digest)).stream);
    equal(client.http.auth.tokenRequests, 1);
    equal(unauthorized, 1);
    // Revoked server-side: one 401, one new token, and the call still succeeds.
    valid.clear();
    deepStrictEqual((await client.getManifest("demo/app", app.digest)).bytes, app.manifest);
    equal(client.http.auth.tokenRequests, 2);
    equal(unauthorized, 2);
    // Bad credentials at the token server: a clear error naming it.
    const wrong = new RegistryClient({
      baseUrl: proxy.url,
      credentials: { username: "bob", password: "no" },
    });
    await rejects(wrong.getManifest("demo/app", "v1"), (e) => {
      ok(e instanceof OciError && e.code === "UNAUTHORIZED" && e.message.includes("token server"), String(e));
      return true;
    });
  } finally {
    await tokenServer.shutdown();
  }
});
