/**
 * The built-in registry's HTTP server: the OCI distribution-spec `/v2/` API over a
 * {@linkcode LocalRegistry}, on `Deno.serve` with a tiny router (repository names are multi-segment,
 * which path-pattern routers handle poorly, and the hot manifest path stays allocation-light).
 *
 * Modes: `edge` (default) serves pulls only; pushes and deletes get 405 UNSUPPORTED, because the
 * satellite writes into the registry directly. `writable` serves the whole API. Optional basic auth
 * and TLS. containerd's `?ns=<upstream host>` is accepted (and ignored) on every route.
 *
 * @example
 * ```ts
 * import { openLocalRegistry } from "./local.ts";
 * import { startRegistryServer } from "./server.ts";
 * const registry = await openLocalRegistry(await Deno.makeTempDir());
 * const server = await startRegistryServer({ registry, port: 0, mode: "writable" });
 * console.log(server.url);
 * await server.close();
 * ```
 * @module
 */
import { timingSafeEqual } from "node:crypto";
import { parseDigest } from "../digest.ts";
import { InvalidInputError } from "../errors.ts";
import { catalog, listTags, referrers } from "./handlers_discovery.ts";
import { getBlob, getManifest } from "./handlers_pull.ts";
import { deleteBlob, deleteManifest, putManifest } from "./handlers_push.ts";
import { errorResponse, matchRoute, type Route, toErrorResponse } from "./http.ts";
import type { LocalRegistry } from "./local.ts";
import { UploadSessions } from "./uploads.ts";

/** `edge`: pull-only for network clients; `writable`: the full push/delete API. */
export type RegistryMode = "edge" | "writable";

/** Options for {@linkcode createRegistryHandler}. */
export interface RegistryHandlerOptions {
  registry: LocalRegistry;
  mode?: RegistryMode;
  /** Require HTTP basic auth with these credentials. */
  auth?: { username: string; password: string; realm?: string };
  /** Called after each request (access logs, tests that check what a client sent). */
  observe?: (req: Request, status: number) => void;
}

const API_VERSION = { "docker-distribution-api-version": "registry/2.0" };
const WRITE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * A `(Request) => Response` handler for the `/v2/` API, mountable in any server.
 *
 * @example
 * ```ts
 * const handler = createRegistryHandler({ registry, mode: "edge" });
 * const res = await handler(new Request("http://x/v2/"));
 * ```
 */
