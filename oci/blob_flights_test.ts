import { equal } from "node:assert/strict";
import { BlobFlights, Semaphore } from "./blob_flights.ts";

Deno.test("Semaphore never runs more than its limit at once", async () => {
  const limit = new Semaphore(3);
  let running = 0;
  let peak = 0;
  await Promise.all(Array.from({ length: 20 }, (_, i) =>
    limit.run(async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, i % 3));
      running--;
    })));
  equal(peak, 3);
  equal(running, 0);
});

Deno.test("BlobFlights tracks one flight per target and digest, and who holds a blob", async () => {
  const flights = new BlobFlights();
  const a = {};
  const b = {};
  let finish!: () => void;
  const transfer = new Promise<void>((r) => finish = r);
  flights.start(a, "d", transfer);
  equal(flights.pending(a, "d"), transfer);
  equal(flights.pending(b, "d"), undefined, "targets are separate");
  finish();
  await transfer;
  await Promise.resolve();
  equal(flights.pending(a, "d"), undefined, "cleared when settled");
  flights.remember(a, "d", "repo/one");
  equal(flights.holder(a, "d"), "repo/one");
  equal(flights.holder(b, "d"), undefined);
  const failed = Promise.reject(new Error("x"));
  await flights.start(a, "e", failed).catch(() => {});
  await Promise.resolve();
  equal(flights.pending(a, "e"), undefined, "cleared when failed");
});
