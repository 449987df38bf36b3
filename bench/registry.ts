/**
 * Benchmark: the built-in registry (a child process, so its RSS is its own) against distribution 2.8
 * (`docker-registry`) on loopback, same content in both, one run:
 * - blob GET throughput of a 200 MB blob with 1 and 4 concurrent clients;
 * - manifest GET requests/s with 32 concurrent keep-alive connections for ~5 s, from a separate client
 *   process (this file run with `--client`);
 * - the built-in's peak RSS (VmHWM).
 * Prints built-in / distribution ratios (>= 1.0 means the built-in is at least as fast).
 *
 *     deno task bench:registry
 *
 * @example
 * ```ts
 * // deno run -A bench/registry.ts
 * ```
 * @module
 */
import { createHash } from "node:crypto";
import { startDistribution } from "../tests/support/distribution.ts";
import { seededBytes } from "../tests/support/images.ts";
import { freePort, waitForHttp } from "../tests/support/ports.ts";

const BLOB_BYTES = 200 * 1024 * 1024;
const MANIFEST_CONNECTIONS = 32;
const MANIFEST_SECONDS = 5;

/** Client mode: hammer one manifest URL with N concurrent keep-alive loops; print requests/s. */
async function manifestClient(url: string, connections: number, seconds: number): Promise<void> {
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  let errors = 0;
  const headers = { accept: "application/vnd.oci.image.manifest.v1+json" };
  await Promise.all(Array.from({ length: connections }, async () => {
    while (performance.now() < deadline) {
      try {
        const res = await fetch(url, { headers });
        await res.arrayBuffer();
        if (res.status === 200) done++;
        else errors++;
      } catch {
        errors++;
      }
    }
  }));
  console.log(JSON.stringify({ rps: done / seconds, errors }));
}

const sha = (b: Uint8Array) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

async function pushContent(base: string, blob: Uint8Array, digest: string): Promise<void> {
  const config = new TextEncoder().encode(
    JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } }),
  );
  for (const [bytes, d] of [[blob, digest], [config, sha(config)]] as const) {
    const post = await fetch(`${base}/v2/bench/app/blobs/uploads/`, { method: "POST" });
    await post.body?.cancel();
    const location = new URL(post.headers.get("location")!, base);
    location.searchParams.set("digest", d);
    const put = await fetch(location, {
      method: "PUT",
      body: bytes as BodyInit,
      headers: { "content-type": "application/octet-stream" },
    });
    await put.body?.cancel();
    if (put.status !== 201) throw new Error(`blob upload to ${base} failed: ${put.status}`);
  }
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: sha(config),
      size: config.length,
    },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest, size: blob.length }],
  });
  const res = await fetch(`${base}/v2/bench/app/manifests/v1`, {
    method: "PUT",
    body: manifest,
    headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
  });
  await res.body?.cancel();
  if (res.status !== 201) throw new Error(`manifest push to ${base} failed: ${res.status}`);
}

/** MB/s for `clients` concurrent full GETs of the blob (bytes drained, not buffered). */
async function blobThroughput(base: string, digest: string, clients: number): Promise<number> {
  const start = performance.now();
  const sizes = await Promise.all(Array.from({ length: clients }, async () => {
    const res = await fetch(`${base}/v2/bench/app/blobs/${digest}`);
    let n = 0;
    for await (const chunk of res.body!) n += chunk.byteLength;
    if (n !== BLOB_BYTES) throw new Error(`short blob from ${base}: ${n}`);
    return n;
  }));
  const seconds = (performance.now() - start) / 1000;
  return sizes.reduce((a, b) => a + b, 0) / 1024 / 1024 / seconds;
}

async function manifestRps(base: string): Promise<number> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL(import.meta.url).pathname,
      "--client",
      `${base}/v2/bench/app/manifests/v1`,
      String(MANIFEST_CONNECTIONS),
      String(MANIFEST_SECONDS),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const result = JSON.parse(new TextDecoder().decode(out.stdout)) as { rps: number; errors: number };
  if (result.errors > 0) console.error(`  (${result.errors} failed manifest requests against ${base})`);
  return result.rps;
}

/** Alternating blob rounds (a 200 MB GET takes ~0.1 s, so one sample is mostly noise): medians. */
const BLOB_ROUNDS = 5;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Blob throughput of both servers, alternating them round by round so load drifts hit both alike. */
async function blobFigures(servers: Record<string, string>, digest: string) {
  for (const base of Object.values(servers)) await blobThroughput(base, digest, 1); // warm the page cache
  const samples: Record<string, { one: number[]; four: number[] }> = {};
  for (const name of Object.keys(servers)) samples[name] = { one: [], four: [] };
  for (let round = 0; round < BLOB_ROUNDS; round++) {
    for (const [name, base] of Object.entries(servers)) {
      samples[name].one.push(await blobThroughput(base, digest, 1));
      samples[name].four.push(await blobThroughput(base, digest, 4));
    }
  }
  return Object.fromEntries(
    Object.entries(samples).map(([name, s]) => [name, { one: median(s.one), four: median(s.four) }]),
  );
}

async function measure(name: string, base: string, blob: { one: number; four: number }) {
  const rps = await manifestRps(base);
  console.log(
    `${name.padEnd(13)} blob 1 client ${blob.one.toFixed(0)} MB/s, 4 clients ${
      blob.four.toFixed(0)
    } MB/s (medians of ${BLOB_ROUNDS}), manifest ${rps.toFixed(0)} req/s`,
  );
  return { ...blob, rps };
}

function peakRss(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? "0");
  return kb / 1024;
}

async function main() {
  const blob = seededBytes("bench-registry", BLOB_BYTES);
  const digest = sha(blob);
  const root = await Deno.makeTempDir({ prefix: "bench-registry-" });
  const port = freePort();
  const builtin = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../oci/registry/main.ts", import.meta.url).pathname,
      "--root",
      root,
      "--port",
      String(port),
      "--mode",
      "writable",
    ],
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  await using distribution = await startDistribution();
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/v2/`);
    await pushContent(base, blob, digest);
    await pushContent(distribution.url, blob, digest);
    const blobs = await blobFigures({ builtin: base, distribution: distribution.url }, digest);
    const ours = await measure("built-in", base, blobs.builtin);
    const theirs = await measure("distribution", distribution.url, blobs.distribution);
    const rss = peakRss(builtin.pid);
    console.log("\nratios (built-in / distribution; >= 1.0 is the target):");
    console.log(`  blob GET, 1 client:    ${(ours.one / theirs.one).toFixed(2)}`);
    console.log(`  blob GET, 4 clients:   ${(ours.four / theirs.four).toFixed(2)}`);
    console.log(`  manifest GET, 32 conn: ${(ours.rps / theirs.rps).toFixed(2)}`);
    console.log(`built-in peak RSS (VmHWM): ${rss.toFixed(1)} MB (target <= 80 MB)`);
  } finally {
    builtin.kill("SIGKILL");
    await builtin.status;
    await Deno.remove(root, { recursive: true });
  }
}

if (import.meta.main) {
  if (Deno.args[0] === "--client") {
    await manifestClient(Deno.args[1], Number(Deno.args[2]), Number(Deno.args[3]));
  } else await main();
}
