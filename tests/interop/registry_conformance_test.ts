/**
 * The OCI distribution-spec conformance workflows (pull, push, content discovery, content management),
 * written from the spec's MUSTs and the conformance suite's checks (opencontainers/distribution-spec
 * conformance/0*_test.go). Every spec must pass against the built-in registry. The same specs run
 * against distribution 2.8 (Debian's docker-registry), where the ones marked `distribution28` are
 * asserted to FAIL, so the comparison is real: if distribution ever passed one, or the built-in failed
 * one, this test says so.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { openLocalRegistry } from "../../oci/registry/local.ts";
import { startRegistryServer } from "../../oci/registry/server.ts";
import { startDistribution } from "../support/distribution.ts";

const sha = (b: Uint8Array) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const enc = (v: unknown) => new TextEncoder().encode(typeof v === "string" ? v : JSON.stringify(v));
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const EMPTY = { mediaType: "application/vnd.oci.empty.v1+json", digest: sha(enc("{}")), size: 2 };

interface Spec {
  workflow: "pull" | "push" | "discovery" | "management";
  name: string;
  /** Why distribution 2.8 fails this spec (it must fail there). */
  distribution28?: string;
  run: () => Promise<void>;
}

/** A tiny client for one registry base URL. */
function client(base: string) {
  return async (
    method: string,
    path: string,
    init: { body?: Uint8Array; headers?: Record<string, string> } = {},
  ) => {
    const res = await fetch(new URL(path, base), {
      method,
      body: init.body as BodyInit | undefined,
      headers: init.headers,
      redirect: "manual",
    });
    const body = new Uint8Array(await res.arrayBuffer());
    return { status: res.status, headers: res.headers, body, text: new TextDecoder().decode(body) };
  };
}

const errorCode = (text: string) => (JSON.parse(text) as { errors: { code: string }[] }).errors[0].code;

