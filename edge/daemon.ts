/**
 * The long-running satellite (`satellite run`): opens the {@linkcode Satellite}, logs its events as
 * structured JSON lines (level from the config until the over-the-air `logLevel` takes over), starts
 * registration and polling, and once registered writes the container runtimes' mirror config when
 * the config says `mirror.apply`. The CLI waits for a signal and calls `stop()`; tests call it
 * directly.
 *
 * @example
 * ```ts
 * import { startDaemon } from "./daemon.ts";
 * declare const config: import("../schemas/satellite_config.ts").SatelliteConfig;
 * const daemon = await startDaemon(config, { cmdlinePath: "/proc/cmdline" });
 * await daemon.mirrorApplied;
 * await daemon.stop();
 * ```
 * @module
 */
import type { SatelliteConfig } from "../schemas/satellite_config.ts";
import { createLogger, type Logger } from "../telemetry/log.ts";
import { applyMirrorConfig } from "./mirror/apply.ts";
import { Satellite, type SatelliteOptions } from "./satellite.ts";
import { logEvents } from "./telemetry.ts";

/** A running daemon. */
export interface Daemon {
  satellite: Satellite;
  logger: Logger;
  /** Settles once the mirror config was written (or at once when `mirror.apply` is off). */
  mirrorApplied: Promise<void>;
  stop(): Promise<void>;
}

/**
 * The URL a runtime on this host should use for the local registry (`0.0.0.0` means loopback).
 *
 * @example
 * ```ts
 * loopbackUrl("http://0.0.0.0:8585"); // "http://127.0.0.1:8585"
 * ```
 */
export function loopbackUrl(url: string): string {
  return url.replace(/^(https?:\/\/)(0\.0\.0\.0|\[::\])(:\d+)/, "$1127.0.0.1$3");
}

/**
 * How mirror configs name the central registry: its host, or `http://host:port` for a plain-HTTP
 * registry (so the runtime's fallback speaks HTTP to it).
 *
 * @example
 * ```ts
 * upstreamFor("https://harbor.example.com"); // "harbor.example.com"
 * upstreamFor("http://10.0.0.5:5000"); // "http://10.0.0.5:5000"
 * ```
 */
export function upstreamFor(registryUrl: string): string {
  const url = new URL(registryUrl);
  return url.protocol === "http:" ? url.origin : url.host;
}

/**
 * Starts the satellite as a service.
 *
 * @example
 * ```ts
 * declare const config: SatelliteConfig;
 * const daemon = await startDaemon(config);
 * await daemon.stop();
 * ```
 */
export async function startDaemon(
  config: SatelliteConfig,
  options: Omit<SatelliteOptions, "config"> & { logger?: Logger } = {},
): Promise<Daemon> {
  const logger = options.logger ??
    createLogger({ level: config.logLevel, fields: { component: "satellite" } });
  const satellite = await Satellite.open({ ...options, config });
  logEvents(satellite.events, logger);
  // Once registered, the over-the-air log level applies (the config's only until then).
  satellite.events.on((event) => {
    if (event.kind === "config.applied") logger.level = satellite.ota.logLevel;
  });
  satellite.registered.then(() => logger.level = satellite.ota.logLevel, () => {});
  logger.info("satellite started", {
    localRegistry: satellite.local.mode,
    url: satellite.local.url,
    metrics: `${loopbackUrl(satellite.local.url)}/metrics`,
  });
  satellite.start();
  const mirrorApplied = config.mirror.apply && config.mirror.runtimes.length > 0
    ? satellite.registered.then(async (identity) => {
      for (const runtime of config.mirror.runtimes) {
        try {
          const plan = await applyMirrorConfig({
            runtime,
            root: config.mirror.root,
            localUrl: loopbackUrl(satellite.local.url),
            upstreamHost: upstreamFor(identity.registry.url),
            apply: true,
          });
          logger.info("runtime mirror config applied", {
            runtime,
            files: plan.files.map((f) => ({ path: f.fullPath, changed: f.changed, backup: f.backup })),
            notes: plan.notes,
          });
        } catch (e) {
          logger.error("runtime mirror config failed", { runtime, error: (e as Error).message });
        }
      }
    })
    : Promise.resolve();
  return {
    satellite,
    logger,
    mirrorApplied: mirrorApplied.catch(() => {}),
    async stop() {
      await satellite.stop();
      logger.info("satellite stopped");
    },
  };
}
