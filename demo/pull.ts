/**
 * Proving that a container runtime can pull from the satellite: with `ctr` (a private containerd,
 * as the interop tests run it) when containerd is installed and we are root, otherwise with the
 * project's registry client, which fetches the manifest tree and every blob and verifies each digest.
 *
 * @example
 * ```ts
 * import { RegistryClient } from "../oci/client.ts";
 * import { pullWithClient } from "./pull.ts";
 * const report = await pullWithClient(new RegistryClient({ baseUrl: "http://127.0.0.1:8585" }), "demo/web", "1.0");
 * console.log(report.blobs, report.bytes);
 * ```
 * @module
 */
import type { RegistryClient } from "../oci/client.ts";
import { startContainerd } from "../tests/support/containerd.ts";

/** What a verified client pull fetched. */
export interface ClientPullReport {
  digest: string;
  manifests: number;
  blobs: number;
  bytes: number;
  /** `os/arch[/variant]` of each platform of an index (empty for a single image). */
  platforms: string[];
}

/**
 * Pulls `repository:reference` and everything it references; every manifest and blob is checked
 * against its digest by the client (a mismatch throws). Shared blobs are fetched once.
 *
 * @example
 * ```ts
 * declare const client: RegistryClient;
 * await pullWithClient(client, "demo/api", "2.3");
 * ```
 */
export async function pullWithClient(
  client: RegistryClient,
  repository: string,
  reference: string,
): Promise<ClientPullReport> {
  const root = await client.getManifest(repository, reference);
  const report: ClientPullReport = { digest: root.digest, manifests: 1, blobs: 0, bytes: 0, platforms: [] };
  const seen = new Set<string>();
  const queue = [root];
  for (let manifest = queue.shift(); manifest; manifest = queue.shift()) {
    for (const child of manifest.children) {
      if (seen.has(child.digest)) continue;
      seen.add(child.digest);
      if (manifest.isIndex) {
        const p = child.platform;
        if (p) report.platforms.push([p.os, p.architecture, p.variant].filter(Boolean).join("/"));
        queue.push(await client.getManifest(repository, child.digest));
        report.manifests++;
        continue;
      }
      // The stream is digest- and size-verified as it is read; reading it to the end is the check.
      const blob = await client.getBlob(repository, child.digest);
      for await (const chunk of blob.stream) report.bytes += chunk.byteLength;
      report.blobs++;
    }
  }
  return report;
}

/**
 * True when `ctr` can be used here: containerd and ctr on PATH, and root (containerd needs it).
 *
 * @example
 * ```ts
 * if (await ctrAvailable()) console.log("pulling with ctr");
 * ```
 */
export async function ctrAvailable(): Promise<boolean> {
  if (Deno.uid() !== 0) return false;
  for (const tool of ["containerd", "ctr"]) {
    try {
      const out = await new Deno.Command(tool, { args: ["--version"], stdout: "null", stderr: "null" })
        .output();
      if (!out.success) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/** What `ctr` did. */
export interface CtrPullReport {
  /** The command line an operator would type (against the demo's private containerd). */
  command: string;
  /** `ctr images ls` line of the pulled image. */
  listing: string;
}

/**
 * Starts a private containerd, pulls `host/repository:tag` with `ctr images pull --plain-http`
 * (unpacking it with the native snapshotter), lists it, and stops containerd again.
 *
 * @example
 * ```ts
 * await pullWithCtr("127.0.0.1:8585", "demo/web", "1.0");
 * ```
 */
export async function pullWithCtr(host: string, repository: string, tag: string): Promise<CtrPullReport> {
  await using containerd = await startContainerd();
  const ref = `${host}/${repository}:${tag}`;
  await containerd.ctr(["images", "pull", "--plain-http", ref]);
  const listing = (await containerd.ctr(["images", "ls"])).split("\n").find((l) => l.startsWith(ref)) ?? "";
  return {
    command: `ctr -a ${containerd.socket} images pull --plain-http --snapshotter native ${ref}`,
    listing: listing.replace(/\s+/g, " ").trim(),
  };
}
