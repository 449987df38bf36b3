/**
 * Ground Control's configuration from environment variables and command-line flags (flags win),
 * checked by the `ControlConfig` zod schema. Every setting has one flag and one variable:
 *
 * | flag | variable | setting |
 * |---|---|---|
 * | `--listen` | `GROUND_CONTROL_LISTEN` | listen address `host:port` |
 * | `--public-url` | `GROUND_CONTROL_PUBLIC_URL` | URL satellites use |
 * | `--data` | `GROUND_CONTROL_DATA` | Deno KV file |
 * | `--registry-url` | `GROUND_CONTROL_REGISTRY_URL` | central registry |
 * | `--registry-public-url` | `GROUND_CONTROL_REGISTRY_PUBLIC_URL` | central registry as satellites see it |
 * | `--registry-username`/`--registry-password` | `GROUND_CONTROL_REGISTRY_USERNAME`/`_PASSWORD` | push credentials |
 * | `--namespace` | `GROUND_CONTROL_NAMESPACE` | state repository namespace (default `satellite`) |
 * | `--pull-username`/`--pull-password` | `GROUND_CONTROL_PULL_USERNAME`/`_PASSWORD` | static pull credentials for satellites |
 * | `--report-interval` | `GROUND_CONTROL_REPORT_INTERVAL` | seconds between status reports |
 * | `--token-ttl` | `GROUND_CONTROL_TOKEN_TTL` | registration token lifetime, seconds |
 * | `--max-body-bytes` | `GROUND_CONTROL_MAX_BODY_BYTES` | largest request body |
 * | `--publish-concurrency` | `GROUND_CONTROL_PUBLISH_CONCURRENCY` | concurrent state pushes |
 * | `--log-level` | `GROUND_CONTROL_LOG_LEVEL` | debug, info, warn or error |
 * | (none) | `GROUND_CONTROL_ADMIN_TOKEN` | initial admin token (never a flag: flags show in `ps`) |
 *
 * @example
 * ```ts
 * import { loadConfig } from "./config.ts";
 * const cfg = loadConfig({ GROUND_CONTROL_REGISTRY_URL: "http://127.0.0.1:5000" }, ["--listen", "127.0.0.1:9090"]);
 * cfg.listen; // "127.0.0.1:9090"
 * ```
 * @module
 */
import { ControlConfig } from "../schemas/control.ts";
import { parseOrThrow, ValidationError } from "../schemas/validate.ts";

type Setter = (cfg: Record<string, unknown>, value: string) => void;

const num = (v: string): unknown => (/^\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : v);
const at = (path: string[], convert: (v: string) => unknown = (v) => v): Setter => (cfg, value) => {
  let node = cfg;
  for (const part of path.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
  node[path.at(-1)!] = convert(value);
};

/** Flag name -> [environment variable, setter] (exported for the generated config reference). */
export const SETTINGS: Record<string, [string, Setter]> = {
  "listen": ["GROUND_CONTROL_LISTEN", at(["listen"])],
  "public-url": ["GROUND_CONTROL_PUBLIC_URL", at(["publicUrl"])],
  "data": ["GROUND_CONTROL_DATA", at(["dataPath"])],
  "registry-url": ["GROUND_CONTROL_REGISTRY_URL", at(["registry", "url"])],
  "registry-public-url": ["GROUND_CONTROL_REGISTRY_PUBLIC_URL", at(["registry", "publicUrl"])],
  "registry-username": ["GROUND_CONTROL_REGISTRY_USERNAME", at(["registry", "pushCredentials", "username"])],
  "registry-password": ["GROUND_CONTROL_REGISTRY_PASSWORD", at(["registry", "pushCredentials", "password"])],
  "namespace": ["GROUND_CONTROL_NAMESPACE", at(["registry", "namespace"])],
  "pull-username": ["GROUND_CONTROL_PULL_USERNAME", at(["pullCredentials", "username"])],
  "pull-password": ["GROUND_CONTROL_PULL_PASSWORD", at(["pullCredentials", "password"])],
  "report-interval": ["GROUND_CONTROL_REPORT_INTERVAL", at(["reportIntervalSeconds"], num)],
  "token-ttl": ["GROUND_CONTROL_TOKEN_TTL", at(["tokenTtlSeconds"], num)],
  "max-body-bytes": ["GROUND_CONTROL_MAX_BODY_BYTES", at(["maxBodyBytes"], num)],
  "publish-concurrency": ["GROUND_CONTROL_PUBLISH_CONCURRENCY", at(["publishConcurrency"], num)],
  "log-level": ["GROUND_CONTROL_LOG_LEVEL", at(["logLevel"])],
};

/**
 * Splits `--name value` / `--name=value` flags; unknown or valueless flags are errors.
 *
 * @example
 * ```ts
 * parseFlags(["--data=/var/lib/gc.kv"]); // Map { "data" => "/var/lib/gc.kv" }
 * ```
 */
export function parseFlags(args: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const match = /^--([a-z-]+)(?:=(.*))?$/s.exec(args[i]);
    const name = match?.[1];
    if (!match || !name || !(name in SETTINGS)) {
      throw new ValidationError("command line", [{
        path: args[i],
        message: `unknown flag; known flags: ${Object.keys(SETTINGS).map((f) => `--${f}`).join(" ")}`,
      }]);
    }
    const value = match[2] ?? args[++i];
    if (value === undefined) {
      throw new ValidationError("command line", [{ path: args[i - 1], message: "needs a value" }]);
    }
    out.set(name, value);
  }
  return out;
}

/**
 * Builds the configuration from the environment and flags.
 *
 * @example
 * ```ts
 * loadConfig({ GROUND_CONTROL_REGISTRY_URL: "http://127.0.0.1:5000" }, []).registry.namespace; // "satellite"
 * ```
 */
export function loadConfig(env: Record<string, string | undefined>, args: readonly string[]): ControlConfig {
  const flags = parseFlags(args);
  const raw: Record<string, unknown> = {};
  for (const [flag, [variable, set]] of Object.entries(SETTINGS)) {
    const value = flags.get(flag) ?? env[variable];
    if (value !== undefined && value !== "") set(raw, value);
  }
  if (env.GROUND_CONTROL_ADMIN_TOKEN) raw.adminToken = env.GROUND_CONTROL_ADMIN_TOKEN;
  return parseOrThrow(ControlConfig, raw, "Ground Control configuration");
}
