/**
 * The resolved endpoints of one mirror setup: the registry host namespace images use, the upstream
 * URL to fall back to, and the local registry, with whether each side needs plain HTTP/TLS skipping.
 *
 * @example
 * ```ts
 * import { resolveTarget } from "./target.ts";
 * const t = resolveTarget({ localUrl: "http://127.0.0.1:8585", upstreamHost: "docker.io", skipVerify: false });
 * t.upstreamUrl; // "https://registry-1.docker.io"
 * ```
 * @module
 */

/** Everything a runtime writer needs. */
export interface MirrorTarget {
  /** Host namespace as images name it: `harbor.example.com`, `127.0.0.1:5000`, `docker.io`. */
  host: string;
  /** Base URL of the upstream registry, the fallback. */
  upstreamUrl: string;
  /** True when the upstream speaks plain HTTP. */
  upstreamPlainHttp: boolean;
  isDockerHub: boolean;
  /** Base URL of the local registry, without trailing slash: `http://127.0.0.1:8585`. */
  localUrl: string;
  /** `host:port` of the local registry. */
  localHost: string;
  /** True when the local registry speaks plain HTTP. */
  localPlainHttp: boolean;
  /** Skip TLS verification towards the local registry (self-signed, https only). */
  skipVerify: boolean;
}

const DOCKER_HUB_ALIASES = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);

/**
 * Resolves a validated request (see `schemas/mirror.ts`) into endpoints.
 *
 * @example
 * ```ts
 * resolveTarget({ localUrl: "http://127.0.0.1:8585", upstreamHost: "http://127.0.0.1:5000", skipVerify: false }).host; // "127.0.0.1:5000"
 * ```
 */
export function resolveTarget(
  request: { localUrl: string; upstreamHost: string; skipVerify: boolean },
): MirrorTarget {
  const upstream = new URL(
    request.upstreamHost.includes("://") ? request.upstreamHost : `https://${request.upstreamHost}`,
  );
  const local = new URL(request.localUrl);
  const isDockerHub = DOCKER_HUB_ALIASES.has(upstream.host);
  const localPlainHttp = local.protocol === "http:";
  return {
    host: isDockerHub ? "docker.io" : upstream.host,
    upstreamUrl: isDockerHub ? "https://registry-1.docker.io" : `${upstream.protocol}//${upstream.host}`,
    upstreamPlainHttp: upstream.protocol === "http:",
    isDockerHub,
    localUrl: `${local.protocol}//${local.host}`,
    localHost: local.host,
    localPlainHttp,
    skipVerify: !localPlainHttp && request.skipVerify,
  };
}

/** The comment every generated file starts with. */
export const GENERATED_BY = "Written by the edge satellite (satellite mirror-config)";
