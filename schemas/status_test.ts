import { deepStrictEqual, equal, throws } from "node:assert/strict";
import { OutboxEntry, StatusReport, StatusResponse } from "./status.ts";
import { parseOrThrow, ValidationError } from "./validate.ts";

const digest = "sha256:" + "a".repeat(64);

Deno.test("a minimal status report gets its defaults", () => {
  const report = StatusReport.parse({
    satellite: "shop-001",
    reportedAt: "2025-01-31T12:00:00Z",
    versions: { satellite: "0.1.0", deno: "2.9.5" },
  });
  deepStrictEqual(report.applied, { groups: {} });
  deepStrictEqual(report.counts, { desired: 0, synced: 0, pending: 0, failed: 0 });
  equal(report.diskFree, null);
  equal(report.dropped, 0);
  deepStrictEqual(report.events, []);
});

Deno.test("a bad artifact digest or date is reported with its field path", () => {
  const base = {
    satellite: "s",
    reportedAt: "2025-01-31T12:00:00Z",
    versions: { satellite: "1", deno: "2" },
  };
  const badDigest = {
    ...base,
    artifacts: [{ repository: "library/nginx", digest: "sha256:nope", status: "synced" }],
  };
  throws(
    () => parseOrThrow(StatusReport, badDigest, "status report"),
    (e: unknown) => e instanceof ValidationError && e.issues[0].path === "artifacts[0].digest",
  );
  throws(
    () => parseOrThrow(StatusReport, { ...base, reportedAt: "yesterday" }, "status report"),
    (e: unknown) => e instanceof ValidationError && e.issues[0].path === "reportedAt",
  );
});

Deno.test("status response with rotated credentials and group digests", () => {
  const res = StatusResponse.parse({
    desired: { satellite: digest, groups: { "stores-eu": digest } },
    credentials: { username: "robot$a", password: "p", expiresAt: "2025-03-01T00:00:00+01:00" },
  });
  equal(res.desired.groups["stores-eu"], digest);
  throws(() => StatusResponse.parse({ desired: { groups: { "Bad Name": digest } } }));
});

Deno.test("outbox entries are either a report or an event", () => {
  const e = OutboxEntry.parse({
    type: "event",
    event: { at: "2025-01-31T12:00:00Z", kind: "boot", message: "up" },
  });
  equal(e.type, "event");
  throws(() => OutboxEntry.parse({ type: "other" }));
});
