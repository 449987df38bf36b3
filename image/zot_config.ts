/**
 * Zot's `config.json`, generated from the satellite config so the two always agree: the satellite's
 * external local registry URL (`http://127.0.0.1:5000`) becomes Zot's listen address and port, Zot
 * stores under the satellite's data dir, and the satellite's credentials for it become Zot's only
 * writer (anonymous pulls stay open for the container runtime).
 *
 * Only the subset of Zot's format (v2, distribution spec 1.1) that this module emits is modelled,
 * by {@linkcode ZotConfig}, and every generated config is validated against it.
 *
 * @example
 * ```ts
 * import { SatelliteConfig } from "../schemas/satellite_config.ts";
 * import { zotConfigFromSatellite } from "./zot_config.ts";
 * const sat = SatelliteConfig.parse({ localRegistry: { mode: "external", url: "http://127.0.0.1:5000" } });
 * const { config } = await zotConfigFromSatellite(sat);
 * config.http.port; // "5000"
 * ```
 * @module
 */
import { z } from "zod";
import bcrypt from "bcryptjs";
import { SatelliteConfig } from "../schemas/satellite_config.ts";
import { parseOrThrow, ValidationError } from "../schemas/validate.ts";

/** Zot's config path on the appliance. */
export const ZOT_CONFIG_PATH = "/etc/zot/config.json";
/** Zot's htpasswd path on the appliance (written only when the satellite has credentials for Zot). */
export const ZOT_HTPASSWD_PATH = "/etc/zot/htpasswd";

const Action = z.enum(["read", "create", "update", "delete"]);

/**
 * The subset of Zot's config that {@linkcode zotConfigFromSatellite} emits.
 *
 * @example
 * ```ts
 * ZotConfig.parse({
 *   distSpecVersion: "1.1.1",
 *   storage: { rootDirectory: "/var/lib/satellite/zot", dedupe: true, gc: true },
 *   http: { address: "127.0.0.1", port: "5000" },
 *   log: { level: "info" },
 * });
 * ```
 */
export const ZotConfig = z.strictObject({
  distSpecVersion: z.string().regex(/^\d+\.\d+\.\d+(-dev)?$/),
  storage: z.strictObject({
    rootDirectory: z.string().startsWith("/", "must be an absolute path"),
    dedupe: z.boolean(),
    gc: z.boolean(),
    gcDelay: z.string().regex(/^\d+[smh]$/).optional(),
    gcInterval: z.string().regex(/^\d+[smh]$/).optional(),
  }),
  http: z.strictObject({
    address: z.string().min(1),
    // Zot takes the port as a string.
    port: z.string().regex(/^\d{1,5}$/).refine((p) => Number(p) >= 1 && Number(p) <= 65535, "1..65535"),
    realm: z.string().optional(),
    tls: z.strictObject({ cert: z.string().min(1), key: z.string().min(1) }).optional(),
    auth: z.strictObject({
      htpasswd: z.strictObject({ path: z.string().startsWith("/") }),
      failDelay: z.number().int().min(0).optional(),
    }).optional(),
    accessControl: z.strictObject({
      repositories: z.record(
        z.string(),
        z.strictObject({
          anonymousPolicy: z.array(Action).optional(),
          defaultPolicy: z.array(Action).optional(),
          policies: z.array(z.strictObject({ users: z.array(z.string().min(1)), actions: z.array(Action) }))
            .optional(),
        }),
      ),
    }).optional(),
  }),
  log: z.strictObject({ level: z.enum(["debug", "info", "warn", "error"]), output: z.string().optional() }),
});
/** Zot's config (the subset we emit). */
export type ZotConfig = z.infer<typeof ZotConfig>;

/** Choices the satellite config does not carry. */
export interface ZotConfigOptions {
  /** Listen address instead of the URL's host, e.g. `0.0.0.0` to serve other hosts on the LAN. */
  listenAddress?: string;
  /** Certificate and key; required when the external URL is https. */
  tls?: { cert: string; key: string };
  /** Where the htpasswd file lives on the device. */
  htpasswdPath?: string;
  /** bcrypt cost for the htpasswd entry (tests use a low one). */
  bcryptCost?: number;
}

