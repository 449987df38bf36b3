/**
 * Loading the satellite's configuration: the JSON file (missing file = defaults), then `SATELLITE_*`
 * environment variables, then command-line flags, each layer on top of the one before, and the
 * result validated by {@linkcode SatelliteConfig} so every mistake names its field.
 *
 * @example
 * ```ts
 * import { loadConfig } from "./config.ts";
 * const config = await loadConfig({ path: "/nonexistent.json", env: {}, flags: { dataDir: "/tmp/sat" } });
 * config.dataDir; // "/tmp/sat"
 * ```
 * @module
 */
import { SatelliteConfig } from "../schemas/satellite_config.ts";
import { parseOrThrow, ValidationError } from "../schemas/validate.ts";

/** The default config file path. */
export const DEFAULT_CONFIG_PATH = "/etc/satellite/config.json";

/** Settings that flags and env can override (each maps to one config field). */
export interface ConfigOverrides {
  groundControlUrl?: string;
  token?: string;
  dataDir?: string;
  logLevel?: string;
  /** Built-in registry listen address (`host:port`). */
  listen?: string;
  /** URL of an external local registry; switches the mode to `external`. */
  registryUrl?: string;
  /** Token files, tried in order. */
  tokenFiles?: string[];
}

/** Environment variable for each override. */
export const ENV_NAMES: Record<keyof ConfigOverrides, string> = {
  groundControlUrl: "SATELLITE_GROUND_CONTROL_URL",
  token: "SATELLITE_TOKEN",
  dataDir: "SATELLITE_DATA_DIR",
  logLevel: "SATELLITE_LOG_LEVEL",
  listen: "SATELLITE_LISTEN",
  registryUrl: "SATELLITE_REGISTRY_URL",
  tokenFiles: "SATELLITE_TOKEN_FILES",
};

/**
 * Reads the overrides from an environment (`SATELLITE_TOKEN_FILES` is colon-separated).
 *
 * @example
 * ```ts
 * overridesFromEnv({ SATELLITE_DATA_DIR: "/data" }).dataDir; // "/data"
 * ```
 */
export function overridesFromEnv(env: Record<string, string | undefined>): ConfigOverrides {
  const out: ConfigOverrides = {};
  for (const [field, name] of Object.entries(ENV_NAMES) as [keyof ConfigOverrides, string][]) {
    const value = env[name];
    if (value === undefined || value === "") continue;
    if (field === "tokenFiles") out.tokenFiles = value.split(":").filter(Boolean);
    else out[field] = value;
  }
  return out;
}

/** Applies overrides onto a raw (not yet validated) config document. */
function applyOverrides(raw: Record<string, unknown>, o: ConfigOverrides): Record<string, unknown> {
  const next: Record<string, unknown> = { ...raw };
  if (o.groundControlUrl !== undefined) next.groundControlUrl = o.groundControlUrl;
  if (o.token !== undefined) next.token = o.token;
  if (o.dataDir !== undefined) next.dataDir = o.dataDir;
  if (o.logLevel !== undefined) next.logLevel = o.logLevel;
  if (o.tokenFiles !== undefined) next.tokenFiles = o.tokenFiles;
  const registry = (typeof raw.localRegistry === "object" && raw.localRegistry) ? raw.localRegistry : {};
  if (o.registryUrl !== undefined) {
    next.localRegistry = { ...registry, mode: "external", url: o.registryUrl };
  } else if (o.listen !== undefined) {
    next.localRegistry = { mode: "builtin", ...registry, listen: o.listen };
  }
  return next;
}

/** Where the config comes from. */
export interface LoadConfigOptions {
  /** Config file; a missing file means defaults. */
  path: string;
  /** Environment (pass `Deno.env.toObject()`). */
  env?: Record<string, string | undefined>;
  /** Flag values, which win over env and file. */
  flags?: ConfigOverrides;
}

/**
 * Reads, layers and validates the config. Throws {@linkcode ValidationError} naming the file and the
 * field for bad JSON or bad values.
 *
 * @example
 * ```ts
 * const config = await loadConfig({ path: "/etc/satellite/config.json", env: Deno.env.toObject() });
 * ```
 */
export async function loadConfig(options: LoadConfigOptions): Promise<SatelliteConfig> {
  let raw: Record<string, unknown> = {};
  let text: string | undefined;
  try {
    text = await Deno.readTextFile(options.path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  if (text !== undefined && text.trim() !== "") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new ValidationError(`config file ${options.path}`, [{
        path: "",
        message: `not valid JSON (${(e as Error).message})`,
      }]);
    }
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new ValidationError(`config file ${options.path}`, [{
        path: "",
        message: "must be a JSON object",
      }]);
    }
    raw = parsed as Record<string, unknown>;
  }
  raw = applyOverrides(raw, overridesFromEnv(options.env ?? {}));
  raw = applyOverrides(raw, options.flags ?? {});
  return parseOrThrow(SatelliteConfig, raw, `satellite config (${options.path} + env + flags)`);
}
