/**
 * The behaviour every {@linkcode ControlStore} backend must show, as a reusable test suite: run it
 * for Deno KV now and for PostgreSQL when that backend lands.
 *
 * @example
 * ```ts ignore
 * import { runStoreContract } from "./contract.ts";
 * import { KvStore } from "./kv.ts";
 * runStoreContract("kv", async () => {
 *   const path = await Deno.makeTempFile();
 *   return { store: await KvStore.open(path), reopen: () => KvStore.open(path), cleanup: () => Deno.remove(path) };
 * });
 * ```
 * @module
 */
import { OtaConfig } from "../../schemas/satellite_state.ts";
import type { GroupState } from "../../schemas/group_state.ts";
import type { ControlStore, SatelliteRecord } from "./types.ts";

/** A fresh store, a way to open it again after `close()`, and a way to remove it. */
export interface StoreFixture {
  store: ControlStore;
  /** Opens the same data again (after the test closed `store`): the restart check. */
  reopen(): Promise<ControlStore>;
  cleanup(): Promise<void>;
}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`store contract: ${message}`);
}

/**
 * A satellite record as the API would create it.
 *
 * @example
 * ```ts
 * newSatelliteRecord("shop-001", ["g"], "sha256:" + "a".repeat(64), new Date()).name; // "shop-001"
 * ```
 */
export function newSatelliteRecord(
  name: string,
  groups: string[],
  tokenHash: string | null,
  now: Date,
): SatelliteRecord {
  return {
    name,
    groups,
    config: OtaConfig.parse({}),
    createdAt: now.toISOString(),
    registeredAt: null,
    revokedAt: null,
    device: null,
    tokenHash,
    tokenExpiresAt: tokenHash ? new Date(now.getTime() + 3_600_000).toISOString() : null,
    deviceSecretHash: null,
    revision: 1,
    published: { seq: 0, digest: null, revision: 0 },
  };
}

const h = (s: string) => `sha256:${s.padEnd(64, "0")}`;

function bigGroup(n: number): GroupState {
  return {
    registry: "registry.example.com",
    artifacts: Array.from({ length: n }, (_, i) => ({
      repository: `library/app-${i}`,
      tag: [`v${i}`, "stable"],
      digest: h(i.toString(16)),
      type: "IMAGE",
      deleted: false,
    })),
  };
}

/**
 * Registers the contract tests for one backend under `store contract (<name>): ...`.
 *
 * @example
 * ```ts ignore
 * runStoreContract("kv", makeKvFixture);
 * ```
 */
