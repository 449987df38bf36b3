/**
 * Benchmark: Ground Control with 10,000 simulated satellites on loopback. Ground Control runs in a
 * child process (this file with `--serve`) over a Deno KV file, with a real docker-registry as the
 * central registry; the load generator (this process) drives, with keep-alive connections:
 *
 * 1. create: `POST /api/satellites` for every satellite (each queues a signed satellite-state push);
 * 2. drain: until every satellite state is in the registry (`pendingStatePushes` on `/healthz`);
 * 3. ztr: `POST /ztr` for every token;
 * 4. status: `STATUS_ROUNDS` status reports per satellite (`POST /api/device/status`) from 64
 *    connections (saturation throughput), then an open loop at the 2,000/s target for 10 s (the
 *    p99 that target is about, measured from each request's scheduled start);
 * 5. fleet: `GET /api/fleet` over the whole fleet.
 *
 * Peers in the same run: `GET /healthz` on the same server (transport + framework floor) and
 * `HEAD` of a manifest on docker-registry (a Go server doing a comparable lookup). Prints
 * requests/s and p50/p99 latency per phase and the ratios; the target is >= 2,000 status
 * reports/s with p99 < 50 ms.
 *
 *     deno task bench:control            # 10,000 satellites
 *     deno task bench:control --satellites 2000
 *
 * @example
 * ```ts
 * // deno run -A bench/control.ts --satellites 1000
 * ```
 * @module
 */
import { startDistribution } from "../tests/support/distribution.ts";
import { buildImage, pushImages } from "../tests/support/images.ts";
import { freePort, waitForHttp } from "../tests/support/ports.ts";
import { startGroundControl } from "../control/main.ts";
import type { ControlConfigInput } from "../schemas/control.ts";

const ADMIN = "bench-admin-token-0123456789abcdef";
const CONCURRENCY = 64;
const STATUS_ROUNDS = 3;
/** The target: this many status reports per second with p99 under 50 ms. */
const TARGET_RATE = 2000;
const TARGET_SECONDS = 10;

/** Child mode: run Ground Control with the JSON config from the environment until killed. */
async function serve(): Promise<void> {
  const config = JSON.parse(Deno.env.get("BENCH_GC_CONFIG")!) as ControlConfigInput;
  const gc = await startGroundControl(config);
  console.log(JSON.stringify({ url: gc.url }));
  Deno.addSignalListener("SIGTERM", () => gc.close().then(() => Deno.exit(0)));
}

interface PhaseResult {
  name: string;
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] : NaN;
}

/** Runs `count` requests with `concurrency` workers; `send(i)` returns true on success. */
async function phase(
  name: string,
  count: number,
  concurrency: number,
  send: (i: number) => Promise<boolean>,
): Promise<PhaseResult> {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) {
      const i = next++;
      const t0 = performance.now();
      let ok = false;
      try {
        ok = await send(i);
      } catch {
        ok = false;
      }
      latencies.push(performance.now() - t0);
      if (!ok) errors++;
    }
  }));
  return summarize(name, count, errors, started, latencies);
}

/** Waits for the background satellite-state pushes that creation queued; reports states/s. */
async function drain(url: string, states: number): Promise<PhaseResult> {
  const started = performance.now();
  for (let i = 0; i < 36_000; i++) {
    const health = await (await fetch(`${url}/healthz`)).json();
    if (health.pendingStatePushes === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `${"state push drain".padEnd(22)} ${String(states).padStart(6)} states, done ${
      seconds.toFixed(1)
    } s after create`,
  );
  return {
    name: "state push drain",
    requests: states,
    errors: 0,
    seconds,
    rps: states / seconds,
    p50: NaN,
    p99: NaN,
  };
}

/**
 * Open loop: sends `count` requests at a fixed `rate`, whatever the answers do, and measures each
 * latency from its scheduled start (so a stall counts against every request it delays).
 */
async function openLoop(
  name: string,
  count: number,
  rate: number,
  send: (i: number) => Promise<boolean>,
): Promise<PhaseResult> {
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    inflight.push(
      send(i).catch(() => false).then((ok) => {
        latencies.push(performance.now() - due);
        if (!ok) errors++;
      }),
    );
  }
  await Promise.all(inflight);
  return summarize(name, count, errors, started, latencies);
}

