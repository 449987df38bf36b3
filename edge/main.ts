/**
 * The satellite CLI (`deno task satellite -- <command>`, and the bundle/compile entry).
 *
 * ```
 * satellite [global flags] run                 register on first boot, serve, poll, reconcile, report
 * satellite [global flags] status [--json]     what this device holds (read from the local database)
 * satellite [global flags] sync --once         one poll + reconcile, then exit (service stopped)
 * satellite [global flags] mirror-config ...   runtime mirror config (see edge/mirror/cli.ts)
 *
 * global flags: --config FILE (default $SATELLITE_CONFIG, else /etc/satellite/config.json) --data-dir DIR --token TOKEN
 *   --ground-control URL --listen HOST:PORT --registry-url URL (external local registry)
 *   --log-level debug|info|warn|error --cmdline FILE (default /proc/cmdline)
 *
 * exit codes:
 *   0  ok (sync: every desired artifact is synced)
 *   1  sync failed for some artifacts (the others are synced and served), or outside the sync
 *      windows of the bandwidth policy (nothing fetched)
 *   2  usage or config error
 *   3  not registered: no usable registration token, or Ground Control refused it
 *   4  Ground Control or the central registry unreachable (nothing could be checked)
 * ```
 *
 * `run` logs one JSON object per line on stderr (`telemetry/log.ts`; secrets are redacted) and
 * serves Prometheus metrics at `/metrics` on the local registry's listener (and on `metricsListen`).
 * `sync --once` draws per-image progress bars (bytes, rate, ETA) on a terminal and prints one plain
 * line per image otherwise; the final status goes to stdout (`--json` for scripts).
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
import { ValidationError } from "../schemas/validate.ts";
import { AppliedStore } from "./applied.ts";
import { type ConfigOverrides, DEFAULT_CONFIG_PATH, loadConfig } from "./config.ts";
import { SatelliteDb } from "./db.ts";
import { mirrorConfigCommand } from "./mirror/cli.ts";
import { ArtifactRecords } from "./records.ts";
import { createLogger } from "../telemetry/log.ts";
import { SyncWindowClosedError } from "./bandwidth/windows.ts";
import { loopbackUrl, startDaemon, upstreamFor } from "./daemon.ts";
import { SyncProgress } from "./progress.ts";
import { Satellite } from "./satellite.ts";
import { formatStatus } from "./status_table.ts";
import { diskFree, type SatelliteStatus, snapshotStatus } from "./status.ts";
import { logEvents } from "./telemetry.ts";
import { DEFAULT_CMDLINE_PATH } from "./token.ts";
import { loadIdentity, NotRegisteredError } from "./ztr.ts";

/** Exit codes of the CLI (see the module doc). */
export const EXIT = { ok: 0, syncFailed: 1, usage: 2, notRegistered: 3, unreachable: 4 } as const;

/** Usage text, with the exit codes. */
export const USAGE = `usage: satellite [--config FILE] [--data-dir DIR] [--token TOKEN] [--ground-control URL]
                 [--listen HOST:PORT] [--registry-url URL] [--log-level LEVEL] [--cmdline FILE]
                 <run | status [--json] | sync --once [--json] | mirror-config --runtime RUNTIME [--apply]>
exit codes: 0 ok, 1 sync failed for some artifacts (or outside sync windows), 2 usage or config error,
            3 not registered (no usable token, or it was refused), 4 Ground Control or registry unreachable`;

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
    configPath: str(values.config) ?? Deno.env.get("SATELLITE_CONFIG") ?? DEFAULT_CONFIG_PATH,
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
    diskFree: await diskFree(config.dataDir),
    converged: applied.satellite !== null && records.every((r) => r.status === "synced"),
    lastError: records.find((r) => r.status === "failed")?.error ?? null,
  });
}

/** Runs until SIGTERM/SIGINT. */
async function run(config: SatelliteConfig, cmdlinePath: string): Promise<number> {
  const daemon = await startDaemon(config, { cmdlinePath });
  const stopped = Promise.withResolvers<void>();
  const onSignal = () => stopped.resolve();
  for (const signal of ["SIGTERM", "SIGINT"] as const) Deno.addSignalListener(signal, onSignal);
  await stopped.promise;
  for (const signal of ["SIGTERM", "SIGINT"] as const) Deno.removeSignalListener(signal, onSignal);
  await daemon.stop();
  return EXIT.ok;
}

