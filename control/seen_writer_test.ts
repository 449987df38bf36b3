import { SeenWriter } from "./seen_writer.ts";
import { KvStore } from "./store/kv.ts";

const status = {
  reportedAt: "2025-01-01T00:00:00Z",
  applied: { groups: {} },
  counts: { desired: 0, synced: 0, pending: 0, failed: 0 },
  lastError: null,
  diskFree: null,
  version: "0.1.0",
};

Deno.test("concurrent reports are committed in few batches, each caller after its own commit", async () => {
  const store = await KvStore.open(":memory:");
  try {
    const writer = new SeenWriter(store);
    await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        writer.record(`s${i % 250}`, {
          lastSeenAt: `2025-01-01T00:00:${String(i % 60).padStart(2, "0")}Z`,
          status,
        })
          .then(async () => {
            if (!(await store.getSeen(`s${i % 250}`))) {
              throw new Error("acknowledged before committed");
            }
          })),
    );
    if (writer.commits > 10) throw new Error(`${writer.commits} commits for 500 concurrent reports`);
    if ((await store.listSeen()).size !== 250) throw new Error("lost reports");
    await writer.idle();
  } finally {
    await store.close();
  }
});

Deno.test("a failed commit rejects its callers and the next report still goes through", async () => {
  const store = await KvStore.open(":memory:");
  let fail = true;
  const flaky = Object.create(store) as KvStore;
  flaky.recordSeenMany = (entries) =>
    fail ? Promise.reject(new Error("disk full")) : store.recordSeenMany(entries);
  try {
    const writer = new SeenWriter(flaky);
    let rejected = false;
    await writer.record("a", { lastSeenAt: "2025-01-01T00:00:00Z", status }).catch(() => rejected = true);
    if (!rejected) throw new Error("failure not reported");
    fail = false;
    await writer.record("a", { lastSeenAt: "2025-01-01T00:00:01Z", status });
    if ((await store.getSeen("a"))?.lastSeenAt !== "2025-01-01T00:00:01Z") throw new Error("not recorded");
  } finally {
    await store.close();
  }
});
