import { deepStrictEqual, equal, ok, rejects, throws } from "node:assert/strict";
import type { OutboxEntry } from "../schemas/status.ts";
import { ValidationError } from "../schemas/validate.ts";
import { freePort } from "../tests/support/ports.ts";
import { ManualClock } from "./bandwidth/clock.ts";
import { Outbox, type OutboxBatch } from "./outbox.ts";

const event = (n: number): OutboxEntry => ({
  type: "event",
  event: { at: new Date(Date.UTC(2025, 0, 6, 0, 0, n)).toISOString(), kind: "test", message: `event ${n}` },
});
const numbers = (batch: OutboxBatch<OutboxEntry>) =>
  batch.items.map((i) => i.value.type === "event" ? Number(i.value.event.message.split(" ")[1]) : -1);

/** A manual clock that records every sleep it is asked for. */
class RecordingClock extends ManualClock {
  sleeps: number[] = [];
  override sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    return super.sleep(ms, signal);
  }
}

async function tempKvPath(): Promise<{ path: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "outbox-" });
  return { path: `${dir}/outbox.kv`, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

Deno.test("every queued report reaches a server that is down, then up, in order", async () => {
  await using tmp = await tempKvPath();
  const clock = new RecordingClock(0);
  await using outbox = await Outbox.open(tmp.path, { clock, random: () => 0.5, batchSize: 7 });
  for (let n = 0; n < 25; n++) await outbox.enqueue(event(n));

  const port = freePort();
  const received: number[] = [];
  const seqs: number[] = [];
  let requests = 0;
  let server: Deno.HttpServer | undefined;
  const send = async (batch: OutboxBatch<OutboxEntry>) => {
    const res = await fetch(`http://127.0.0.1:${port}/status`, {
      method: "POST",
      body: JSON.stringify(batch),
    });
    await res.body?.cancel();
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
  };
  const sendTimes: number[] = [];
  const delivery = outbox.deliver(async (batch) => {
    sendTimes.push(clock.now());
    await send(batch);
  });
  try {
    // Ground Control is down for three attempts, then comes up and fails one request with a 500.
    for (let i = 0; i < 200 && sendTimes.length < 3; i++) await clock.advance(100);
    equal(received.length, 0);
    server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, async (req) => {
      const batch = await req.json() as OutboxBatch<OutboxEntry>;
      if (++requests === 2) return new Response("busy", { status: 500 });
      received.push(...numbers(batch));
      seqs.push(...batch.items.map((i) => i.seq));
      return new Response(null, { status: 204 });
    });
    let done = false;
    delivery.then(() => done = true, () => done = true);
    for (let i = 0; i < 600 && !done; i++) await clock.advance(1_000);
    equal(await delivery, 25);
  } finally {
    await server?.shutdown();
  }
  deepStrictEqual(received, Array.from({ length: 25 }, (_, n) => n));
  deepStrictEqual(seqs, Array.from({ length: 25 }, (_, n) => n));
  equal(await outbox.size(), 0);
  // Backoff doubles per consecutive failure (1 s, 2 s, ...) with jitter: random() = 0.5 gives 75%.
  deepStrictEqual(clock.sleeps.slice(0, 2), [750, 1_500]);
  equal(clock.sleeps.at(-1), 750, "the 500 after a success starts the ladder again");
});

Deno.test("a full queue drops the oldest entries and reports how many with the next delivery", async () => {
  await using outbox = new Outbox(await Deno.openKv(":memory:"), { limit: 10 });
  for (let n = 0; n < 25; n++) await outbox.enqueue(event(n));
  equal(await outbox.size(), 10);
  equal(await outbox.dropped(), 15);
  const batches: OutboxBatch<OutboxEntry>[] = [];
  equal(await outbox.deliver((batch) => Promise.resolve(void batches.push(batch))), 10);
  equal(batches.length, 1);
  equal(batches[0].dropped, 15);
  deepStrictEqual(numbers(batches[0]), [15, 16, 17, 18, 19, 20, 21, 22, 23, 24]);
  equal(await outbox.dropped(), 0);
  outbox.kv.close();
});

