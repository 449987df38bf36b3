import { deepStrictEqual, equal, ok, rejects } from "node:assert/strict";
import { BandwidthPolicy } from "../../schemas/bandwidth.ts";
import { ManualClock } from "./clock.ts";
import { BandwidthLimiter } from "./limiter.ts";
import { policyForRate } from "./policy.ts";

/** A pull-based byte source of `total` bytes in `chunk`-sized chunks. */
function byteSource(total: number, chunk: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close();
      const size = Math.min(chunk, total - sent);
      controller.enqueue(new Uint8Array(size).fill(sent % 251));
      sent += size;
    },
  }, { highWaterMark: 0 });
}

/** Reads a stream in the background, counting bytes. */
function drain(stream: ReadableStream<Uint8Array>) {
  const counter = { bytes: 0, done: Promise.resolve() };
  counter.done = (async () => {
    for await (const chunk of stream) counter.bytes += chunk.byteLength;
  })();
  return counter;
}

function near(actual: number, expected: number, tolerance: number, what: string) {
  ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual}, expected ${expected} ± ${tolerance}`);
}

Deno.test("a capped stream passes the cap's bytes per second, never a big chunk at once", async () => {
  const clock = new ManualClock(0);
  const limiter = new BandwidthLimiter({ policy: policyForRate(10_000), clock });
  equal(limiter.pieceSize, 1000);
  const reader = drain(limiter.throttle(byteSource(1_000_000, 256 * 1024)));
  await clock.advance(5_000);
  near(reader.bytes, 50_000, 1000, "bytes after 5 s at 10 kB/s");
  await clock.advance(5_000);
  near(reader.bytes, 100_000, 1000, "bytes after 10 s at 10 kB/s");
  limiter.setPolicy(policyForRate(0));
  await clock.advance(1);
  await reader.done;
  equal(reader.bytes, 1_000_000);
});

Deno.test("a calendar window that starts mid-transfer changes the rate at that minute", async () => {
  const clock = new ManualClock(Date.parse("2025-01-06T00:09:55Z"));
  const policy = BandwidthPolicy.parse({
    defaultRate: 10_000,
    windows: [{ start: "00:00", end: "00:10", rate: 1_000 }],
  });
  const limiter = new BandwidthLimiter({ policy, clock });
  const reader = drain(limiter.throttle(byteSource(10_000_000, 64 * 1024)));
  await clock.advance(5_000);
  near(reader.bytes, 5_000, 100, "bytes in the 1 kB/s window");
  await clock.advance(5_000);
  near(reader.bytes, 5_000 + 50_000, 1_100, "bytes after the window closed");
  equal(limiter.rate, 10_000);
});

Deno.test("outside a sync window no byte passes; it flows when the window opens and stops when it closes", async () => {
  const clock = new ManualClock(Date.parse("2025-01-06T00:59:00Z"));
  const policy = BandwidthPolicy.parse({
    defaultRate: 10_000,
    syncWindows: [{ start: "01:00", end: "01:01" }],
  });
  const limiter = new BandwidthLimiter({ policy, clock });
  equal(limiter.allowed, false);
  const reader = drain(limiter.throttle(byteSource(10_000_000, 64 * 1024)));
  await clock.advance(59_999);
  equal(reader.bytes, 0);
  equal(limiter.bytesPassed, 0);
  await clock.advance(10_001);
  near(reader.bytes, 100_000, 1_000, "bytes 10 s into the window");
  await clock.advance(50_000);
  const atClose = reader.bytes;
  near(atClose, 600_000, 1_000, "bytes at the end of the window");
  await clock.advance(3_600_000);
  ok(reader.bytes <= atClose + 1_000, `bytes passed after the window closed: ${reader.bytes - atClose}`);
});

Deno.test("a policy change applies at once to a running transfer, both ways", async () => {
  const clock = new ManualClock(0);
  const limiter = new BandwidthLimiter({ policy: policyForRate(1_000), clock });
  const reader = drain(limiter.throttle(byteSource(10_000_000, 64 * 1024)));
  await clock.advance(2_000);
  near(reader.bytes, 2_000, 100, "bytes at 1 kB/s");
  limiter.setPolicy(policyForRate(100_000));
  await clock.advance(1_000);
  near(reader.bytes, 102_000, 10_100, "bytes one second after raising the cap");
  const before = reader.bytes;
  limiter.setPolicy(policyForRate(1_000));
  await clock.advance(30_000);
  // At most one in-flight 10 kB piece passes on top of the new cap's 30 kB (its debt is paid back).
  near(reader.bytes - before, 30_000, 10_100, "bytes 30 s after lowering the cap");
});

Deno.test("concurrent streams share the one cap fairly", async () => {
  const clock = new ManualClock(0);
  const limiter = new BandwidthLimiter({ policy: policyForRate(30_000), clock });
  const readers = [1, 2, 3].map(() => drain(limiter.throttle(byteSource(10_000_000, 128 * 1024))));
  await clock.advance(10_000);
  const total = readers.reduce((sum, r) => sum + r.bytes, 0);
  near(total, 300_000, 3_000, "total bytes of three streams");
  for (const r of readers) near(r.bytes, 100_000, 5_000, "one stream's share");
});

Deno.test("an aborted wait rejects and leaves the queue", async () => {
  const clock = new ManualClock(Date.parse("2025-01-06T12:00:00Z"));
  const policy = BandwidthPolicy.parse({ syncWindows: [{ start: "01:00", end: "02:00" }] });
  const limiter = new BandwidthLimiter({ policy, clock });
  const abort = new AbortController();
  const pending = limiter.take(10, abort.signal);
  await clock.advance(1_000);
  equal(limiter.waiting, 1);
  abort.abort(new Error("shutting down"));
  await rejects(pending, /shutting down/);
  equal(limiter.waiting, 0);
});

Deno.test("unlimited passes immediately and counts bytes", async () => {
  const clock = new ManualClock(0);
  const limiter = new BandwidthLimiter({ clock });
  const reader = drain(limiter.throttle(byteSource(3_000_000, 1024 * 1024)));
  await reader.done;
  deepStrictEqual([reader.bytes, limiter.bytesPassed], [3_000_000, 3_000_000]);
});

Deno.test("real time: limitedFetch holds a 512 KiB/s cap within 8% over ~3 s and keeps the bytes intact", async () => {
  const body = crypto.getRandomValues(new Uint8Array(64 * 1024));
  const total = 1536 * 1024;
  await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    const parts = Array.from({ length: total / body.length }, () => body);
    return new Response(ReadableStream.from(parts), { headers: { "content-length": String(total) } });
  });
  const limiter = new BandwidthLimiter({ policy: policyForRate(512 * 1024) });
  const url = `http://127.0.0.1:${server.addr.port}/blob`;
  const started = performance.now();
  const response = await limiter.fetch(url);
  equal(response.url, url);
  equal(response.headers.get("content-length"), String(total));
  const bytes = new Uint8Array(await response.arrayBuffer());
  const seconds = (performance.now() - started) / 1000;
  equal(bytes.byteLength, total);
  deepStrictEqual(bytes.subarray(total - body.length), body);
  const rate = total / seconds;
  const error = rate / (512 * 1024) - 1;
  ok(
    Math.abs(error) <= 0.08,
    `measured ${Math.round(rate)} B/s over ${seconds.toFixed(2)} s: error ${(error * 100).toFixed(1)}%`,
  );
});