/** Zot's config plus the htpasswd file it references, if any. */
export interface GeneratedZotConfig {
  config: ZotConfig;
  /** Contents for {@linkcode ZOT_HTPASSWD_PATH}, when the satellite has credentials for Zot. */
  htpasswd?: string;
}

/**
 * Zot's storage root for a satellite data dir.
 *
 * @example
 * ```ts
 * zotRootDirectory("/var/lib/satellite"); // "/var/lib/satellite/zot"
 * ```
 */
export function zotRootDirectory(dataDir: string): string {
  return `${dataDir.replace(/\/+$/, "")}/zot`;
}

/**
 * Builds Zot's config from a satellite config whose local registry is `external`.
 *
 * @example
 * ```ts
 * import { SatelliteConfig } from "../schemas/satellite_config.ts";
 * const sat = SatelliteConfig.parse({
 *   localRegistry: { mode: "external", url: "http://127.0.0.1:5000", auth: { username: "sat", password: "pw" } },
 * });
 * const { config, htpasswd } = await zotConfigFromSatellite(sat, { bcryptCost: 4 });
 * ```
 */
export async function zotConfigFromSatellite(
  satellite: SatelliteConfig,
  options: ZotConfigOptions = {},
): Promise<GeneratedZotConfig> {
  const registry = satellite.localRegistry;
  if (registry.mode !== "external") {
    throw new ValidationError("satellite config for zot", [{
      path: "localRegistry.mode",
      message: `is "${registry.mode}"; Zot serves only when it is "external" with url http://<host>:<port>`,
    }]);
  }
  const url = new URL(registry.url);
  if (url.pathname !== "/" || url.search || url.hash) {
    throw new ValidationError("satellite config for zot", [{
      path: "localRegistry.url",
      message: `Zot serves at the root of its host; drop the path from ${registry.url}`,
    }]);
  }
  const https = url.protocol === "https:";
  if (https && !options.tls) {
    throw new ValidationError("satellite config for zot", [{
      path: "localRegistry.url",
      message: "is https: give Zot a certificate and key (tls option), or use http on loopback",
    }]);
  }
  const port = url.port || (https ? "443" : "80");
  // URL keeps IPv6 hosts bracketed; Zot wants the bare address.
  const address = options.listenAddress ?? url.hostname.replace(/^\[(.*)\]$/, "$1");

  const http: ZotConfig["http"] = { address, port };
  if (options.tls) http.tls = options.tls;
  let htpasswd: string | undefined;
  if (registry.auth) {
    const { username, password } = registry.auth;
    if (username.includes(":")) {
      throw new ValidationError("satellite config for zot", [{
        path: "localRegistry.auth.username",
        message: "must not contain ':' (htpasswd separator)",
      }]);
    }
    htpasswd = `${username}:${await bcrypt.hash(password, options.bcryptCost ?? 10)}\n`;
    http.realm = "zot";
    http.auth = { htpasswd: { path: options.htpasswdPath ?? ZOT_HTPASSWD_PATH }, failDelay: 1 };
    http.accessControl = {
      repositories: {
        "**": {
          anonymousPolicy: ["read"],
          policies: [{ users: [username], actions: ["read", "create", "update", "delete"] }],
        },
      },
    };
  }

  const config = parseOrThrow(ZotConfig, {
    distSpecVersion: "1.1.1",
    storage: {
      rootDirectory: zotRootDirectory(satellite.dataDir),
      dedupe: true,
      gc: true,
      gcDelay: "1h",
      gcInterval: "24h",
    },
    http,
    // No output file: Zot logs to stdout, which systemd sends to the journal.
    log: { level: satellite.logLevel },
  }, "generated zot config");
  return htpasswd === undefined ? { config } : { config, htpasswd };
}

/**
 * Reads a satellite config document (already parsed JSON) and returns Zot's config for it.
 *
 * @example
 * ```ts
 * const { config } = await zotConfigFromSatelliteJson({
 *   localRegistry: { mode: "external", url: "http://127.0.0.1:5000" },
 * });
 * ```
 */
export async function zotConfigFromSatelliteJson(
  document: unknown,
  options: ZotConfigOptions = {},
): Promise<GeneratedZotConfig> {
  return await zotConfigFromSatellite(parseOrThrow(SatelliteConfig, document, "satellite config"), options);
}