Deno.test("the queue and the dropped counter survive closing and reopening the database", async () => {
  await using tmp = await tempKvPath();
  {
    await using outbox = await Outbox.open(tmp.path, { limit: 5 });
    for (let n = 0; n < 8; n++) await outbox.enqueue(event(n));
  }
  await using outbox = await Outbox.open(tmp.path, { limit: 5 });
  equal(await outbox.size(), 5);
  equal(await outbox.dropped(), 3);
  const batch = await outbox.peek();
  deepStrictEqual(numbers(batch), [3, 4, 5, 6, 7]);
  deepStrictEqual(batch.items.map((i) => i.seq), [3, 4, 5, 6, 7]);
  await outbox.enqueue(event(8));
  deepStrictEqual(numbers(await outbox.peek()), [4, 5, 6, 7, 8]);
});

Deno.test("a failed send keeps the batch; maxAttempts gives up with the error", async () => {
  const clock = new ManualClock(0);
  await using outbox = new Outbox(await Deno.openKv(":memory:"), { clock, random: () => 0 });
  await outbox.enqueue(event(1));
  const delivery = outbox.deliver(() => Promise.reject(new Error("unreachable")), { maxAttempts: 3 });
  const assertion = rejects(delivery, /unreachable/);
  await clock.advance(10_000);
  await assertion;
  equal(await outbox.size(), 1);
  // random() = 0: the lower half of the exponential ladder, capped.
  deepStrictEqual([1, 2, 3, 12].map((f) => outbox.backoffMs(f)), [500, 1_000, 2_000, 150_000]);
  outbox.kv.close();
});

Deno.test("entries are validated on enqueue; a bad one names the field and is not stored", async () => {
  await using outbox = new Outbox(await Deno.openKv(":memory:"));
  const bad = {
    type: "event",
    event: { at: "yesterday", kind: "x", message: "m" },
  } as unknown as OutboxEntry;
  await rejects(
    async () => await outbox.enqueue(bad),
    (e: unknown) => e instanceof ValidationError && e.issues[0].path === "event.at",
  );
  equal(await outbox.size(), 0);
  outbox.kv.close();
});

Deno.test("a status report larger than one KV value round-trips in parts", async () => {
  await using outbox = new Outbox(await Deno.openKv(":memory:"));
  const artifacts = Array.from({ length: 800 }, (_, i) => ({
    repository: `library/app-${i}`,
    digest: `sha256:${i.toString(16).padStart(64, "0")}`,
    status: "synced" as const,
  }));
  const report = {
    satellite: "shop-001",
    reportedAt: "2025-01-06T00:00:00Z",
    versions: { satellite: "0.1.0", deno: Deno.version.deno },
    artifacts,
  };
  ok(JSON.stringify(report).length > 70_000);
  await outbox.enqueue({ type: "status", report });
  await outbox.enqueue(event(2));
  const batch = await outbox.peek();
  equal(batch.items.length, 2);
  const first = batch.items[0].value;
  equal(first.type === "status" && first.report.artifacts.length, 800);
  throws(
    () =>
      outbox.enqueue({
        type: "status",
        report: {
          ...report,
          artifacts: [...artifacts, ...artifacts, ...artifacts, ...artifacts, ...artifacts],
        },
      }),
    RangeError,
  );
  outbox.kv.close();
});

Deno.test("endsBatch: a batch ends after each matching entry (one status report per delivery)", async () => {
  await using tmp = await tempKvPath();
  await using outbox = await Outbox.open(tmp.path, {
    endsBatch: (entry) => entry.type === "event" && entry.event.message.endsWith("0"),
  });
  for (let n = 1; n <= 25; n++) await outbox.enqueue(event(n));
  const batches: number[][] = [];
  equal(await outbox.deliver((batch) => Promise.resolve(void batches.push(numbers(batch)))), 25);
  deepStrictEqual(batches.map((b) => [b[0], b.at(-1)]), [[1, 10], [11, 20], [21, 25]]);
});
