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
  mode: z.literal("builtin"),
  listen: ListenAddress.default("0.0.0.0:8585"),
  /** Allow clients on the network to push and delete (off on the edge by default). */
  writable: z.boolean().default(false),
  auth: BasicCredentials.optional(),
  tls: z.object({ certFile: z.string().min(1), keyFile: z.string().min(1) }).optional(),
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
  mode: z.literal("external"),
  url: z.url({ protocol: /^https?$/, error: "must be an http(s) URL such as http://127.0.0.1:5000" }),
  auth: BasicCredentials.optional(),
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
  /** Ground Control's base URL; needed for first boot and status reports. */
  groundControlUrl: z.url({
    protocol: /^https?$/,
    error: "must be an http(s) URL such as https://gc.example.com",
  })
    .optional(),
  /** A registration token (prefer a token file or the kernel command line on devices). */
  token: z.string().min(1).optional(),
  /** Token files tried in order; a used file is retired (renamed to `<file>.used`). */
  tokenFiles: z.array(z.string().min(1)).default(["/boot/firmware/satellite/token", "/etc/satellite/token"]),
  /** Where the store, the KV database and backups live. */
  dataDir: z.string().min(1).default("/var/lib/satellite"),
  localRegistry: z.discriminatedUnion("mode", [BuiltinRegistryConfig, ExternalRegistryConfig]).default({
    mode: "builtin",
    listen: "0.0.0.0:8585",
    writable: false,
  }),
  mirror: z.object({
    /** Write runtime mirror config on start. */
    apply: z.boolean().default(false),
    runtimes: z.array(Runtime).default([]),
    /** Root under which runtime config paths are written (tests and image builds use a staging dir). */
    root: z.string().default("/"),
  }).default({ apply: false, runtimes: [], root: "/" }),
  logLevel: LogLevel.default("info"),
  /** Bound on queued status reports and events while Ground Control is unreachable. */
  outboxLimit: z.number().int().min(10).max(1_000_000).default(10_000),
});
/** The satellite config. */
export type SatelliteConfig = z.infer<typeof SatelliteConfig>;
