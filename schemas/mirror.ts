/**
 * Requests to write container-runtime mirror configuration (`satellite mirror-config`): which runtime,
 * the local registry's URL, and the central registry that it mirrors.
 *
 * @example
 * ```ts
 * import { MirrorRequest } from "./mirror.ts";
 * MirrorRequest.parse({ runtime: "containerd", localUrl: "http://127.0.0.1:8585", upstreamHost: "harbor.example.com" });
 * ```
 * @module
 */
import { z } from "zod";

/**
 * Runtimes whose mirror configuration can be written. `nerdctl` shares containerd's `certs.d`;
 * `rke2` is k3s's format under `/etc/rancher/rke2/`.
 */
export const MirrorRuntime = z.enum(["containerd", "nerdctl", "crio", "podman", "docker", "k3s", "rke2"]);
/** A runtime. */
export type MirrorRuntime = z.infer<typeof MirrorRuntime>;

const HOST = String.raw`(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::\d{1,5})?`;

/**
 * A registry as images name it (`harbor.example.com`, `127.0.0.1:5000`, `docker.io`), or with an
 * explicit scheme when it speaks plain HTTP (`http://127.0.0.1:5000`); without one, HTTPS.
 *
 * @example
 * ```ts
 * RegistryHost.parse("http://127.0.0.1:5000");
 * ```
 */
export const RegistryHost = z.string().regex(
  new RegExp(`^(?:https?://)?${HOST}/?$`),
  "must be a registry host such as harbor.example.com, 127.0.0.1:5000 or http://127.0.0.1:5000 (no path)",
);

/**
 * One mirror configuration request.
 *
 * @example
 * ```ts
 * MirrorRequest.parse({ runtime: "k3s", root: "/tmp/stage", localUrl: "http://127.0.0.1:8585", upstreamHost: "docker.io", apply: true });
 * ```
 */
export const MirrorRequest = z.object({
  runtime: MirrorRuntime,
  /** Directory the runtime's absolute config paths are placed under (`/` on a device). */
  root: z.string().min(1).default("/"),
  /** The satellite's local registry as the runtime reaches it. */
  localUrl: z.url({
    protocol: /^https?$/,
    error: "must be an http(s) URL such as http://127.0.0.1:8585",
  }).refine((u) => new URL(u).pathname === "/", "must not have a path, e.g. http://127.0.0.1:8585"),
  /** The central registry whose pulls the local registry should serve. */
  upstreamHost: RegistryHost,
  /** Accept the local registry's self-signed certificate (only meaningful for an https localUrl). */
  skipVerify: z.boolean().default(false),
  /** Write the files (default: only plan them). */
  apply: z.boolean().default(false),
});
/** A parsed mirror request. */
export type MirrorRequest = z.infer<typeof MirrorRequest>;
/** A mirror request as written (defaults optional). */
export type MirrorRequestInput = z.input<typeof MirrorRequest>;
