/**
 * The satellite CLI (`deno task satellite -- <command>`, and the bundle/compile entry).
 *
 * ```
 * satellite [global flags] run                 register on first boot, serve, poll, reconcile, report
 * satellite [global flags] status [--json]     what this device holds (read from the local database)
 * satellite [global flags] sync --once         one poll + reconcile, then exit (service stopped)
 * satellite [global flags] mirror-config ...   runtime mirror config (see edge/mirror/cli.ts)
 *
 * global flags: --config FILE (default /etc/satellite/config.json) --data-dir DIR --token TOKEN
 *   --ground-control URL --listen HOST:PORT --registry-url URL (external local registry)
 *   --log-level debug|info|warn|error --cmdline FILE (default /proc/cmdline)
 * ```
 *
 * @example
 * ```ts
 * import { main } from "./main.ts";
 * const code = await main(["status", "--json", "--data-dir", "/tmp/satellite"]);
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import type { SatelliteConfig } from "../schemas/satellite_config.ts";
import { LogLevel } from "../schemas/satellite_state.ts";
import { ValidationError } from "../schemas/validate.ts";
import { AppliedStore } from "./applied.ts";
import { type ConfigOverrides, DEFAULT_CONFIG_PATH, loadConfig } from "./config.ts";
import { SatelliteDb } from "./db.ts";
import type { SatelliteEvent } from "./events.ts";
import { mirrorConfigCommand } from "./mirror/cli.ts";
import { ArtifactRecords } from "./records.ts";
import { Satellite } from "./satellite.ts";
import { type SatelliteStatus, snapshotStatus } from "./status.ts";
import { DEFAULT_CMDLINE_PATH } from "./token.ts";
import { loadIdentity } from "./ztr.ts";

const USAGE = `usage: satellite [--config FILE] [--data-dir DIR] [--token TOKEN] [--ground-control URL]
                 [--listen HOST:PORT] [--registry-url URL] [--log-level LEVEL] [--cmdline FILE]
                 <run | status [--json] | sync --once | mirror-config --runtime RUNTIME [--apply]>`;

const LEVELS = LogLevel.options;

/**
 * Writes an event as one JSON line on stderr when its level is at or above `level`.
 *
 * @example
 * ```ts
 * logEvent({ at: new Date().toISOString(), level: "info", kind: "boot", message: "up" }, "info");
 * ```
 */
export function logEvent(event: SatelliteEvent, level: LogLevel): void {
  if (LEVELS.indexOf(event.level) < LEVELS.indexOf(level)) return;
  console.error(JSON.stringify({ ...event, data: event.data }));
}

