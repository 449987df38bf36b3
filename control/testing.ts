/**
 * Test harness for Ground Control: a real docker-registry as the central registry with pushed
 * test images, Ground Control on a free loopback port over a KV file, a movable clock, and a small
 * JSON client. Used by the control tests and the demo.
 *
 * @example
 * ```ts ignore
 * import { startHarness } from "./testing.ts";
 * await using h = await startHarness();
 * const res = await h.admin("GET", "/api/groups");
 * ```
 * @module
 */
import { type Distribution, startDistribution } from "../tests/support/distribution.ts";
import { buildImage, type BuiltImage, pushImages } from "../tests/support/images.ts";
import type { ControlConfigInput } from "../schemas/control.ts";
import { type GroundControl, startGroundControl, type StartOptions } from "./main.ts";

/** The admin token every harness uses. */
export const ADMIN_TOKEN = "test-admin-token-0123456789";

/** A JSON answer. */
export interface JsonAnswer {
  status: number;
  headers: Headers;
  // deno-lint-ignore no-explicit-any
  body: any;
}

/** A running harness. */
export interface Harness extends AsyncDisposable {
  registry: Distribution;
  gc: GroundControl;
  /** Images pushed to the registry: `library/app:v1`, `library/app:v2`, `library/tools:1.0`. */
  images: Record<string, BuiltImage>;
  /** The clock Ground Control sees; move it with `advance`. */
  now: Date;
  advance(ms: number): void;
  dataPath: string;
  /** A request with the admin token. `body` strings are sent as-is. */
  admin(method: string, path: string, body?: unknown): Promise<JsonAnswer>;
  /** A request with any headers. */
  request(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<JsonAnswer>;
  /** Stops Ground Control and starts it again over the same KV file. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Options of {@linkcode startHarness}. */
export interface HarnessOptions {
  config?: Partial<ControlConfigInput>;
  start?: StartOptions;
  /** Skip pushing images (faster when a test needs none). */
  noImages?: boolean;
}

/**
 * Starts a registry, pushes three test images, and starts Ground Control.
 *
 * @example
 * ```ts ignore
 * const h = await startHarness({ config: { tokenTtlSeconds: 60 } });
 * await h.stop();
 * ```
 */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const registry = await startDistribution();
  const dir = await Deno.makeTempDir({ prefix: "control-test-" });
  const images: Record<string, BuiltImage> = {};
  try {
    if (!options.noImages) {
      images["library/app:v1"] = await buildImage({ seed: "app-v1", layers: [{ files: { "app": "v1" } }] });
      images["library/app:v2"] = await buildImage({ seed: "app-v2", layers: [{ files: { "app": "v2" } }] });
      images["library/tools:1.0"] = await buildImage({ seed: "tools", layers: [{ files: { "t": "1" } }] });
      await pushImages(
        registry.host,
        Object.entries(images).map(([ref, image]) => {
          const [repository, tag] = ref.split(":");
          return { repository, tag, image };
        }),
      );
    }
  } catch (e) {
    await registry.stop();
    throw e;
  }
  const dataPath = `${dir}/control.kv`;
  let current = new Date(Date.now());
  const config: ControlConfigInput = {
    listen: "127.0.0.1:0",
    dataPath,
    registry: { url: registry.url },
    adminToken: ADMIN_TOKEN,
    ...options.config,
  };
  const start = () =>
    startGroundControl(config, {
      clock: () => current,
      logLevel: "error",
      publishRetryBaseMs: 200,
      ...options.start,
    });
  let gc = await start();
  const request = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const res = await fetch(gc.url + path, {
      method,
      headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch { /* not JSON: keep the text so a test can show it */ }
    return { status: res.status, headers: res.headers, body: parsed };
  };
  const stop = async () => {
    await gc.close();
    await registry.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  const harness: Harness = {
    registry,
    get gc() {
      return gc;
    },
    images,
    get now() {
      return current;
    },
    advance: (ms) => current = new Date(current.getTime() + ms),
    dataPath,
    admin: (method, path, body) => request(method, path, body, { authorization: `Bearer ${ADMIN_TOKEN}` }),
    request,
    restart: async () => {
      await gc.close();
      gc = await start();
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
  return harness;
}

/**
 * Throws with the answer shown when the status is not `want`.
 *
 * @example
 * ```ts ignore
 * expectStatus(await h.admin("GET", "/api/groups"), 200);
 * ```
 */
export function expectStatus(answer: JsonAnswer, want: number, what = ""): JsonAnswer {
  if (answer.status !== want) {
    throw new Error(`${what} expected ${want}, got ${answer.status}: ${JSON.stringify(answer.body)}`);
  }
  return answer;
}

/**
 * A minimal valid status report body for `satellite`.
 *
 * @example
 * ```ts
 * statusReport("shop-001").satellite; // "shop-001"
 * ```
 */
export function statusReport(satellite: string, applied: unknown = { groups: {} }) {
  return {
    satellite,
    reportedAt: new Date().toISOString(),
    applied,
    versions: { satellite: "0.1.0", deno: "2.9.5" },
  };
}