/** One registration attempt (if needed), one poll and reconcile, with the service stopped. */
async function syncOnce(config: SatelliteConfig, cmdlinePath: string, json: boolean): Promise<number> {
  const satellite = await Satellite.open({
    config,
    cmdlinePath,
    serve: false,
    ztrAttempts: 1,
    noSyncWindowWait: true,
  });
  const logger = createLogger({ level: config.logLevel, fields: { component: "satellite" } });
  logEvents(satellite.events, logger);
  const encoder = new TextEncoder();
  // With --json, stdout carries only the JSON document; progress lines go to stderr.
  const progressOut = json ? Deno.stderr : Deno.stdout;
  const progress = new SyncProgress(satellite.events, {
    tty: !json && Deno.stdout.isTerminal(),
    write: (text) => progressOut.writeSync(encoder.encode(text)),
    columns: Deno.stdout.isTerminal() ? Deno.consoleSize().columns : undefined,
  });
  try {
    let report;
    try {
      report = await satellite.pollOnce();
    } catch (e) {
      if (e instanceof NotRegisteredError) {
        logger.error(`not registered: ${e.message}`);
        return EXIT.notRegistered;
      }
      if (e instanceof SyncWindowClosedError) {
        logger.error(`${e.message} (bandwidth policy); nothing synced`);
        return EXIT.syncFailed;
      }
      logger.error(`cannot reach Ground Control: ${(e as Error).message}`);
      return EXIT.unreachable;
    } finally {
      progress.finish();
    }
    if (await satellite.flushStatus() === 0 && await satellite.outbox.size() > 0) {
      logger.warn("status report queued: Ground Control did not take it now; `run` delivers it later");
    }
    const status = satellite.status();
    console.log(
      json
        ? JSON.stringify({ ...status, poll: { requests: report.outcome.requests, ms: report.ms } })
        : formatStatus(status),
    );
    if (status.counts.failed > 0) return EXIT.syncFailed;
    return report.outcome.errors.length > 0 ? EXIT.unreachable : EXIT.ok;
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
    return parsed.help ? EXIT.ok : EXIT.usage;
  }
  let config: SatelliteConfig;
  try {
    config = await loadConfig({ path: parsed.configPath, env: Deno.env.toObject(), flags: parsed.flags });
  } catch (e) {
    const message = e instanceof ValidationError ? e.message : `cannot read config: ${(e as Error).message}`;
    // The daemon logs JSON lines (journald); the other commands talk to a person.
    if (parsed.command === "run") createLogger({ fields: { component: "satellite" } }).error(message);
    else console.error(message);
    return EXIT.usage;
  }
  switch (parsed.command) {
    case "run":
      return await run(config, parsed.cmdlinePath);
    case "status": {
      const status = await readStoredStatus(config);
      console.log(parsed.json ? JSON.stringify(status, null, 2) : formatStatus(status));
      return EXIT.ok;
    }
    case "sync":
      if (!parsed.once) {
        console.error("sync needs --once (the service syncs continuously with `run`)");
        return EXIT.usage;
      }
      return await syncOnce(config, parsed.cmdlinePath, parsed.json);
    case "mirror-config": {
      const identity = await readStoredStatus(config).catch(() => undefined);
      return await mirrorConfigCommand(args.slice(mirrorAt + 1), {
        localUrl: config.localRegistry.mode === "external"
          ? config.localRegistry.url
          : loopbackUrl(`http://${config.localRegistry.listen}`),
        upstreamHost: identity?.centralRegistry ? upstreamFor(identity.centralRegistry) : undefined,
        root: config.mirror.root,
        runtimes: config.mirror.runtimes.length > 0 ? config.mirror.runtimes : undefined,
      });
    }
    default:
      console.error(`unknown command ${parsed.command}\n${USAGE}`);
      return EXIT.usage;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