/** The specs, in order (later ones rely on content pushed by earlier ones), for the registry at `base`. */
function specs(base: string, ns: string): Spec[] {
  const http = client(base);
  const repo = `conformance/${ns}`;
  const other = `conformance/${ns}-mount`;
  const config = enc({
    architecture: "amd64",
    os: "linux",
    rootfs: { type: "layers", diff_ids: [] },
    seed: ns,
  });
  const layer = enc(`layer of ${ns} `.repeat(4000));
  const chunked = enc(`chunked blob of ${ns} `.repeat(3000));
  const manifest = (cfg: Uint8Array, layers: Uint8Array[], extra: Record<string, unknown> = {}) =>
    enc({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha(cfg), size: cfg.length },
      layers: layers.map((l) => ({
        mediaType: "application/vnd.oci.image.layer.v1.tar",
        digest: sha(l),
        size: l.length,
      })),
      ...extra,
    });
  const image = manifest(config, [layer]);
  const referrer = (artifactType: string, note: string) =>
    enc({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType,
      config: EMPTY,
      layers: [EMPTY],
      subject: { mediaType: OCI_MANIFEST, digest: sha(image), size: image.length },
      annotations: { "org.example.note": note },
    });
  const refA = referrer("application/vnd.example.sig", "a");
  const refB = referrer("application/vnd.example.sbom", "b");
  const tags = ["t0", "t1", "t2", "t3"];
  const monolithic = async (blob: Uint8Array, name = repo) => {
    const post = await http("POST", `/v2/${name}/blobs/uploads/`);
    assert.equal(post.status, 202);
    const put = await http(
      "PUT",
      `${post.headers.get("location")}${post.headers.get("location")!.includes("?") ? "&" : "?"}digest=${
        sha(blob)
      }`,
      {
        body: blob,
        headers: { "content-type": "application/octet-stream" },
      },
    );
    assert.equal(put.status, 201, put.text);
    return put;
  };
  let uploadLocation = "";
  const specList: Spec[] = [
    // ---- push ----
    {
      workflow: "push",
      name: "POST then PUT ?digest= uploads a blob monolithically (201 + Location)",
      run: async () => {
        const put = await monolithic(config);
        assert.ok(put.headers.get("location"));
        await monolithic(layer);
        await monolithic(enc("{}"));
      },
    },
    {
      workflow: "push",
      name: "POST ?digest= with the body uploads in one request (201, or 202 to fall back)",
      run: async () => {
        const blob = enc(`single post ${ns}`);
        const res = await http("POST", `/v2/${repo}/blobs/uploads/?digest=${sha(blob)}`, {
          body: blob,
          headers: { "content-type": "application/octet-stream" },
        });
        assert.ok(res.status === 201 || res.status === 202, `status ${res.status}`);
      },
    },
    {
      workflow: "push",
      name: "PATCH appends an in-order chunk (202, Range 0-<end>)",
      run: async () => {
        const post = await http("POST", `/v2/${repo}/blobs/uploads/`);
        uploadLocation = post.headers.get("location")!;
        const res = await http("PATCH", uploadLocation, {
          body: chunked.slice(0, 20000),
          headers: { "content-type": "application/octet-stream", "content-range": "0-19999" },
        });
        assert.equal(res.status, 202, res.text);
        assert.equal(res.headers.get("range"), "0-19999");
        uploadLocation = res.headers.get("location")!;
      },
    },
    {
      workflow: "push",
      name: "GET upload status reports the offset (204, Range)",
      run: async () => {
        const res = await http("GET", uploadLocation);
        assert.equal(res.status, 204);
        assert.match(res.headers.get("range") ?? "", /^0-\d+$/);
      },
    },
    {
      workflow: "push",
      name: "PATCH with an out-of-order chunk gets 416",
      distribution28: "answers 202 to a chunk that does not start at the upload's offset",
      run: async () => {
        const res = await http("PATCH", uploadLocation, {
          body: chunked.slice(30000, 40000),
          headers: { "content-type": "application/octet-stream", "content-range": "30000-39999" },
        });
        assert.equal(res.status, 416, `status ${res.status}`);
      },
    },
    {
      workflow: "push",
      name: "a chunked upload closes with PUT ?digest= (201, Docker-Content-Digest)",
      run: async () => {
        // Restart cleanly: a fresh session, two ordered chunks, then close.
        const post = await http("POST", `/v2/${repo}/blobs/uploads/`);
        let location = post.headers.get("location")!;
        for (const [start, end] of [[0, 30000], [30000, chunked.length]]) {
          const res = await http("PATCH", location, {
            body: chunked.slice(start, end),
            headers: { "content-type": "application/octet-stream", "content-range": `${start}-${end - 1}` },
          });
          assert.equal(res.status, 202, res.text);
          location = res.headers.get("location")!;
        }
        const put = await http(
          "PUT",
          `${location}${location.includes("?") ? "&" : "?"}digest=${sha(chunked)}`,
        );
        assert.equal(put.status, 201, put.text);
        assert.equal(put.headers.get("docker-content-digest"), sha(chunked));
        const get = await http("GET", `/v2/${repo}/blobs/${sha(chunked)}`);
        assert.deepEqual(get.body, chunked);
      },
    },
    {
      workflow: "push",
      name: "cross-repository mount of an existing blob answers 201",
      run: async () => {
        const res = await http("POST", `/v2/${other}/blobs/uploads/?mount=${sha(layer)}&from=${repo}`);
        assert.equal(res.status, 201, res.text);
        assert.ok(res.headers.get("location"));
        assert.equal((await http("HEAD", `/v2/${other}/blobs/${sha(layer)}`)).status, 200);
      },
    },
    {
      workflow: "push",
      name: "mounting an unknown blob falls back to an upload session (202)",
      run: async () => {
        const res = await http(
          "POST",
          `/v2/${other}/blobs/uploads/?mount=${sha(enc("nope" + ns))}&from=${repo}`,
        );
        assert.equal(res.status, 202);
        assert.ok(res.headers.get("location"));
      },
    },
    {
      workflow: "push",
      name: "a manifest referencing a missing blob is refused (400 MANIFEST_BLOB_UNKNOWN)",
      run: async () => {
        const res = await http("PUT", `/v2/${repo}/manifests/broken`, {
          body: manifest(config, [enc("missing" + ns)]),
          headers: { "content-type": OCI_MANIFEST },
        });
        assert.equal(res.status, 400);
        assert.equal(errorCode(res.text), "MANIFEST_BLOB_UNKNOWN");
      },
    },
    {
      workflow: "push",
      name: "manifest PUT by tag answers 201 with Location and Docker-Content-Digest",
      run: async () => {
        for (const tag of tags) {
          const res = await http("PUT", `/v2/${repo}/manifests/${tag}`, {
            body: image,
            headers: { "content-type": OCI_MANIFEST },
          });
          assert.equal(res.status, 201, res.text);
          assert.equal(res.headers.get("docker-content-digest"), sha(image));
          assert.ok(res.headers.get("location"));
        }
      },
    },
    {
      workflow: "push",
      name: "a manifest with a subject is accepted and answered with OCI-Subject",
      distribution28: "predates OCI 1.1: no OCI-Subject header",
      run: async () => {
        for (const ref of [refA, refB]) {
          const res = await http("PUT", `/v2/${repo}/manifests/${sha(ref)}`, {
            body: ref,
            headers: { "content-type": OCI_MANIFEST },
          });
          assert.equal(res.status, 201, res.text);
          assert.equal(res.headers.get("oci-subject"), sha(image));
        }
      },
    },
    // ---- pull ----
    {
      workflow: "pull",
      name: "GET manifest by tag returns the pushed bytes (200, Content-Type, digest)",
      run: async () => {
        const res = await http("GET", `/v2/${repo}/manifests/t0`, { headers: { accept: OCI_MANIFEST } });
        assert.equal(res.status, 200);
        assert.deepEqual(res.body, image);
        assert.equal(res.headers.get("content-type"), OCI_MANIFEST);
        assert.equal(res.headers.get("docker-content-digest"), sha(image));
      },
    },
    {
      workflow: "pull",
      name: "GET and HEAD manifest by digest (200, Content-Length)",
      run: async () => {
        const get = await http("GET", `/v2/${repo}/manifests/${sha(image)}`, {
          headers: { accept: OCI_MANIFEST },
        });
        assert.deepEqual(get.body, image);
        const head = await http("HEAD", `/v2/${repo}/manifests/${sha(image)}`, {
          headers: { accept: OCI_MANIFEST },
        });
        assert.equal(head.status, 200);
        assert.equal(head.headers.get("content-length"), String(image.length));
      },
    },
    {
      workflow: "pull",
      name: "an unknown manifest is 404 MANIFEST_UNKNOWN",
      run: async () => {
        const res = await http("GET", `/v2/${repo}/manifests/nonexistent`, {
          headers: { accept: OCI_MANIFEST },
        });
        assert.equal(res.status, 404);
        assert.equal(errorCode(res.text), "MANIFEST_UNKNOWN");
      },
    },
    {
      workflow: "pull",
      name: "GET and HEAD blob (200, bytes, Content-Length)",
      run: async () => {
        const get = await http("GET", `/v2/${repo}/blobs/${sha(layer)}`);
        assert.equal(get.status, 200);
        assert.deepEqual(get.body, layer);
        const head = await http("HEAD", `/v2/${repo}/blobs/${sha(config)}`);
        assert.equal(head.status, 200);
        assert.equal(head.headers.get("content-length"), String(config.length));
      },
    },
    {
      workflow: "pull",
      name: "a ranged blob GET returns 206 with the slice",
      run: async () => {
        const res = await http("GET", `/v2/${repo}/blobs/${sha(layer)}`, {
          headers: { range: "bytes=100-199" },
        });
        assert.equal(res.status, 206);
        assert.deepEqual(res.body, layer.slice(100, 200));
      },
    },
    {
      workflow: "pull",
      name: "an unknown blob is 404 BLOB_UNKNOWN",
      run: async () => {
        const res = await http("GET", `/v2/${repo}/blobs/${sha(enc("absent" + ns))}`);
        assert.equal(res.status, 404);
        assert.equal(errorCode(res.text), "BLOB_UNKNOWN");
      },
    },
    // ---- content discovery ----
    {
      workflow: "discovery",
      name: "tags list is 200 with every tag in lexical order",
      distribution28: "lists tags in storage order, not lexical order",
      run: async () => {
        const res = await http("GET", `/v2/${repo}/tags/list`);
        assert.equal(res.status, 200);
        assert.deepEqual(JSON.parse(res.text), { name: repo, tags });
      },
    },
    {
      workflow: "discovery",
      name: "tags list is 200 with every tag (in any order)",
      run: async () => {
        const res = await http("GET", `/v2/${repo}/tags/list`);
        assert.equal(res.status, 200);
        assert.deepEqual(JSON.parse(res.text).tags.sort(), tags);
      },
    },
    {
      workflow: "discovery",
      name: "tags list with n returns exactly n tags (and a Link to the next page)",
      distribution28: "does not return the first n tags in lexical order",
      run: async () => {
        const res = await http("GET", `/v2/${repo}/tags/list?n=2`);
        assert.equal(res.status, 200);
        assert.deepEqual(JSON.parse(res.text).tags, ["t0", "t1"]);
        assert.match(res.headers.get("link") ?? "", /rel="next"/);
      },
    },
    {
      workflow: "discovery",
      name: "tags list with n and last starts after last",
      distribution28: "does not return the n tags after last in lexical order",
      run: async () => {
        const res = await http("GET", `/v2/${repo}/tags/list?n=2&last=t1`);
        assert.equal(res.status, 200);
        assert.deepEqual(JSON.parse(res.text).tags, ["t2", "t3"]);
      },
    },
    {
      workflow: "discovery",
      name: "tags list with n=0 is empty and has no Link",
      distribution28: "returns every tag for n=0",
      run: async () => {
        const res = await http("GET", `/v2/${repo}/tags/list?n=0`);
        assert.deepEqual(JSON.parse(res.text).tags ?? [], []);
        assert.equal(res.headers.get("link"), null);
      },
    },
    {
      workflow: "discovery",
      name: "referrers of an unknown digest is 200 with an empty image index",
      distribution28: "predates OCI 1.1: no referrers API (404)",
      run: async () => {
        const res = await http("GET", `/v2/${repo}/referrers/${sha(enc("none" + ns))}`);
        assert.equal(res.status, 200);
        assert.equal(res.headers.get("content-type"), OCI_INDEX);
        assert.deepEqual(JSON.parse(res.text).manifests, []);
      },
    },
    {
      workflow: "discovery",
      name: "referrers lists every manifest with that subject, with artifactType and annotations",
      distribution28: "predates OCI 1.1: no referrers API (404)",
      run: async () => {
        const res = await http("GET", `/v2/${repo}/referrers/${sha(image)}`);
        assert.equal(res.status, 200);
        const got = JSON.parse(res.text).manifests as {
          digest: string;
          artifactType: string;
          annotations: Record<string, string>;
        }[];
        assert.deepEqual(got.map((d) => d.digest).sort(), [sha(refA), sha(refB)].sort());
        assert.ok(got.every((d) => d.annotations["org.example.note"] && d.artifactType));
      },
    },
    {
      workflow: "discovery",
      name: "referrers with artifactType filters and says so in OCI-Filters-Applied",
      distribution28: "predates OCI 1.1: no referrers API (404)",
      run: async () => {
        const res = await http(
          "GET",
          `/v2/${repo}/referrers/${sha(image)}?artifactType=application/vnd.example.sbom`,
        );
        assert.equal(res.headers.get("oci-filters-applied"), "artifactType");
        assert.deepEqual(JSON.parse(res.text).manifests.map((d: { digest: string }) => d.digest), [
          sha(refB),
        ]);
      },
    },
    // ---- content management ----
    {
      workflow: "management",
      name: "DELETE of a tag answers 202 and removes only that tag",
      distribution28: "refuses tag deletes with 400 DIGEST_INVALID (the spec allows 202, or 400 UNSUPPORTED)",
      run: async () => {
        const res = await http("DELETE", `/v2/${repo}/manifests/t3`);
        assert.equal(res.status, 202, res.text);
        assert.deepEqual(JSON.parse((await http("GET", `/v2/${repo}/tags/list`)).text).tags, [
          "t0",
          "t1",
          "t2",
        ]);
        assert.equal((await http("GET", `/v2/${repo}/manifests/t0`)).status, 200);
      },
    },
    {
      workflow: "management",
      name: "DELETE manifest by digest answers 202, then GET is 404",
      run: async () => {
        const res = await http("DELETE", `/v2/${repo}/manifests/${sha(image)}`);
        assert.equal(res.status, 202, res.text);
        assert.equal((await http("GET", `/v2/${repo}/manifests/${sha(image)}`)).status, 404);
      },
    },
    {
      workflow: "management",
      name: "tags list reflects the manifest deletion",
      run: async () => {
        const res = await http("GET", `/v2/${repo}/tags/list`);
        const listed = res.status === 200 ? JSON.parse(res.text).tags ?? [] : [];
        assert.deepEqual(listed, []);
      },
    },
    {
      workflow: "management",
      name: "DELETE blob answers 202, then GET is 404",
      run: async () => {
        // The referrers still name the empty blob; the chunked blob is referenced by nothing.
        const res = await http("DELETE", `/v2/${repo}/blobs/${sha(chunked)}`);
        assert.equal(res.status, 202, res.text);
        assert.equal((await http("GET", `/v2/${repo}/blobs/${sha(chunked)}`)).status, 404);
      },
    },
    {
      workflow: "management",
      name: "DELETE of an upload session cancels it (then 404 BLOB_UPLOAD_UNKNOWN)",
      run: async () => {
        const post = await http("POST", `/v2/${repo}/blobs/uploads/`);
        const location = post.headers.get("location")!;
        assert.equal((await http("DELETE", location)).status, 204);
        const res = await http("GET", location);
        assert.equal(res.status, 404);
        assert.equal(errorCode(res.text), "BLOB_UPLOAD_UNKNOWN");
      },
    },
  ];
  return specList;
}