/** Prints and returns one phase's figures (latencies in ms, sorted in place). */
function summarize(
  name: string,
  count: number,
  errors: number,
  started: number,
  latencies: number[],
): PhaseResult {
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const result = {
    name,
    requests: count,
    errors,
    seconds,
    rps: count / seconds,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
  };
  console.log(
    `${name.padEnd(22)} ${String(count).padStart(6)} req  ${result.rps.toFixed(0).padStart(6)} req/s  ` +
      `p50 ${result.p50.toFixed(1).padStart(6)} ms  p99 ${
        result.p99.toFixed(1).padStart(6)
      } ms  errors ${errors}`,
  );
  return result;
}

async function post(url: string, body: string, authorization?: string): Promise<Response> {
  return await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
    body,
  });
}

async function main(satellites: number): Promise<void> {
  await using registry = await startDistribution();
  const image = await buildImage({ seed: "bench-app", layers: [{ files: { app: "v1" } }] });
  await pushImages(registry.host, [{ repository: "library/app", tag: "v1", image }]);
  const dir = await Deno.makeTempDir({ prefix: "bench-control-" });
  const config: ControlConfigInput = {
    listen: `127.0.0.1:${freePort()}`,
    dataPath: `${dir}/control.kv`,
    registry: { url: registry.url },
    adminToken: ADMIN,
    logLevel: "warn",
    publishConcurrency: 16,
    // The load generator is one admin. Simulated devices report far more often than real ones (every
    // few seconds instead of every minute), so their limit is raised, but it stays on the hot path.
    rateLimits: {
      admin: { ratePerSecond: 100_000, burst: 100_000 },
      device: { ratePerSecond: 5, burst: 30 },
    },
  };
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, "--serve"],
    env: { BENCH_GC_CONFIG: JSON.stringify(config) },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const { value } = await reader.read();
    const { url } = JSON.parse(value!.split("\n")[0]) as { url: string };
    reader.releaseLock();
    child.stdout.cancel().catch(() => {});
    await waitForHttp(`${url}/healthz`);
    const admin = `Bearer ${ADMIN}`;
    const group = await fetch(`${url}/api/groups/fleet`, {
      method: "PUT",
      headers: { authorization: admin, "content-type": "application/json" },
      body: JSON.stringify({ artifacts: [{ repository: "library/app", tags: ["v1"] }] }),
    });
    const groupView = await group.json();
    if (group.status !== 200) throw new Error(`group: ${JSON.stringify(groupView)}`);

    console.log(
      `Ground Control ${url} (child process, KV) with ${satellites} satellites; registry ${registry.url}`,
    );
    const names = Array.from({ length: satellites }, (_, i) => `sat-${String(i).padStart(5, "0")}`);
    const tokens = new Array<string>(satellites);
    const secrets = new Array<string>(satellites);
    const results: PhaseResult[] = [];

    results.push(
      await phase("create (+ state push)", satellites, CONCURRENCY, async (i) => {
        const res = await post(
          `${url}/api/satellites`,
          JSON.stringify({ name: names[i], groups: ["fleet"] }),
          admin,
        );
        const body = await res.json();
        tokens[i] = body.token;
        return res.status === 201;
      }),
    );
    results.push(await drain(url, satellites));
    results.push(
      await phase("ztr", satellites, CONCURRENCY, async (i) => {
        const res = await post(
          `${url}/ztr`,
          JSON.stringify({ token: tokens[i], device: { hostname: names[i] } }),
        );
        const body = await res.json();
        secrets[i] = body.deviceSecret;
        return res.status === 200;
      }),
    );
    const digest = groupView.published.digest as string;
    const reports = names.map((name) =>
      JSON.stringify({
        satellite: name,
        reportedAt: new Date().toISOString(),
        applied: { groups: { fleet: { digest, seq: 1 } } },
        counts: { desired: 1, synced: 1 },
        versions: { satellite: "0.1.0", deno: Deno.version.deno },
      })
    );
    const statusCount = satellites * STATUS_ROUNDS;
    const sendStatus = async (n: number) => {
      const i = n % satellites;
      const res = await post(`${url}/api/device/status`, reports[i], `Bearer ${secrets[i]}`);
      await res.arrayBuffer();
      return res.status === 200;
    };
    const status = await phase(`status (${CONCURRENCY} conns)`, statusCount, CONCURRENCY, sendStatus);
    results.push(status);
    const paced = await openLoop(
      `status @ ${TARGET_RATE}/s open`,
      TARGET_RATE * TARGET_SECONDS,
      TARGET_RATE,
      (n) => sendStatus(n + statusCount),
    );
    results.push(paced);
    const fleet = await phase("fleet overview", 5, 1, async () => {
      const res = await fetch(`${url}/api/fleet`, { headers: { authorization: admin } });
      const body = await res.json();
      return res.status === 200 && body.total === satellites;
    });
    results.push(fleet);
    const healthz = await phase("peer: GC /healthz", statusCount, CONCURRENCY, async () => {
      const res = await fetch(`${url}/healthz`);
      await res.arrayBuffer();
      return res.status === 200;
    });
    const healthzPaced = await openLoop(
      `peer: /healthz @ ${TARGET_RATE}/s`,
      TARGET_RATE * TARGET_SECONDS,
      TARGET_RATE,
      async () => {
        const res = await fetch(`${url}/healthz`);
        await res.arrayBuffer();
        return res.status === 200;
      },
    );
    const head = await phase("peer: registry HEAD", statusCount, CONCURRENCY, async () => {
      const res = await fetch(`${registry.url}/v2/library/app/manifests/v1`, {
        method: "HEAD",
        headers: { accept: image.mediaType },
      });
      await res.body?.cancel();
      return res.status === 200;
    });

    console.log("");
    console.log(`status reports/s vs GC /healthz:         ${(status.rps / healthz.rps).toFixed(2)}x`);
    console.log(`status reports/s vs registry HEAD:       ${(status.rps / head.rps).toFixed(2)}x`);
    console.log(
      `p99 at ${TARGET_RATE}/s, status vs /healthz:     ${(paced.p99 / healthzPaced.p99).toFixed(2)}x ` +
        `(${paced.p99.toFixed(1)} vs ${healthzPaced.p99.toFixed(1)} ms)`,
    );
    const ztr = results.find((r) => r.name === "ztr")!;
    console.log(`ztr/s vs status/s:                       ${(ztr.rps / status.rps).toFixed(2)}x`);
    const meets = status.rps >= TARGET_RATE && paced.p99 < 50 && status.errors + paced.errors === 0;
    console.log(
      `target (>= ${TARGET_RATE} status/s, p99 < 50 ms at ${TARGET_RATE}/s): ${meets ? "met" : "NOT met"} ` +
        `(saturation ${status.rps.toFixed(0)}/s; p99 ${paced.p99.toFixed(1)} ms at ${TARGET_RATE}/s offered)`,
    );
    const errors = results.reduce((n, r) => n + r.errors, 0);
    if (errors) console.log(`errors: ${errors}`);
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  if (Deno.args.includes("--serve")) {
    await serve();
  } else {
    const i = Deno.args.indexOf("--satellites");
    const count = i >= 0 ? Number(Deno.args[i + 1]) : 10_000;
    if (!Number.isInteger(count) || count < 1 || count > 100_000) {
      console.error("--satellites must be an integer from 1 to 100000");
      Deno.exit(2);
    }
    await main(count);
  }
}
