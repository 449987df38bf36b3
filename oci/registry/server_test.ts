import assert from "node:assert/strict";
import { sha256Digest } from "../digest.ts";
import { type LocalRegistry, openLocalRegistry } from "./local.ts";
import { createRegistryHandler, startRegistryServer } from "./server.ts";

async function withRegistry(fn: (registry: LocalRegistry) => Promise<void>) {
  const root = await Deno.makeTempDir({ prefix: "server-test-" });
  try {
    await fn(await openLocalRegistry(root));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

const codeOf = async (res: Response) => (await res.json()).errors[0].code as string;

Deno.test("server: edge mode serves pulls and refuses pushes and deletes with 405 UNSUPPORTED", () =>
  withRegistry(async (registry) => {
    const blob = new TextEncoder().encode("edge blob");
    const digest = sha256Digest(blob);
    await registry.putBlob("e/x", { digest, size: blob.length }, new Blob([blob]).stream());
    const handler = createRegistryHandler({ registry, mode: "edge" });
    const get = await handler(new Request(`http://x/v2/e/x/blobs/${digest}?ns=upstream.example`));
    assert.equal(get.status, 200);
    assert.equal(await get.text(), "edge blob");
    for (
      const [method, path] of [["POST", "/v2/e/x/blobs/uploads/"], ["DELETE", `/v2/e/x/blobs/${digest}`], [
        "PUT",
        "/v2/e/x/manifests/v1",
      ]]
    ) {
      const res = await handler(
        new Request(`http://x${path}`, { method, body: method === "PUT" ? "{}" : undefined }),
      );
      assert.equal(res.status, 405, `${method} ${path}`);
      assert.equal(await codeOf(res), "UNSUPPORTED");
    }
  }));

Deno.test("server: basic auth challenges with WWW-Authenticate and accepts the right credentials", () =>
  withRegistry(async (registry) => {
    const handler = createRegistryHandler({ registry, auth: { username: "u", password: "p" } });
    const denied = await handler(new Request("http://x/v2/"));
    assert.equal(denied.status, 401);
    assert.equal(denied.headers.get("www-authenticate"), 'Basic realm="registry"');
    assert.equal(await codeOf(denied), "UNAUTHORIZED");
    const wrong = await handler(
      new Request("http://x/v2/", { headers: { authorization: `Basic ${btoa("u:x")}` } }),
    );
    assert.equal(wrong.status, 401);
    await wrong.body?.cancel();
    const ok = await handler(
      new Request("http://x/v2/", { headers: { authorization: `Basic ${btoa("u:p")}` } }),
    );
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get("docker-distribution-api-version"), "registry/2.0");
    await ok.body?.cancel();
  }));

Deno.test("server: bad names, digests, ranges and oversized manifests get clean 4xx errors", () =>
  withRegistry(async (registry) => {
    await using server = await startRegistryServer({ registry, mode: "writable" });
    const blob = new TextEncoder().encode("0123456789");
    const digest = sha256Digest(blob);
    await registry.putBlob("a/b/c", { digest, size: blob.length }, new Blob([blob]).stream());
    const cases: [string, RequestInit, number, string][] = [
      ["/v2/a%2F..%2Fb/tags/list", {}, 400, "NAME_INVALID"],
      ["/v2/A/b/manifests/v1", {}, 400, "NAME_INVALID"],
      ["/v2/a/b/c/blobs/sha256:xyz", {}, 400, "DIGEST_INVALID"],
      [
        "/v2/a/b/c/manifests/v1",
        { method: "PUT", body: new Uint8Array(4 * 1024 * 1024 + 1) },
        413,
        "SIZE_INVALID",
      ],
      ["/v2/a/b/c/manifests/v1", { method: "PUT", body: "not json" }, 400, "MANIFEST_INVALID"],
      [`/v2/a/b/c/blobs/${digest}`, { headers: { range: "bytes=10-20" } }, 416, "RANGE_INVALID"],
      ["/v2/a/b/c/blobs/uploads/00000000-0000-0000-0000-000000000000", {}, 404, "BLOB_UPLOAD_UNKNOWN"],
    ];
    for (const [path, init, status, code] of cases) {
      const res = await fetch(`${server.url}${path}`, init);
      assert.equal(res.status, status, path);
      assert.equal(await codeOf(res), code, path);
    }
    const tail = await fetch(`${server.url}/v2/a/b/c/blobs/${digest}`, { headers: { range: "bytes=-3" } });
    assert.equal(tail.status, 206);
    assert.equal(tail.headers.get("content-range"), "bytes 7-9/10");
    assert.equal(await tail.text(), "789");
  }));
