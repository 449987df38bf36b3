/**
 * The upstream Harbor Satellite group-state format: an image whose (gzip) tar layer holds
 * `artifacts.json` in the seed's edge state file format. Satellites read it so they can follow a
 * patched Harbor's group states directly. It carries no signature: trust comes from the registry
 * credentials, and change detection from the manifest digest.
 *
 * @example
 * ```ts
 * import { openHarborGroupState } from "./harbor.ts";
 * declare const manifest: import("../oci/types.ts").ManifestBlob;
 * declare const read: (digest: string, size: number) => Promise<Uint8Array>;
 * const state = await openHarborGroupState(manifest, read);
 * ```
 * @module
 */
import { unpackTar } from "modern-tar";
import { GroupState } from "../schemas/group_state.ts";
import { parseOrThrow, ValidationError } from "../schemas/validate.ts";
import { parseManifest } from "../oci/manifest.ts";
import type { ManifestBlob } from "../oci/types.ts";
import { StateRefusedError } from "./artifact.ts";

const GZIP_MAGIC = [0x1f, 0x8b];

async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * Finds `artifacts.json` in the image's layers (gzip or plain tar, or a bare JSON layer) and parses it
 * as a group state.
 *
 * @example
 * ```ts
 * declare const manifest: import("../oci/types.ts").ManifestBlob;
 * await openHarborGroupState(manifest, async () => new Uint8Array());
 * ```
 */
export async function openHarborGroupState(
  manifest: ManifestBlob,
  readLayer: (digest: string, size: number) => Promise<Uint8Array>,
): Promise<GroupState> {
  const parsed = parseManifest(manifest.bytes, { expectedDigest: manifest.digest });
  if (parsed.isIndex || !("layers" in parsed.document)) {
    throw new StateRefusedError("invalid", "Harbor state must be an image manifest");
  }
  for (const layer of parsed.document.layers) {
    let bytes = await readLayer(layer.digest, layer.size);
    if (layer.mediaType.endsWith("+json") || layer.mediaType === "application/json") {
      return parseGroupState(bytes, `layer ${layer.digest}`);
    }
    if (bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1]) bytes = await gunzip(bytes);
    const entries = await unpackTar(bytes, {
      filter: (h) => h.name.replace(/^\.\//, "").split("/").pop() === "artifacts.json",
    });
    const entry = entries.find((e) => e.data);
    if (entry?.data) return parseGroupState(entry.data, `${entry.header.name} in layer ${layer.digest}`);
  }
  throw new StateRefusedError("invalid", `no artifacts.json in any layer of ${manifest.digest}`);
}

function parseGroupState(bytes: Uint8Array, where: string): GroupState {
  try {
    return parseOrThrow(
      GroupState,
      JSON.parse(new TextDecoder().decode(bytes)),
      `Harbor group state (${where})`,
    );
  } catch (e) {
    throw new StateRefusedError(
      "invalid",
      e instanceof ValidationError ? e.message : `${where} is not JSON: ${e}`,
    );
  }
}