/** Global flags and the rest of the arguments. */
function parseGlobal(args: string[]) {
  const { values, positionals } = parseArgs({
    args,
    options: {
      config: { type: "string" },
      "data-dir": { type: "string" },
      token: { type: "string" },
      "ground-control": { type: "string" },
      listen: { type: "string" },
      "registry-url": { type: "string" },
      "log-level": { type: "string" },
      cmdline: { type: "string" },
      json: { type: "boolean", default: false },
      once: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: false,
    allowPositionals: true,
  });
  const str = (v: unknown) => typeof v === "string" ? v : undefined;
  const flags: ConfigOverrides = {
    dataDir: str(values["data-dir"]),
    token: str(values.token),
    groundControlUrl: str(values["ground-control"]),
    listen: str(values.listen),
    registryUrl: str(values["registry-url"]),
    logLevel: str(values["log-level"]),
  };
  for (const key of Object.keys(flags) as (keyof ConfigOverrides)[]) {
    if (flags[key] === undefined) delete flags[key];
  }
  return {
    configPath: str(values.config) ?? DEFAULT_CONFIG_PATH,
    cmdlinePath: str(values.cmdline) ?? Deno.env.get("SATELLITE_CMDLINE_PATH") ?? DEFAULT_CMDLINE_PATH,
    flags,
    json: values.json === true,
    once: values.once === true,
    help: values.help === true,
    command: positionals[0],
  };
}

/**
 * What the local database says, without starting anything (for `satellite status`).
 *
 * @example
 * ```ts
 * declare const config: SatelliteConfig;
 * const status = await readStoredStatus(config);
 * ```
 */
export async function readStoredStatus(config: SatelliteConfig): Promise<SatelliteStatus> {
  await using db = await SatelliteDb.open(config.dataDir);
  const identity = await loadIdentity(db) ?? undefined;
  const applied = await new AppliedStore(db, config.dataDir).load();
  const records = (await ArtifactRecords.load(db)).all();
  const local = config.localRegistry.mode === "external"
    ? { mode: "external", url: config.localRegistry.url }
    : { mode: "builtin", url: `http://${config.localRegistry.listen}` };
  return snapshotStatus({
    identity,
    local,
    satellite: applied.satellite,
    groups: applied.groups,
    records,
    bytesSynced: 0,
    converged: records.every((r) => r.status === "synced"),
    lastError: records.find((r) => r.status === "failed")?.error ?? null,
  });
}

/**
 * Human-readable status.
 *
 * @example
 * ```ts
 * declare const status: SatelliteStatus;
 * console.log(formatStatus(status));
 * ```
 */
export function formatStatus(status: SatelliteStatus): string {
  const lines = [
    `satellite:       ${status.satellite ?? "(not registered)"}`,
    `local registry:  ${status.localRegistry.mode} ${status.localRegistry.url}`,
    `central:         ${status.centralRegistry ?? "-"}`,
    `state:           ${status.applied.satellite ? `seq ${status.applied.satellite.seq}` : "none yet"}`,
    `groups:          ${
      Object.entries(status.applied.groups).map(([n, g]) => `${n} (seq ${g.seq})`).join(", ") || "-"
    }`,
    `artifacts:       ${status.counts.synced} synced, ${status.counts.pending} pending, ${status.counts.failed} failed`,
  ];
  for (const a of status.artifacts) {
    lines.push(
      `  ${a.status.padEnd(8)} ${a.repository}@${a.digest.slice(0, 19)} ${a.tags.join(",")}${
        a.error ? `  ${a.error}` : ""
      }`,
    );
  }
  return lines.join("\n");
}

/** Runs until SIGTERM/SIGINT. */
async function run(config: SatelliteConfig, cmdlinePath: string): Promise<number> {
  const satellite = await Satellite.open({ config, cmdlinePath });
  satellite.events.on((e) => logEvent(e, satellite.identity ? satellite.ota.logLevel : config.logLevel));
  satellite.events.emit(
    "info",
    "satellite.started",
    `local registry (${satellite.local.mode}) at ${satellite.local.url}`,
  );
  const stopped = Promise.withResolvers<void>();
  const onSignal = () => stopped.resolve();
  for (const signal of ["SIGTERM", "SIGINT"] as const) Deno.addSignalListener(signal, onSignal);
  satellite.start();
  if (config.mirror.apply && config.mirror.runtimes.length > 0) {
    satellite.registered.then((identity) =>
      mirrorConfigCommand(["--apply"], {
        localUrl: satellite.local.url,
        upstreamHost: new URL(identity.registry.url).host,
        root: config.mirror.root,
        runtimes: config.mirror.runtimes,
      })
    ).catch(() => {});
  }
  await stopped.promise;
  for (const signal of ["SIGTERM", "SIGINT"] as const) Deno.removeSignalListener(signal, onSignal);
  await satellite.stop();
  return 0;
}

/** One poll and reconcile with the service stopped. */
async function syncOnce(config: SatelliteConfig, cmdlinePath: string, json: boolean): Promise<number> {
  const satellite = await Satellite.open({ config, cmdlinePath, serve: false });
  satellite.events.on((e) => logEvent(e, config.logLevel));
  try {
    const report = await satellite.pollOnce();
    await satellite.flushStatus();
    const status = satellite.status();
    console.log(
      json
        ? JSON.stringify({ ...status, poll: { requests: report.outcome.requests, ms: report.ms } })
        : formatStatus(status),
    );
    return status.counts.failed > 0 || report.outcome.errors.length > 0 ? 1 : 0;
  } finally {
    await satellite.stop();
  }
}

/**
 * The CLI. Returns the exit code.
 *
 * @example
 * ```ts
 * await main(["--help"]);
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const mirrorAt = args.indexOf("mirror-config");
  const parsed = parseGlobal(mirrorAt >= 0 ? args.slice(0, mirrorAt + 1) : args);
  if (parsed.help || !parsed.command) {
    console.log(USAGE);
    return parsed.help ? 0 : 2;
  }
  let config: SatelliteConfig;
  try {
    config = await loadConfig({ path: parsed.configPath, env: Deno.env.toObject(), flags: parsed.flags });
  } catch (e) {
    console.error(e instanceof ValidationError ? e.message : `cannot read config: ${(e as Error).message}`);
    return 2;
  }
  switch (parsed.command) {
    case "run":
      return await run(config, parsed.cmdlinePath);
    case "status": {
      const status = await readStoredStatus(config);
      console.log(parsed.json ? JSON.stringify(status, null, 2) : formatStatus(status));
      return 0;
    }
    case "sync":
      if (!parsed.once) {
        console.error("sync needs --once (the service syncs continuously with `run`)");
        return 2;
      }
      return await syncOnce(config, parsed.cmdlinePath, parsed.json);
    case "mirror-config": {
      const identity = await readStoredStatus(config).catch(() => undefined);
      return await mirrorConfigCommand(args.slice(mirrorAt + 1), {
        localUrl: config.localRegistry.mode === "external"
          ? config.localRegistry.url
          : `http://${config.localRegistry.listen.replace(/^0\.0\.0\.0:/, "127.0.0.1:")}`,
        upstreamHost: identity?.centralRegistry ? new URL(identity.centralRegistry).host : undefined,
        root: config.mirror.root,
        runtimes: config.mirror.runtimes.length > 0 ? config.mirror.runtimes : undefined,
      });
    }
    default:
      console.error(`unknown command ${parsed.command}\n${USAGE}`);
      return 2;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
