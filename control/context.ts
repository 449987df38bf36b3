/**
 * Everything a Ground Control route needs, built once by `main.ts` and passed to each route
 * module: config, store, registry, publisher, credentials, signing key, clock, rate limits, logger.
 *
 * @example
 * ```ts
 * import type { ControlContext } from "./context.ts";
 * function now(ctx: ControlContext) {
 *   return ctx.clock().toISOString();
 * }
 * ```
 * @module
 */
import type { ControlConfig } from "../schemas/control.ts";
import type { SigningKey } from "../state/keys.ts";
import type { CredentialsProvider } from "./credentials.ts";
import type { ControlMetrics } from "./metrics.ts";
import type { StatePublisher, StateRegistry } from "./publisher.ts";
import type { TokenBuckets } from "./rate_limit.ts";
import type { SeenWriter } from "./seen_writer.ts";
import type { ControlStore } from "./store/types.ts";

/** A structured log call. */
export type LogFn = (
  level: "debug" | "info" | "warn" | "error",
  message: string,
  fields?: Record<string, unknown>,
) => void;

/** The shared context of all routes. */
export interface ControlContext {
  config: ControlConfig;
  store: ControlStore;
  registry: StateRegistry;
  publisher: StatePublisher;
  /** Group-commit writer of status reports. */
  seen: SeenWriter;
  credentials: CredentialsProvider;
  key: SigningKey;
  clock: () => Date;
  limits: { device: TokenBuckets; admin: TokenBuckets; registration: TokenBuckets };
  log: LogFn;
  metrics: ControlMetrics;
  /** `host[:port]` of the central registry as satellites reach it. */
  registryPublicHost: string;
  /** Base URL of the central registry as satellites reach it. */
  registryPublicUrl: string;
  /** How satellites reach Ground Control (config `publicUrl`, else the listen URL once bound). */
  publicUrl: string;
}