export function runStoreContract(name: string, makeStore: () => Promise<StoreFixture>): void {
  const test = (title: string, body: (fx: StoreFixture) => Promise<void>) =>
    Deno.test(`store contract (${name}): ${title}`, async () => {
      const fx = await makeStore();
      try {
        await body(fx);
      } finally {
        await fx.store.close().catch(() => {});
        await fx.cleanup();
      }
    });

  test("the signing key is made once and kept", async ({ store }) => {
    const first = await store.ensureSigningKey(() => Promise.resolve("key-1"));
    const second = await store.ensureSigningKey(() => Promise.resolve("key-2"));
    check(first === "key-1" && second === "key-1", `got ${first}, ${second}`);
  });

  test("seq numbers are distinct and increasing under concurrency", async ({ store }) => {
    const seqs = await Promise.all(Array.from({ length: 20 }, () => store.nextSeq("group", "g")));
    const sorted = [...seqs].sort((a, b) => a - b);
    check(sorted.every((s, i) => s === i + 1), `seqs ${sorted.join(",")}`);
    check((await store.nextSeq("satellite", "g")) === 1, "kinds share a counter");
  });

  test("admin tokens are found by hash only", async ({ store }) => {
    await store.addAdminToken({
      hash: h("a1"),
      id: "a1",
      label: "bootstrap",
      createdAt: "2025-01-01T00:00:00Z",
    });
    check((await store.findAdminToken(h("a1")))?.id === "a1", "token not found");
    check((await store.findAdminToken(h("a2"))) === null, "unknown token found");
    check((await store.countAdminTokens()) === 1, "count");
  });

  test("groups: put, get, list, summaries, revision, delete; large states survive", async ({ store }) => {
    const now = new Date("2025-01-01T00:00:00Z");
    const large = bigGroup(3000);
    const first = await store.putGroup("big", large, now);
    check(first.revision === 1 && first.published.seq === 0, "first revision");
    const again = await store.putGroup("big", large, now);
    check(again.revision === 2, `revision ${again.revision}`);
    const read = await store.getGroup("big");
    check(read?.state.artifacts.length === 3000, "large state lost artifacts");
    check(read.state.artifacts[2999].repository === "library/app-2999", "large state corrupted");
    await store.putGroup("small", { registry: "r", artifacts: [] }, now);
    check((await store.listGroups()).map((g) => g.name).sort().join() === "big,small", "list");
    const sums = await store.getGroupSummaries(["big", "small", "absent"]);
    check(sums.size === 2 && sums.get("big")?.artifactCount === 3000, "summaries");
    check(await store.deleteGroup("big"), "delete said absent");
    check(!(await store.deleteGroup("big")), "second delete said present");
    check((await store.getGroup("big")) === null, "deleted group still there");
  });

  test("satellites: names are unique, updates are read-modify-write", async ({ store }) => {
    const now = new Date("2025-01-01T00:00:00Z");
    check(
      await store.createSatellite(newSatelliteRecord("s1", ["g"], h("t1"), now), now.toISOString()),
      "create",
    );
    check(
      !(await store.createSatellite(newSatelliteRecord("s1", [], h("t2"), now), now.toISOString())),
      "dup",
    );
    await Promise.all(
      Array.from(
        { length: 10 },
        () => store.updateSatellite("s1", (cur) => ({ ...cur, revision: cur.revision + 1 })),
      ),
    );
    check((await store.getSatellite("s1"))?.revision === 11, "lost update");
    check((await store.updateSatellite("nope", (c) => c)) === null, "updated an absent satellite");
    check((await store.listSatellites()).length === 1, "list");
  });

  test("token exchange: exactly one of many concurrent redeems wins", async ({ store }) => {
    const now = new Date("2025-01-01T00:00:00Z");
    await store.createSatellite(newSatelliteRecord("s1", [], h("tok"), now), "2025-01-02T00:00:00Z");
    const results = await Promise.all(
      Array.from(
        { length: 25 },
        (_, i) =>
          store.redeemToken({ tokenHash: h("tok"), deviceSecretHash: h(`sec${i}`), device: null, now }),
      ),
    );
    const winners = results.filter((r) => r !== null);
    check(winners.length === 1, `${winners.length} winners`);
    const secret = winners[0]!.deviceSecretHash!;
    check((await store.findBySecret(secret))?.name === "s1", "winner's secret not usable");
    const losers = results.map((_, i) => h(`sec${i}`)).filter((s) => s !== secret);
    for (const s of losers) check((await store.findBySecret(s)) === null, "a loser's secret works");
    check((await store.getSatellite("s1"))?.registeredAt === now.toISOString(), "registeredAt");
    const again = await store.redeemToken({
      tokenHash: h("tok"),
      deviceSecretHash: h("x"),
      device: null,
      now,
    });
    check(again === null, "a used token worked again");
  });

  test("expired, unknown and replaced tokens do not redeem", async ({ store }) => {
    const now = new Date("2025-01-01T00:00:00Z");
    await store.createSatellite(newSatelliteRecord("s1", [], h("old"), now), "2025-01-01T01:00:00Z");
    const late = new Date("2025-01-01T01:00:00Z");
    check(
      (await store.redeemToken({
        tokenHash: h("old"),
        deviceSecretHash: h("x"),
        device: null,
        now: late,
      })) === null,
      "expired token redeemed",
    );
    check(
      (await store.redeemToken({ tokenHash: h("zzz"), deviceSecretHash: h("x"), device: null, now })) ===
        null,
      "unknown token redeemed",
    );
    check((await store.issueToken("s1", h("new"), "2025-01-03T00:00:00Z")) !== null, "reissue");
    check(
      (await store.redeemToken({ tokenHash: h("old"), deviceSecretHash: h("x"), device: null, now })) ===
        null,
      "replaced token redeemed",
    );
    const ok = await store.redeemToken({
      tokenHash: h("new"),
      deviceSecretHash: h("sec"),
      device: { hostname: "box" },
      now: late,
    });
    check(ok?.device?.hostname === "box", "fresh token did not redeem");
  });

  test("revocation kills the device secret and any token, and is idempotent", async ({ store }) => {
    const now = new Date("2025-01-01T00:00:00Z");
    await store.createSatellite(newSatelliteRecord("s1", [], h("tok"), now), "2025-01-02T00:00:00Z");
    await store.redeemToken({ tokenHash: h("tok"), deviceSecretHash: h("sec"), device: null, now });
    await store.issueToken("s1", h("tok2"), "2025-01-02T00:00:00Z");
    const revoked = await store.revokeSatellite("s1", now);
    check(revoked?.revokedAt === now.toISOString(), "revokedAt");
    check((await store.findBySecret(h("sec"))) === null, "revoked secret still works");
    check(
      (await store.redeemToken({ tokenHash: h("tok2"), deviceSecretHash: h("y"), device: null, now })) ===
        null,
      "token of a revoked satellite redeemed",
    );
    check((await store.issueToken("s1", h("tok3"), "2025-01-02T00:00:00Z")) === null, "token for revoked");
    check((await store.revokeSatellite("s1", new Date()))?.revokedAt === now.toISOString(), "not idempotent");
    check((await store.revokeSatellite("absent", now)) === null, "revoked an absent satellite");
  });

  test("status records are kept apart and listed", async ({ store }) => {
    const status = {
      reportedAt: "2025-01-01T00:00:00Z",
      applied: { groups: {} },
      counts: { desired: 1, synced: 1, pending: 0, failed: 0 },
      lastError: null,
      diskFree: null,
      version: "0.1.0",
    };
    await store.recordSeen("s1", { lastSeenAt: "2025-01-01T00:00:01Z", status });
    await store.recordSeen("s2", { lastSeenAt: "2025-01-01T00:00:02Z", status });
    check((await store.getSeen("s1"))?.lastSeenAt === "2025-01-01T00:00:01Z", "get");
    check((await store.listSeen()).size === 2, "list");
    const many = Array.from(
      { length: 450 },
      (_, i) => [`m${i}`, { lastSeenAt: "2025-01-01T00:00:03Z", status }] as const,
    );
    await store.recordSeenMany([...many, ["s1", { lastSeenAt: "2025-01-01T00:00:04Z", status }]]);
    check((await store.listSeen()).size === 452, "recordSeenMany lost entries");
    check(
      (await store.getSeen("s1"))?.lastSeenAt === "2025-01-01T00:00:04Z",
      "recordSeenMany did not overwrite",
    );
  });

  test("pushes are recorded newest-wins and dirty names are listed", async ({ store }) => {
    const now = new Date("2025-01-01T00:00:00Z");
    await store.putGroup("g", { registry: "r", artifacts: [] }, now);
    await store.createSatellite(newSatelliteRecord("s1", ["g"], null, now), now.toISOString());
    check((await store.listDirty("group")).join() === "g", "group not dirty");
    check((await store.listDirty("satellite")).join() === "s1", "satellite not dirty");
    await store.markPublished("group", "g", { seq: 2, digest: h("d2"), revision: 1 });
    await store.markPublished("group", "g", { seq: 1, digest: h("d1"), revision: 1 });
    check((await store.getGroup("g"))?.published.digest === h("d2"), "an older push overwrote a newer");
    check((await store.listDirty("group")).length === 0, "published group still dirty");
    await store.putGroup("g", { registry: "r", artifacts: [] }, now);
    check((await store.listDirty("group")).join() === "g", "changed group not dirty");
    await store.revokeSatellite("s1", now);
    check((await store.listDirty("satellite")).length === 0, "revoked satellite listed as dirty");
  });

  test("everything survives close and reopen", async (fx) => {
    const now = new Date("2025-01-01T00:00:00Z");
    const key = await fx.store.ensureSigningKey(() => Promise.resolve("kept-key"));
    await fx.store.nextSeq("group", "g");
    await fx.store.addAdminToken({ hash: h("adm"), id: "adm", label: "x", createdAt: now.toISOString() });
    await fx.store.putGroup("g", bigGroup(1500), now);
    await fx.store.createSatellite(newSatelliteRecord("s1", ["g"], h("tok"), now), "2025-01-02T00:00:00Z");
    await fx.store.close();
    fx.store = await fx.reopen();
    const store = fx.store;
    check((await store.ensureSigningKey(() => Promise.resolve("other"))) === key, "key changed");
    check((await store.nextSeq("group", "g")) === 2, "seq reused after reopen");
    check((await store.findAdminToken(h("adm"))) !== null, "admin token lost");
    check((await store.getGroup("g"))?.state.artifacts.length === 1500, "group lost");
    const redeemed = await store.redeemToken({
      tokenHash: h("tok"),
      deviceSecretHash: h("s"),
      device: null,
      now,
    });
    check(redeemed?.name === "s1", "token lost");
  });
}
