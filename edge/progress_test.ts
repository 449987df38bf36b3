import assert from "node:assert/strict";
import { EventLog } from "./events.ts";
import { formatBytes, formatDuration, SyncProgress } from "./progress.ts";
import { formatStatus, formatTable } from "./status_table.ts";
import { snapshotStatus } from "./status.ts";

const ARTIFACT = "sha256:" + "a".repeat(64);
const BLOB = "sha256:" + "b".repeat(64);

function drive(tty: boolean) {
  let now = 0;
  const out: string[] = [];
  const events = new EventLog();
  const progress = new SyncProgress(events, { tty, write: (t) => out.push(t), now: () => now });
  const data = { repository: "app/web", artifact: ARTIFACT, digest: BLOB, size: 4 * 1024 * 1024 };
  events.emit("debug", "sync.progress", "", { ...data, type: "bytes", bytes: 1024 * 1024 });
  now = 1000;
  events.emit("debug", "sync.progress", "", { ...data, type: "bytes", bytes: 2 * 1024 * 1024 });
  now = 2000;
  events.emit("debug", "sync.progress", "", { ...data, type: "blob", state: "copied" });
  events.emit("info", "sync.artifact", "synced", { repository: "app/web", digest: ARTIFACT, bytes: 4 });
  events.emit("error", "sync.failed", "app/db@x: digest mismatch", { repository: "app/db", digest: BLOB });
  progress.finish();
  return out.join("");
}

Deno.test("progress: bars with bytes, rate and ETA on a terminal; plain lines otherwise", () => {
  const tty = drive(true);
  assert.ok(tty.includes("\x1b[2K"), "lines are cleared and redrawn");
  assert.match(tty, /app\/web@sha256:aaaaaaaaaaaa \[#+\.+\] 2\.0 MiB\/4\.0 MiB 2\.0 MiB\/s ETA 1s/);
  assert.ok(tty.includes("synced  app/web@sha256:aaaaaaaaaaaa 4.0 MiB in 2s"));
  const plain = drive(false);
  assert.ok(!plain.includes("\x1b"), "no escapes when not a terminal");
  assert.deepEqual(plain.trimEnd().split("\n"), [
    "synced  app/web@sha256:aaaaaaaaaaaa 4.0 MiB in 2s (2.0 MiB/s)",
    "failed  app/db@sha256:bbbbbbbbbbbb 0 B/0 B 0 B/s: app/db@x: digest mismatch",
  ]);
  assert.equal(formatBytes(512), "512 B");
  assert.equal(formatDuration(3725), "1h02m");
});

Deno.test("status table: summary and one row per artifact", () => {
  assert.equal(formatTable([["A", "BB"], ["ccc", "d"]]), "A    BB\nccc  d");
  const status = snapshotStatus({
    local: { mode: "builtin", url: "http://127.0.0.1:8585" },
    satellite: null,
    groups: new Map(),
    records: [
      {
        repository: "app/web",
        digest: ARTIFACT,
        tags: ["1"],
        groups: ["eu"],
        status: "synced",
        updatedAt: "2025-01-01T00:00:00Z",
      },
      {
        repository: "app/db",
        digest: BLOB,
        tags: [],
        groups: ["eu", "us"],
        status: "failed",
        error: "boom",
        updatedAt: "2025-01-01T00:00:00Z",
      },
    ],
    bytesSynced: 0,
    converged: false,
    lastError: "1 artifact(s) failed to sync",
  });
  const text = formatStatus(status);
  assert.match(text, /^satellite: +\(not registered\)$/m);
  assert.match(text, /^STATUS +REPOSITORY +DIGEST +TAGS +GROUPS$/m);
  assert.match(text, /^synced +app\/web +sha256:aaaaaaaaaaaa +1 +eu$/m);
  assert.match(text, /^failed +app\/db +sha256:bbbbbbbbbbbb +- +eu,us$/m);
  assert.match(text, /^error app\/db@sha256:bbbbbbbbbbbb: boom$/m);
});
