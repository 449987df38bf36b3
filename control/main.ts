/**
 * Ground Control's entry point (`deno task control`, also the bundle entry). Run as a script it
 * reads env and flags (`config.ts`), starts the server and prints the generated admin token on the
 * first start; imported, {@linkcode startGroundControl} runs it in-process for tests, the demo and
 * benchmarks.
 *
 * @example
 * ```ts
 * import { startGroundControl } from "./main.ts";
 * await using gc = await startGroundControl({
 *   listen: "127.0.0.1:0",
 *   dataPath: ":memory:",
 *   registry: { url: "http://127.0.0.1:5000" },
 *   adminToken: "a-long-admin-token-for-tests",
 * });
 * console.log(gc.url);
 * ```
 * @module
 */
import { RegistryClient } from "../oci/client.ts";
import { ControlConfig, type ControlConfigInput } from "../schemas/control.ts";
import { parseOrThrow, ValidationError } from "../schemas/validate.ts";
import { generateSigningKey, importSigningKey, type SigningKey } from "../state/keys.ts";
import { createLogger, redact } from "../telemetry/log.ts";
import { ensureAdminToken } from "./admin.ts";
import { createApp } from "./app.ts";
import { loadConfig } from "./config.ts";
import { createControlMetrics } from "./metrics.ts";
import type { ControlContext, LogFn } from "./context.ts";
import { type CredentialsProvider, StaticCredentialsProvider } from "./credentials.ts";
import { StatePublisher, type StateRegistry } from "./publisher.ts";
import { TokenBuckets } from "./rate_limit.ts";
import { SeenWriter } from "./seen_writer.ts";
import { KvStore } from "./store/kv.ts";
import type { ControlStore } from "./store/types.ts";

/** Optional parts to inject (tests, demo, benchmarks). */
export interface StartOptions {
  /** The clock (tests move it to expire tokens and age satellites). */
  clock?: () => Date;
  /** Pull credentials for satellites; default: static from `pullCredentials`. */
  credentials?: CredentialsProvider;
  /** Log sink; default: JSON lines on stderr at the configured `logLevel` and above. */
  log?: LogFn;
  /** Overrides the configured `logLevel`. */
  logLevel?: "debug" | "info" | "warn" | "error";
  /** Registry used for resolution and publication; default: a RegistryClient on `registry.url`. */
  registry?: StateRegistry;
  /** Store; default: Deno KV at `dataPath`. */
  store?: ControlStore;
  /** First retry delay of failed state pushes. */
  publishRetryBaseMs?: number;
}

/** A running Ground Control. */
export interface GroundControl extends AsyncDisposable {
  /** `http://host:port` it listens on. */
  url: string;
  /** The admin token generated on this (first) start, or null. */
  generatedAdminToken: string | null;
  config: ControlConfig;
  context: ControlContext;
  store: ControlStore;
  key: SigningKey;
  publisher: StatePublisher;
  /** Stops serving, waits for pushes in flight, closes the store. */
  close(): Promise<void>;
}

/** JSON log lines on stderr through the shared logger, with the configured secrets redacted. */
function defaultLog(config: ControlConfig, level: ControlConfig["logLevel"]): LogFn {
  const secrets = [
    config.adminToken,
    config.registry.pushCredentials?.password,
    config.pullCredentials?.password,
  ];
  for (const secret of secrets) if (secret) redact.add(secret);
  const logger = createLogger({ level, fields: { component: "control" } });
  return (lvl, message, fields) => logger[lvl](message, fields);
}

function listenParts(listen: string): { hostname: string; port: number } {
  const i = listen.lastIndexOf(":");
  return { hostname: listen.slice(0, i).replace(/^\[|\]$/g, ""), port: Number(listen.slice(i + 1)) };
}

/**
 * Starts Ground Control: opens the store, loads or makes the signing key, makes sure an admin token
 * exists, resumes unfinished state pushes, and serves.
 *
 * @example
 * ```ts
 * const gc = await startGroundControl({ listen: "127.0.0.1:0", dataPath: ":memory:", registry: { url: "http://127.0.0.1:5000" } });
 * await gc.close();
 * ```
 */
export async function startGroundControl(
  input: ControlConfigInput | ControlConfig,
  options: StartOptions = {},
): Promise<GroundControl> {
  const config = parseOrThrow(ControlConfig, input, "Ground Control configuration");
  const clock = options.clock ?? (() => new Date());
  const log = options.log ?? defaultLog(config, options.logLevel ?? config.logLevel);
  const store = options.store ?? await KvStore.open(config.dataPath);
  try {
    const key = await importSigningKey(
      await store.ensureSigningKey(async () => (await generateSigningKey()).privateKeyPkcs8Base64),
    );
    const generatedAdminToken = await ensureAdminToken(store, config.adminToken, clock());
    const registry = options.registry ?? new RegistryClient({
      baseUrl: config.registry.url,
      credentials: config.registry.pushCredentials,
      timeoutMs: 15_000,
      retries: 2,
    });
    const registryPublicUrl = (config.registry.publicUrl ?? config.registry.url).replace(/\/+$/, "");
    const registryPublicHost = new URL(registryPublicUrl).host;
    const publisher = new StatePublisher({
      store,
      registry,
      key,
      namespace: config.registry.namespace,
      publicHost: registryPublicHost,
      clock,
      concurrency: config.publishConcurrency,
      log,
      retryBaseMs: options.publishRetryBaseMs,
    });
    const context: ControlContext = {
      config,
      store,
      registry,
      publisher,
      seen: new SeenWriter(store),
      credentials: options.credentials ?? new StaticCredentialsProvider(config.pullCredentials),
      key,
      clock,
      limits: {
        device: new TokenBuckets(config.rateLimits.device),
        admin: new TokenBuckets(config.rateLimits.admin),
        registration: new TokenBuckets(config.rateLimits.registration),
      },
      log,
      metrics: createControlMetrics(() => ({
        pending: publisher.pending,
        retries: publisher.pendingRetries,
      })),
      registryPublicHost,
      registryPublicUrl,
      publicUrl: config.publicUrl ?? "",
    };
    const app = createApp(context);
    const server = Deno.serve({ ...listenParts(config.listen), onListen: () => {} }, app.fetch);
    const { hostname, port } = server.addr;
    const host = hostname.includes(":") ? `[${hostname}]` : hostname;
    const url = `http://${host}:${port}`;
    context.publicUrl = (config.publicUrl ?? url).replace(/\/+$/, "");
    const resumed = await publisher.resumeDirty();
    log("info", "ground control listening", { url, namespace: config.registry.namespace, resumed });
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      await server.shutdown();
      await context.seen.idle();
      await publisher.close();
      await store.close();
    };
    return {
      url,
      generatedAdminToken,
      config,
      context,
      store,
      key,
      publisher,
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (e) {
    if (!options.store) await store.close();
    throw e;
  }
}

if (import.meta.main) {
  try {
    const config = loadConfig(Deno.env.toObject(), Deno.args);
    const gc = await startGroundControl(config);
    if (gc.generatedAdminToken) {
      console.log(
        `Generated the first admin token (shown once, only its hash is stored):\n${gc.generatedAdminToken}`,
      );
    }
    console.log(`Ground Control listening on ${gc.url}`);
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      Deno.addSignalListener(signal, () => gc.close().then(() => Deno.exit(0)));
    }
  } catch (e) {
    console.error(e instanceof ValidationError ? e.message : e);
    Deno.exit(1);
  }
}
