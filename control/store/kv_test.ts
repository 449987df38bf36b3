import { newSatelliteRecord, runStoreContract } from "./contract.ts";
import { KvStore } from "./kv.ts";

runStoreContract("kv", async () => {
  const dir = await Deno.makeTempDir({ prefix: "control-kv-" });
  const path = `${dir}/control.kv`;
  return {
    store: await KvStore.open(path),
    reopen: () => KvStore.open(path),
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
});

Deno.test("kv: the satellite cache never serves a record older than the last write", async () => {
  const store = await KvStore.open(":memory:");
  try {
    const h = (s: string) => `sha256:${s.padEnd(64, "0")}`;
    const now = new Date("2025-01-01T00:00:00Z");
    await store.createSatellite(newSatelliteRecord("s1", [], h("t"), now), "2025-01-02T00:00:00Z");
    await store.redeemToken({ tokenHash: h("t"), deviceSecretHash: h("d"), device: null, now });
    if ((await store.findBySecret(h("d")))?.name !== "s1") throw new Error("not found");
    await store.updateSatellite("s1", (c) => ({ ...c, groups: ["g"], revision: c.revision + 1 }));
    if ((await store.findBySecret(h("d")))?.groups[0] !== "g") throw new Error("stale after update");
    await store.markPublished("satellite", "s1", { seq: 3, digest: h("m"), revision: 2 });
    if ((await store.getSatellite("s1"))?.published.seq !== 3) throw new Error("stale after markPublished");
    // Reads racing a revocation must not leave the pre-revocation record cached.
    await Promise.all([
      ...Array.from({ length: 20 }, () => store.findBySecret(h("d"))),
      store.revokeSatellite("s1", now),
      ...Array.from({ length: 20 }, () => store.getSatellite("s1")),
    ]);
    if ((await store.findBySecret(h("d"))) !== null) {
      throw new Error("revoked secret still served from cache");
    }
    if (!(await store.getSatellite("s1"))?.revokedAt) throw new Error("stale after revoke");
  } finally {
    await store.close();
  }
});