/** Runs every spec as a step; `expectKnownFailures` flips the marked ones into must-fail checks. */
async function runSuite(t: Deno.TestContext, base: string, ns: string, expectKnownFailures: boolean) {
  const failedAsKnown: string[] = [];
  for (const spec of specs(base, ns)) {
    const known = expectKnownFailures ? spec.distribution28 : undefined;
    await t.step(`${spec.workflow}: ${spec.name}${known ? ` [must fail: ${known}]` : ""}`, async () => {
      if (!known) return await spec.run();
      let passed = false;
      try {
        await spec.run();
        passed = true;
      } catch (e) {
        if (Deno.env.get("CONFORMANCE_VERBOSE")) {
          console.log(`  distribution: ${spec.name}: ${(e as Error).message}`);
        }
        failedAsKnown.push(spec.name);
      }
      assert.equal(passed, false, `distribution 2.8 unexpectedly passed "${spec.name}"`);
    });
  }
  return failedAsKnown;
}

Deno.test("conformance: the built-in registry passes every pull, push, discovery and management spec", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "conformance-" });
  const registry = await openLocalRegistry(root);
  await using server = await startRegistryServer({ registry, mode: "writable" });
  try {
    await runSuite(t, server.url, "builtin", false);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("conformance: distribution 2.8 passes the same specs except its known non-conformance", async (t) => {
  await using distribution = await startDistribution();
  const failed = await runSuite(t, distribution.url, "distribution", true);
  assert.ok(failed.length >= 4, `distribution failed ${failed.length} marked specs`);
});