export function createRegistryHandler(options: RegistryHandlerOptions): (req: Request) => Promise<Response> {
  const { registry } = options;
  const writable = options.mode === "writable";
  const uploads = new UploadSessions(registry);
  const expectedAuth = options.auth
    ? new TextEncoder().encode(`Basic ${btoa(`${options.auth.username}:${options.auth.password}`)}`)
    : undefined;
  const realm = options.auth?.realm ?? "registry";

  const dispatch = async (req: Request, route: Route, params: URLSearchParams): Promise<Response> => {
    const method = req.method;
    const head = method === "HEAD";
    if (WRITE_METHODS.has(method) && !writable) {
      await req.body?.cancel();
      return errorResponse(
        "UNSUPPORTED",
        "this registry is read-only (edge mode): push and delete are disabled",
        405,
      );
    }
    switch (route.kind) {
      case "base":
        return new Response("{}", { headers: { "content-type": "application/json" } });
      case "catalog":
        return await catalog(registry, params);
      case "tags":
        return await listTags(registry, route.name, params);
      case "referrers":
        return referrers(registry, route.name, route.ref, params);
      case "manifest":
        if (method === "GET" || head) {
          return await getManifest(registry, route.name, checkRef(route.ref), head);
        }
        if (method === "PUT") return await putManifest(registry, req, route.name, checkRef(route.ref));
        if (method === "DELETE") return await deleteManifest(registry, route.name, checkRef(route.ref));
        break;
      case "blob":
        if (method === "GET" || head) return await getBlob(registry, req, checkDigest(route.ref), head);
        if (method === "DELETE") return await deleteBlob(registry, checkDigest(route.ref));
        break;
      case "upload":
        if (route.ref === "") {
          if (method === "POST") return await uploads.post(req, route.name, params);
          break;
        }
        if (method === "PATCH") return await uploads.patch(req, route.name, route.ref);
        if (method === "PUT") return await uploads.put(req, route.name, route.ref, params);
        if (method === "GET") return await uploads.status(route.name, route.ref);
        if (method === "DELETE") return await uploads.cancel(route.ref);
        break;
    }
    await req.body?.cancel();
    return errorResponse("UNSUPPORTED", `${method} is not supported on this endpoint`, 405);
  };

  return async (req: Request): Promise<Response> => {
    let response: Response;
    try {
      if (expectedAuth && !authorized(req.headers.get("authorization"), expectedAuth)) {
        await req.body?.cancel();
        response = errorResponse("UNAUTHORIZED", "authentication required", 401, undefined, {
          "www-authenticate": `Basic realm="${realm}"`,
        });
      } else {
        const url = new URL(req.url);
        const route = matchRoute(url.pathname);
        if (!route) {
          await req.body?.cancel();
          response = errorResponse("NAME_UNKNOWN", `no registry endpoint at ${url.pathname}`, 404);
        } else response = await dispatch(req, route, url.searchParams);
      }
    } catch (e) {
      await req.body?.cancel().catch(() => {});
      response = toErrorResponse(e);
    }
    for (const [k, v] of Object.entries(API_VERSION)) response.headers.set(k, v);
    options.observe?.(req, response.status);
    return response;
  };
}

/** A malformed digest is DIGEST_INVALID, not NAME_INVALID. */
function checkDigest(ref: string): string {
  try {
    parseDigest(ref);
  } catch {
    throw new InvalidInputError(
      "digest",
      `"${ref}" is not a valid digest (sha256:<64 hex>)`,
      "DIGEST_INVALID",
    );
  }
  return ref;
}

/** A manifest reference is a tag or a digest. */
function checkRef(ref: string): string {
  return ref.includes(":") ? checkDigest(ref) : ref;
}

function authorized(header: string | null, expected: Uint8Array): boolean {
  if (!header) return false;
  const given = new TextEncoder().encode(header);
  return given.byteLength === expected.byteLength && timingSafeEqual(given, expected);
}

/** Options for {@linkcode startRegistryServer}. */
export interface RegistryServerOptions extends RegistryHandlerOptions {
  hostname?: string;
  /** 0 picks a free port. */
  port?: number;
  /** PEM certificate and key: serve HTTPS. */
  tls?: { cert: string; key: string };
  signal?: AbortSignal;
}

/** A running server. */
export interface RegistryServer extends AsyncDisposable {
  /** `http(s)://host:port` */
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Starts the registry server on `hostname:port` (default 127.0.0.1, free port).
 *
 * @example
 * ```ts
 * await using server = await startRegistryServer({ registry, mode: "edge", port: 5000 });
 * ```
 */
export function startRegistryServer(options: RegistryServerOptions): Promise<RegistryServer> {
  const hostname = options.hostname ?? "127.0.0.1";
  const handler = createRegistryHandler(options);
  const { promise, resolve } = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname,
    port: options.port ?? 0,
    signal: options.signal,
    onListen: (addr) => resolve(addr as Deno.NetAddr),
    ...(options.tls ? { cert: options.tls.cert, key: options.tls.key } : {}),
  }, handler);
  return promise.then((addr) => {
    const close = async () => {
      await server.shutdown().catch(() => {});
    };
    const host = hostname.includes(":") ? `[${hostname}]` : hostname;
    return {
      url: `${options.tls ? "https" : "http"}://${host}:${addr.port}`,
      port: addr.port,
      close,
      [Symbol.asyncDispose]: close,
    };
  });
}
