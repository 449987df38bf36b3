import assert from "node:assert/strict";
import { SatelliteConfig } from "../schemas/satellite_config.ts";
import { createLogger, Redactor } from "../telemetry/log.ts";
import { EventLog } from "./events.ts";
import { Satellite } from "./satellite.ts";
import { logEvents, redactConfig, redactIdentity } from "./telemetry.ts";
import { freePort } from "../tests/support/ports.ts";
import type { Identity } from "./ztr.ts";

Deno.test("metrics: /metrics on the registry listener and on metricsListen, beside a working /v2/", async () => {
  const dataDir = await Deno.makeTempDir();
  const metricsPort = freePort();
  const satellite = await Satellite.open({
    config: SatelliteConfig.parse({
      dataDir,
      tokenFiles: [],
      localRegistry: { mode: "builtin", listen: "127.0.0.1:0" },
      metricsListen: `127.0.0.1:${metricsPort}`,
    }),
    cmdlinePath: "/nonexistent",
  });
  try {
    satellite.events.emit("error", "sync.failed", "boom");
    for (const url of [`${satellite.local.url}/metrics`, `http://127.0.0.1:${metricsPort}/metrics`]) {
      const res = await fetch(url);
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      for (
        const line of [
          "satellite_registered 0",
          "satellite_sync_bytes_total 0",
          "satellite_blobs 0",
          'satellite_errors_total{kind="sync.failed"} 1',
          "satellite_sync_allowed 1",
          "satellite_outbox_entries 0",
          'satellite_artifacts{status="synced"} 0',
        ]
      ) assert.ok(text.includes(`${line}\n`), `${line} in\n${text}`);
    }
    const v2 = await fetch(`${satellite.local.url}/v2/`);
    assert.equal(v2.status, 200);
    await v2.body?.cancel();
    const other = await fetch(`http://127.0.0.1:${metricsPort}/v2/`);
    assert.equal(other.status, 404, "the metrics listener serves only /metrics");
    await other.body?.cancel();
  } finally {
    await satellite.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("logs: events become JSON lines; config and identity secrets are redacted", () => {
  const redactor = new Redactor();
  const lines: string[] = [];
  const logger = createLogger({ level: "info", write: (l) => lines.push(l), redactor });
  const events = new EventLog();
  logEvents(events, logger);
  redactConfig(
    SatelliteConfig.parse({
      token: "reg-token-abcdef",
      localRegistry: { mode: "builtin", auth: { username: "u", password: "local-pass-1" } },
    }),
    redactor,
  );
  redactIdentity({
    deviceSecret: "device-secret-xyz",
    registry: { url: "http://r", credentials: { username: "robot", password: "robot-pass-9" } },
  } as Identity, redactor);
  events.emit("debug", "sync.progress", "not at info");
  events.emit("warn", "ztr.retry", "token reg-token-abcdef, secret device-secret-xyz", {
    url: "http://robot:robot-pass-9@r",
    note: "local-pass-1",
    basic: btoa("robot:robot-pass-9"),
  });
  assert.equal(lines.length, 1);
  const record = JSON.parse(lines[0]);
  assert.equal(record.level, "warn");
  assert.equal(record.kind, "ztr.retry");
  for (
    const secret of [
      "reg-token-abcdef",
      "device-secret-xyz",
      "robot-pass-9",
      "local-pass-1",
      btoa("robot:robot-pass-9"),
    ]
  ) {
    assert.ok(!lines[0].includes(secret), `${secret} leaked: ${lines[0]}`);
  }
});
