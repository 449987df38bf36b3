/**
 * Cap accuracy of the bandwidth limiter: downloads a large blob from a real `docker-registry` over
 * loopback through {@linkcode BandwidthLimiter.fetch} under several caps (>= 10 s each), and prints
 * the measured mean rate and its error against the cap. The peer is the same download unthrottled.
 * Also runs four concurrent downloads sharing one cap, to show the split.
 *
 * Run: `deno task bench:throttle`
 *
 * @example
 * ```sh
 * deno task bench:throttle
 * ```
 * @module
 */
import { BandwidthLimiter } from "../edge/bandwidth/limiter.ts";
import { policyForRate } from "../edge/bandwidth/policy.ts";
import { startDistribution } from "../tests/support/distribution.ts";
import { buildImage, pushImages } from "../tests/support/images.ts";

const MiB = 1024 * 1024;
const BLOB_BYTES = 32 * MiB;
const SECONDS_PER_CAP = 10;
const CAPS = [1 * MiB, 4 * MiB, 16 * MiB];

/** Downloads the blob again and again through `fetchFn` until `seconds` have passed; returns bytes/s. */
async function meanRate(fetchFn: typeof fetch, url: string, seconds: number): Promise<number> {
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let bytes = 0;
  // Bounded: each pass moves a whole blob or ends at the deadline.
  for (let pass = 0; pass < 10_000; pass++) {
    const response = await fetchFn(url);
    if (!response.ok || !response.body) throw new Error(`GET ${url}: HTTP ${response.status}`);
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      if (performance.now() >= deadline) {
        await reader.cancel();
        return bytes / ((performance.now() - started) / 1000);
      }
    }
  }
  throw new Error("ran out of passes");
}

const fmt = (rate: number) => `${(rate / MiB).toFixed(3)} MiB/s`;

await using registry = await startDistribution();
const image = await buildImage({
  seed: "bench-throttle",
  layers: [{ randomBytes: BLOB_BYTES }],
  gzip: false,
});
await pushImages(registry.host, [{ repository: "bench/throttle", tag: "v1", image }]);
const layer = [...image.blobs.values()].reduce((a, b) => (b.bytes.byteLength > a.bytes.byteLength ? b : a));
const url = `${registry.url}/v2/bench/throttle/blobs/${layer.digest}`;
console.log(`blob ${layer.digest} (${(layer.bytes.byteLength / MiB).toFixed(1)} MiB) from ${registry.url}`);

const unthrottled = await meanRate(fetch, url, 3);
console.log(`peer (no limiter):           ${fmt(unthrottled)}`);

const limiter = new BandwidthLimiter();
const rows: { cap: number; rate: number; error: number }[] = [];
for (const cap of CAPS) {
  limiter.setPolicy(policyForRate(cap));
  const rate = await meanRate(limiter.fetch, url, SECONDS_PER_CAP);
  const error = rate / cap - 1;
  rows.push({ cap, rate, error });
  console.log(
    `cap ${fmt(cap).padStart(14)}: measured ${fmt(rate)} over ${SECONDS_PER_CAP} s, ` +
      `error ${(error * 100).toFixed(2)}%, ratio to peer ${(rate / unthrottled).toFixed(4)}`,
  );
}

const sharedCap = 4 * MiB;
limiter.setPolicy(policyForRate(sharedCap));
const shares = await Promise.all([0, 1, 2, 3].map(() => meanRate(limiter.fetch, url, SECONDS_PER_CAP)));
const total = shares.reduce((a, b) => a + b, 0);
console.log(
  `4 concurrent downloads under ${fmt(sharedCap)}: total ${fmt(total)} (error ${
    ((total / sharedCap - 1) * 100).toFixed(2)
  }%), each ${shares.map((s) => (s / total * 100).toFixed(1) + "%").join(" / ")}`,
);

const worst = Math.max(...rows.map((r) => Math.abs(r.error)));
console.log(`worst cap error ${(worst * 100).toFixed(2)}% (target within ±5%)`);
if (worst > 0.05) Deno.exitCode = 1;
