/**
 * The satellite's config file (`/etc/satellite/config.json`). Env and flags are applied on top of it
 * by the edge CLI; everything here has a default so an empty file (or none) is valid.
 *
 * @example
 * ```ts
 * import { SatelliteConfig } from "./satellite_config.ts";
 * const cfg = SatelliteConfig.parse({ groundControlUrl: "https://gc.example.com" });
 * cfg.localRegistry.mode; // "builtin"
 * ```
 * @module
 */
import { z } from "zod";
import { LogLevel } from "./satellite_state.ts";

/** Container runtimes whose mirror config the satellite can write. */
export const Runtime = z.enum(["containerd", "crio", "podman", "docker", "k3s"]);
/** A container runtime. */
export type Runtime = z.infer<typeof Runtime>;

/**
 * A `host:port` listen address.
 *
 * @example
 * ```ts
 * ListenAddress.parse("127.0.0.1:8585");
 * ```
 */
export const ListenAddress = z.string().regex(
  /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/,
  "must be host:port, e.g. 0.0.0.0:8585 or [::1]:8585",
);

/** Basic credentials. */
export const BasicCredentials = z.object({ username: z.string().min(1), password: z.string().min(1) });
/** Basic credentials. */
export type BasicCredentials = z.infer<typeof BasicCredentials>;

/**
 * The built-in local registry (default).
 *
 * @example
 * ```ts
 * BuiltinRegistryConfig.parse({ mode: "builtin" });
 * ```
 */
export const BuiltinRegistryConfig = z.object({
  mode: z.literal("builtin").describe("`builtin`: the satellite serves its own registry"),
  listen: ListenAddress.default("0.0.0.0:8585").describe(
    "where the built-in registry listens (`host:port`); container runtimes pull from here",
  ),
  writable: z.boolean().default(false).describe(
    "allow clients on the network to push and delete (off on the edge: only the satellite writes)",
  ),
  auth: BasicCredentials.optional().describe("require HTTP basic auth from pulling clients"),
  tls: z.object({
    certFile: z.string().min(1).describe("PEM certificate file"),
    keyFile: z.string().min(1).describe("PEM private key file"),
  }).optional().describe("serve HTTPS instead of HTTP"),
});

/**
 * An external local registry, such as the appliance's Zot.
 *
 * @example
 * ```ts
 * ExternalRegistryConfig.parse({ mode: "external", url: "http://127.0.0.1:5000" });
 * ```
 */
export const ExternalRegistryConfig = z.object({
  mode: z.literal("external").describe("`external`: write into another registry (the appliance's Zot)"),
  url: z.url({ protocol: /^https?$/, error: "must be an http(s) URL such as http://127.0.0.1:5000" })
    .describe("the external registry's URL; the satellite writes there and runtimes pull from there"),
  auth: BasicCredentials.optional().describe("credentials for the external registry"),
});

/**
 * The satellite config file.
 *
 * @example
 * ```ts
 * SatelliteConfig.parse({});
 * ```
 */
export const SatelliteConfig = z.object({
  groundControlUrl: z.url({
    protocol: /^https?$/,
    error: "must be an http(s) URL such as https://gc.example.com",
  })
    .optional()
    .describe("Ground Control's base URL; needed for the first registration and for status reports"),
  token: z.string().min(1).optional().describe(
    "a registration token (on devices prefer a token file or `satellite.token=` on the kernel command line)",
  ),
  tokenFiles: z.array(z.string().min(1)).default(["/boot/firmware/satellite/token", "/etc/satellite/token"])
    .describe("token files tried in order; a used one is retired (renamed to `<file>.used`)"),
  dataDir: z.string().min(1).default("/var/lib/satellite").describe(
    "where the image store, the KV database (identity, applied states, outbox) and backups live",
  ),
  localRegistry: z.discriminatedUnion("mode", [BuiltinRegistryConfig, ExternalRegistryConfig]).default({
    mode: "builtin",
    listen: "0.0.0.0:8585",
    writable: false,
  }).describe("the registry the satellite fills and container runtimes pull from"),
  mirror: z.object({
    apply: z.boolean().default(false).describe(
      "write the runtimes' mirror config on start (see `satellite mirror-config`)",
    ),
    runtimes: z.array(Runtime).default([]).describe("runtimes to configure"),
    root: z.string().default("/").describe(
      "root under which runtime config paths are written (image builds use a staging dir)",
    ),
  }).default({ apply: false, runtimes: [], root: "/" }).describe(
    "point container runtimes at the local registry, with the central one as fallback",
  ),
  logLevel: LogLevel.default("info").describe(
    "log level before registration; once registered, the over-the-air `logLevel` applies",
  ),
  metricsListen: ListenAddress.optional().describe(
    "also serve Prometheus `/metrics` here (the built-in registry's listener always serves it; set this in external mode)",
  ),
  outboxLimit: z.number().int().min(10).max(1_000_000).default(10_000).describe(
    "most status reports and events kept while Ground Control is unreachable (the oldest are dropped)",
  ),
});
/** The satellite config. */
export type SatelliteConfig = z.infer<typeof SatelliteConfig>;
