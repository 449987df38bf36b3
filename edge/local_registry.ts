/**
 * The satellite's local registry, behind one interface for the sync engine: the built-in registry
 * (a {@linkcode LocalRegistry} over `<dataDir>/registry`, served over HTTP at once, before
 * registration and while offline) or an external one at a URL (the appliance's Zot; any
 * distribution-spec registry), written through the registry client.
 *
 * @example
 * ```ts
 * import { openLocalRegistry } from "./local_registry.ts";
 * import { SatelliteConfig } from "../schemas/satellite_config.ts";
 * const local = await openLocalRegistry(SatelliteConfig.parse({ dataDir: await Deno.makeTempDir(), localRegistry: { mode: "builtin", listen: "127.0.0.1:0" } }));
 * console.log(local.url);
 * await local.close();
 * ```
 * @module
 */
import type { SatelliteConfig } from "../schemas/satellite_config.ts";
import { RegistryClient } from "../oci/client.ts";
import { collectGarbage } from "../oci/registry/gc.ts";
import { type LocalRegistry, openLocalRegistry as openStore } from "../oci/registry/local.ts";
import { createRegistryHandler } from "../oci/registry/server.ts";
import type { DeletableImageTarget } from "../oci/types.ts";

/** The local registry in use. */
export interface LocalRegistryHandle {
  mode: "builtin" | "external";
  /** Where the container runtime pulls from. */
  url: string;
  /** Where the sync engine writes. */
  target: DeletableImageTarget;
  /** The built-in registry's content (undefined in external mode). */
  registry?: LocalRegistry;
  /** Online GC of unreferenced blobs (built-in only; an external registry runs its own). */
  collectGarbage?: () => Promise<{ freedBytes: number; deleted: string[] }>;
  close(): Promise<void>;
}

/**
 * Splits `host:port` (IPv6 in brackets).
 *
 * @example
 * ```ts
 * splitListen("[::1]:8585"); // { hostname: "::1", port: 8585 }
 * ```
 */
export function splitListen(listen: string): { hostname: string; port: number } {
  const colon = listen.lastIndexOf(":");
  const host = listen.slice(0, colon);
  return { hostname: host.replace(/^\[|\]$/g, ""), port: Number(listen.slice(colon + 1)) };
}

/**
 * Opens the configured local registry; the built-in one starts serving immediately (unless
 * `serve: false`, for one-shot commands while the service is stopped).
 *
 * @example
 * ```ts
 * declare const config: SatelliteConfig;
 * const local = await openLocalRegistry(config, { gcGraceMs: 0 });
 * ```
 */
export async function openLocalRegistry(
  config: SatelliteConfig,
  options: {
    gcGraceMs?: number;
    serve?: boolean;
    /** Answers first (e.g. `/metrics`); null passes the request on to the registry API. */
    front?: (req: Request) => Promise<Response | null>;
  } = {},
): Promise<LocalRegistryHandle> {
  const local = config.localRegistry;
  if (local.mode === "external") {
    const client = new RegistryClient({ baseUrl: local.url, credentials: local.auth });
    return { mode: "external", url: local.url, target: client, close: () => Promise.resolve() };
  }
  const registry = await openStore(`${config.dataDir}/registry`);
  // Pushes from the network (writable mode) need the grace period; read-only, only the engine writes,
  // and it collects after its own writes are committed.
  const graceMs = options.gcGraceMs ?? (local.writable ? 10 * 60_000 : 0);
  const collect = () => collectGarbage(registry, { graceMs });
  if (options.serve === false) {
    const url = `http://${local.listen}`;
    return {
      mode: "builtin",
      url,
      target: registry,
      registry,
      collectGarbage: collect,
      close: () => Promise.resolve(),
    };
  }
  const { hostname, port } = splitListen(local.listen);
  const tls = local.tls
    ? { cert: await Deno.readTextFile(local.tls.certFile), key: await Deno.readTextFile(local.tls.keyFile) }
    : undefined;
  const api = createRegistryHandler({
    registry,
    mode: local.writable ? "writable" : "edge",
    auth: local.auth,
  });
  const front = options.front;
  const server = await serve(
    { hostname, port, tls },
    front ? async (req) => await front(req) ?? await api(req) : api,
  );
  return {
    mode: "builtin",
    url: server.url,
    target: registry,
    registry,
    collectGarbage: collect,
    close: () => server.close(),
  };
}

/**
 * `Deno.serve` on `hostname:port` (0 = free port), resolving once listening.
 *
 * @example
 * ```ts
 * const server = await serve({ hostname: "127.0.0.1", port: 0 }, () => new Response("ok"));
 * await server.close();
 * ```
 */
export function serve(
  where: { hostname: string; port: number; tls?: { cert: string; key: string } },
  handler: (req: Request) => Response | Promise<Response>,
): Promise<{ url: string; close(): Promise<void> }> {
  const { promise, resolve } = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname: where.hostname,
    port: where.port,
    onListen: (addr) => resolve(addr as Deno.NetAddr),
    ...(where.tls ?? {}),
  }, handler);
  return promise.then((addr) => {
    const host = where.hostname.includes(":") ? `[${where.hostname}]` : where.hostname;
    return {
      url: `${where.tls ? "https" : "http"}://${host}:${addr.port}`,
      close: () => server.shutdown().catch(() => {}),
    };
  });
}
