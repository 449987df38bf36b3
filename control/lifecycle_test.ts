import { deriveLifecycle, hasDrift } from "./lifecycle.ts";

const at = (s: number) => new Date(Date.parse("2025-01-01T00:00:00Z") + s * 1000);
const iso = (s: number) => at(s).toISOString();

Deno.test("lifecycle follows the timestamps and the report interval", () => {
  const reg = { registeredAt: iso(0), revokedAt: null };
  const cases: [Parameters<typeof deriveLifecycle>, string][] = [
    [[{ registeredAt: null, revokedAt: null }, null, 60, at(1e6)], "pending"],
    [[reg, null, 60, at(60)], "online"],
    [[reg, iso(500), 60, at(500 + 120)], "online"],
    [[reg, iso(500), 60, at(500 + 121)], "stale"],
    [[reg, iso(500), 60, at(500 + 600)], "stale"],
    [[reg, iso(500), 60, at(500 + 601)], "offline"],
    [[{ registeredAt: iso(0), revokedAt: iso(5) }, iso(4), 60, at(6)], "revoked"],
    [[{ registeredAt: null, revokedAt: iso(5) }, null, 60, at(6)], "revoked"],
  ];
  for (const [args, want] of cases) {
    const got = deriveLifecycle(...args);
    if (got !== want) throw new Error(`${JSON.stringify(args)}: ${got}, want ${want}`);
  }
});

Deno.test("drift compares every desired digest with the applied one", () => {
  const d = "sha256:" + "d".repeat(64);
  const e = "sha256:" + "e".repeat(64);
  const desired = { satellite: d, groups: { g: e } };
  if (hasDrift(desired, { satellite: { digest: d, seq: 1 }, groups: { g: { digest: e, seq: 2 } } })) {
    throw new Error("in sync reported as drift");
  }
  if (!hasDrift(desired, { satellite: { digest: d, seq: 1 }, groups: {} })) throw new Error("missing group");
  if (!hasDrift(desired, { satellite: { digest: e, seq: 1 }, groups: { g: { digest: e, seq: 2 } } })) {
    throw new Error("old satellite state");
  }
});
