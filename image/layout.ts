/**
 * Where everything lives on the appliance (paths relative to `/`, as tar entry names), and the
 * default satellite config an image ships. The systemd units in `systemd/` use the same paths.
 *
 * @example
 * ```ts
 * import { LAYOUT, defaultApplianceConfig } from "./layout.ts";
 * LAYOUT.satelliteJs; // "opt/satellite/lib/satellite.js"
 * defaultApplianceConfig({ withZot: true }).localRegistry;
 * ```
 * @module
 */
import { SatelliteConfig } from "../schemas/satellite_config.ts";
import { parseOrThrow } from "../schemas/validate.ts";

/** Appliance paths, relative to the root. */
export const LAYOUT = {
  deno: "opt/satellite/bin/deno",
  zot: "opt/satellite/bin/zot",
  satelliteJs: "opt/satellite/lib/satellite.js",
  tokenHandoff: "opt/satellite/libexec/satellite-token-handoff",
  buildInfo: "opt/satellite/build.json",
  satelliteConfig: "etc/satellite/config.json",
  zotConfig: "etc/zot/config.json",
  zotHtpasswd: "etc/zot/htpasswd",
  unitDir: "etc/systemd/system",
  wantsDir: "etc/systemd/system/multi-user.target.wants",
  bootDir: "boot/firmware/satellite",
  token: "boot/firmware/satellite/token",
} as const;

/** The satellite's data dir on the appliance (systemd `StateDirectory=satellite`). */
export const APPLIANCE_DATA_DIR = "/var/lib/satellite";

/** Zot's address on the appliance: loopback, where the satellite pushes and the runtime pulls. */
export const APPLIANCE_ZOT_URL = "http://127.0.0.1:5000";

/**
 * The config an image ships at `/etc/satellite/config.json` (before provisioning adds the Ground
 * Control URL). The token is first looked for in the state dir, where satellite.service's hand-off
 * puts the boot partition's token, then in the usual places.
 *
 * @example
 * ```ts
 * defaultApplianceConfig({ withZot: false }).localRegistry; // { mode: "builtin" }
 * ```
 */
export function defaultApplianceConfig(options: { withZot: boolean }): Record<string, unknown> {
  const document: Record<string, unknown> = {
    dataDir: APPLIANCE_DATA_DIR,
    tokenFiles: [`${APPLIANCE_DATA_DIR}/token`, `/${LAYOUT.token}`, "/etc/satellite/token"],
    localRegistry: options.withZot ? { mode: "external", url: APPLIANCE_ZOT_URL } : { mode: "builtin" },
    logLevel: "info",
  };
  parseOrThrow(SatelliteConfig, document, "default appliance config");
  return document;
}
