/**
 * The world the satellite end-to-end tests run in: a real docker-registry as the central registry,
 * the fault proxy in front of it (satellites pull through it, so bytes are counted), and Ground
 * Control started in-process with {@linkcode startGroundControl}. Helpers drive Ground Control's API
 * as an operator would.
 *
 * @example
 * ```ts
 * import { startWorld } from "./edge_harness.ts";
 * await using world = await startWorld();
 * const token = await world.createSatellite("shop-1", ["eu"]);
 * ```
 * @module
 */
import type { CredentialsProvider } from "../../control/credentials.ts";
import { startGroundControl } from "../../control/main.ts";
import { SatelliteConfig } from "../../schemas/satellite_config.ts";
import { type Distribution, startDistribution } from "../support/distribution.ts";
import { skopeoCopy } from "../support/images.ts";
import { freePort } from "../support/ports.ts";
import { type FaultProxy, startProxy } from "../support/proxy.ts";

const ADMIN = "edge-e2e-admin-token-0123456789";

/** The running world. */
export interface World extends AsyncDisposable {
  central: Distribution;
  proxy: FaultProxy;
  /** The Ground Control running now (replaced by {@linkcode World.startGroundControl}). */
  gc: Awaited<ReturnType<typeof startGroundControl>>;
  /** Stops Ground Control (its KV file stays when `dataPath` was given). */
  stopGroundControl(): Promise<void>;
  /** Starts Ground Control again on the same port and data path. */
  startGroundControl(): Promise<void>;
  /** Calls Ground Control's admin API; throws on a non-2xx answer. */
  api(method: string, path: string, body?: unknown): Promise<unknown>;
  /** PUTs a group and waits until its state is published. */
  putGroup(
    name: string,
    artifacts: { repository: string; tags?: string[]; digest?: string }[],
  ): Promise<void>;
  /** POSTs a Harbor-adapter style group state (with `deleted` flags) and waits for publication. */
  syncGroup(
    name: string,
    artifacts: { repository: string; tag: string[]; digest: string; deleted: boolean }[],
  ): Promise<void>;
  /** Creates a satellite with a fast poll schedule; returns its registration token. */
  createSatellite(name: string, groups: string[], config?: Record<string, unknown>): Promise<string>;
  /** A satellite config for a fresh data dir with a built-in registry on a free port. */
  satelliteConfig(dataDir: string, token: string, extra?: Record<string, unknown>): SatelliteConfig;
  close(): Promise<void>;
}

/** Options for {@linkcode startWorld}. */
export interface WorldOptions {
  /** Keep Ground Control's KV in this file (and on one fixed port), so it can be restarted. */
  dataPath?: string;
  /** Basic auth on the central registry (Ground Control pushes with these credentials). */
  auth?: { username: string; password: string };
  /** Pull credentials Ground Control hands to satellites (default: static, none). */
  credentials?: CredentialsProvider;
  /** Ground Control's per-device rate limit (default 50/s, burst 100). */
  deviceRateLimit?: { ratePerSecond: number; burst: number };
  /**
   * Satellites pull through the counting, fault-injecting proxy (default true). Benchmarks turn it
   * off: the proxy runs in this process and would share an in-process satellite's event loop.
   */
  pullThroughProxy?: boolean;
}

/**
 * Pulls `ref` (`repo:tag` or `repo@digest`) from a registry with skopeo into a throwaway OCI layout:
 * proof that a real client can pull it.
 *
 * @example
 * ```ts
 * await pullWithSkopeo("http://127.0.0.1:8585", "app/web:1");
 * ```
 */
export async function pullWithSkopeo(registryUrl: string, ref: string): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "skopeo-pull-" });
  try {
    await skopeoCopy(`docker://${new URL(registryUrl).host}/${ref}`, `oci:${dir}:pulled`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Polls `check` until it returns true (or throws after `timeoutMs`, naming `what`).
 *
 * @example
 * ```ts
 * await until("ready", async () => true);
 * ```
 */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
}

/**
 * Starts central registry, proxy and Ground Control.
 *
 * @example
 * ```ts
 * const world = await startWorld();
 * await world.close();
 * ```
 */
export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const central = await startDistribution({ auth: options.auth });
  const proxy = await startProxy(central.url);
  const listen = `127.0.0.1:${options.dataPath ? freePort() : 0}`;
  const start = () =>
    startGroundControl({
      listen,
      dataPath: options.dataPath ?? ":memory:",
      registry: {
        url: central.url,
        publicUrl: options.pullThroughProxy === false ? central.url : proxy.url,
        pushCredentials: options.auth,
      },
      adminToken: ADMIN,
      reportIntervalSeconds: 5,
      rateLimits: {
        device: options.deviceRateLimit ?? { ratePerSecond: 50, burst: 100 },
        admin: { ratePerSecond: 500, burst: 1000 },
      },
    }, { logLevel: "error", publishRetryBaseMs: 50, credentials: options.credentials });
  let gc = await start();
  let running = true;
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${gc.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} -> ${res.status}: ${text}`);
    return text ? JSON.parse(text) : null;
  };
  const close = async () => {
    if (running) await gc.close().catch(() => {});
    await proxy.stop().catch(() => {});
    await central.stop();
  };
  return {
    central,
    proxy,
    get gc() {
      return gc;
    },
    async stopGroundControl() {
      if (running) await gc.close();
      running = false;
    },
    async startGroundControl() {
      if (running) return;
      gc = await start();
      running = true;
    },
    api,
    async putGroup(name, artifacts) {
      await api("PUT", `/api/groups/${name}`, { artifacts });
      await gc.publisher.idle();
    },
    async syncGroup(name, artifacts) {
      await api("POST", "/api/groups/sync", {
        group: name,
        registry: central.host,
        artifacts: artifacts.map((a) => ({ ...a, type: "IMAGE" })),
      });
      await gc.publisher.idle();
    },
    async createSatellite(name, groups, config = {}) {
      const answer = await api("POST", "/api/satellites", {
        name,
        groups,
        config: { poll: { intervalSeconds: 1, jitterSeconds: 0 }, reportIntervalSeconds: 5, ...config },
      }) as { token: string };
      await gc.publisher.idle();
      return answer.token;
    },
    satelliteConfig(dataDir, token, extra = {}) {
      return SatelliteConfig.parse({
        groundControlUrl: gc.url,
        token,
        tokenFiles: [],
        dataDir,
        localRegistry: { mode: "builtin", listen: `127.0.0.1:${freePort()}` },
        ...extra,
      });
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
