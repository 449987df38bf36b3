/**
 * Crash safety of the built-in registry: the server runs as a child process (oci/registry/main.ts),
 * skopeo pushes and plain HTTP pulls run concurrently, and the server is SIGKILLed at a random moment,
 * five rounds on the same root. After each restart the store must be consistent (every blob file hashes
 * to its name, nothing partial is visible, every manifest's references are present) and every push that
 * completed (skopeo exited 0, i.e. it got 201 for its manifest) must be intact.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { parseManifest } from "../../oci/manifest.ts";
import { freePort, waitForHttp } from "../support/ports.ts";
import { buildImage, type BuiltImage, writeOciLayout } from "../support/images.ts";

const ROUNDS = 5;
const PUSHES_PER_ROUND = 3;
const main = new URL("../../oci/registry/main.ts", import.meta.url).pathname;

function startServer(root: string, port: number): Deno.ChildProcess {
  return new Deno.Command("deno", {
    args: ["run", "-A", main, "--root", root, "--port", String(port), "--mode", "writable"],
    stdout: "null",
    stderr: "piped",
  }).spawn();
}

async function skopeoPush(layout: string, tag: string, dest: string, signal: AbortSignal): Promise<boolean> {
  const out = await new Deno.Command("skopeo", {
    args: [
      "copy",
      "--preserve-digests",
      "--dest-tls-verify=false",
      "--retry-times=0",
      `oci:${layout}:${tag}`,
      dest,
    ],
    stdout: "null",
    stderr: "null",
    signal,
  }).output().catch(() => ({ success: false }));
  return out.success;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  using file = await Deno.open(path);
  for await (const chunk of file.readable) hash.update(chunk);
  return `sha256:${hash.digest("hex")}`;
}

/** Checks the on-disk invariants directly, then that every completed push is served intact. */
async function checkConsistent(root: string, base: string, completed: Map<string, BuiltImage>) {
  const present = new Set<string>();
  for await (const entry of Deno.readDir(`${root}/blobs/sha256`)) {
    const digest = `sha256:${entry.name}`;
    assert.equal(
      await sha256File(`${root}/blobs/sha256/${entry.name}`),
      digest,
      `blob file ${entry.name} is intact`,
    );
    present.add(digest);
  }
  const indexes: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory) await walk(`${dir}/${e.name}`);
      else if (e.name === "_index.json") indexes.push(`${dir}/${e.name}`);
    }
  };
  await walk(`${root}/repositories`).catch(() => {});
  for (const path of indexes) {
    const index = JSON.parse(await Deno.readTextFile(path)) as { manifests: { digest: string }[] };
    for (const { digest } of index.manifests) {
      assert.ok(present.has(digest), `${path} names manifest ${digest}, which is present`);
      const parsed = parseManifest(await Deno.readFile(`${root}/blobs/sha256/${digest.slice(7)}`));
      for (const child of parsed.children) {
        assert.ok(present.has(child.digest), `${digest} references ${child.digest}`);
      }
    }
  }
  for (const [ref, image] of completed) {
    const [repo, tag] = ref.split(":");
    const res = await fetch(`${base}/v2/${repo}/manifests/${tag}`);
    assert.equal(res.status, 200, `completed push ${ref} survived`);
    assert.deepEqual(new Uint8Array(await res.arrayBuffer()), image.manifest);
    for (const digest of image.blobs.keys()) {
      const blob = await fetch(`${base}/v2/${repo}/blobs/${digest}`);
      assert.equal(blob.status, 200);
      assert.equal(
        `sha256:${createHash("sha256").update(new Uint8Array(await blob.arrayBuffer())).digest("hex")}`,
        digest,
      );
    }
  }
  return indexes.length;
}

Deno.test("registry crash safety: SIGKILL during concurrent pushes and pulls loses nothing completed", async () => {
  const root = await Deno.makeTempDir({ prefix: "crash-root-" });
  const layout = await Deno.makeTempDir({ prefix: "crash-layout-" });
  const images: Record<string, BuiltImage> = {};
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < PUSHES_PER_ROUND; i++) {
      images[`r${r}i${i}`] = await buildImage({
        seed: `crash-${r}-${i}`,
        gzip: false,
        layers: [{ randomBytes: 6_000_000 + i * 2_000_000 }, { files: { [`f${r}${i}`]: "x" } }],
      });
    }
  }
  await writeOciLayout(layout, images);
  const completed = new Map<string, BuiltImage>();
  const port = freePort();
  const base = `http://127.0.0.1:${port}`;
  let server: Deno.ChildProcess | undefined;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      server = startServer(root, port);
      await waitForHttp(`${base}/v2/`);
      if (round > 0) await checkConsistent(root, base, completed);
      const stopClients = new AbortController();
      const timeout = setTimeout(() => stopClients.abort(), 30_000);
      const pushes = Array.from({ length: PUSHES_PER_ROUND }, async (_, i) => {
        const tag = `r${round}i${i}`;
        const ok = await skopeoPush(
          layout,
          tag,
          `docker://127.0.0.1:${port}/crash/app${i}:${tag}`,
          stopClients.signal,
        );
        if (ok) completed.set(`crash/app${i}:${tag}`, images[tag]);
      });
      const pulls = (async () => {
        for (let n = 0; n < 200 && !stopClients.signal.aborted; n++) {
          for (const ref of completed.keys()) {
            const [repo, tag] = ref.split(":");
            await fetch(`${base}/v2/${repo}/manifests/${tag}`).then((r) => r.body?.cancel()).catch(() => {});
          }
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
      // Kill somewhere between "just started" and "probably done" (the last round lets pushes finish).
      await new Promise((r) => setTimeout(r, round === ROUNDS - 1 ? 8000 : 50 + Math.random() * 450));
      server.kill("SIGKILL");
      await server.status;
      await server.stderr.cancel();
      server = undefined;
      stopClients.abort();
      await Promise.all([...pushes, pulls]);
      clearTimeout(timeout);
    }
    server = startServer(root, port);
    await waitForHttp(`${base}/v2/`);
    const repositories = await checkConsistent(root, base, completed);
    assert.ok(completed.size > 0, "at least one push completed across the rounds");
    assert.ok(repositories > 0);
    console.log(
      `crash test: ${completed.size}/${ROUNDS * PUSHES_PER_ROUND} pushes completed before kills; all intact`,
    );
  } finally {
    if (server) {
      server.kill("SIGKILL");
      await server.status;
      await server.stderr.cancel().catch(() => {});
    }
    await Deno.remove(root, { recursive: true });
    await Deno.remove(layout, { recursive: true });
  }
});
