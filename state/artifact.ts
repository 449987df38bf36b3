/**
 * State artifacts: a group or satellite state packed as an OCI 1.1 artifact (empty config, one JSON
 * layer holding the {@linkcode StateEnvelope}), signed with Ed25519 over the exact layer bytes, the
 * signature in a manifest annotation. Ground Control packs and publishes; satellites open and verify.
 *
 * @example
 * ```ts
 * import { generateSigningKey } from "./keys.ts";
 * import { openState, packState } from "./artifact.ts";
 * const key = await generateSigningKey();
 * const packed = await packState({ kind: "group", name: "g", seq: 1, issuedAt: new Date().toISOString(), state: { registry: "r", artifacts: [] } }, key);
 * const env = await openState(packed.manifest, async () => packed.layer, { publicKeyBase64: key.publicKeyBase64, kind: "group" });
 * ```
 * @module
 */
import {
  STATE_ARTIFACT_TYPE,
  STATE_KEY_ID_ANNOTATION,
  STATE_LAYER_MEDIA_TYPE,
  STATE_SEQ_ANNOTATION,
  STATE_SIGNATURE_ANNOTATION,
  StateEnvelope,
} from "../schemas/satellite_state.ts";
import { parseOrThrow, ValidationError } from "../schemas/validate.ts";
import { sha256Digest, verifyStream } from "../oci/digest.ts";
import { parseManifest } from "../oci/manifest.ts";
import { EMPTY_DESCRIPTOR, OCI_MANIFEST } from "../oci/media_types.ts";
import type { ImageSource, ImageTarget, ManifestBlob } from "../oci/types.ts";
import { keyIdOf, sign, type SigningKey, verify } from "./keys.ts";

/** The largest state layer a satellite will read (a group of thousands of artifacts fits easily). */
export const MAX_STATE_LAYER_BYTES = 16 * 1024 * 1024;

/** A packed, signed state ready to push. */
export interface PackedState {
  manifest: ManifestBlob;
  layer: Uint8Array;
  envelope: StateEnvelope;
}

/** Why a satellite refused a state. */
export type StateRefusal =
  | "unsigned"
  | "bad-signature"
  | "unknown-key"
  | "rollback"
  | "invalid"
  | "wrong-kind";

/**
 * A state that must not be applied; the previous state stays in force.
 *
 * @example
 * ```ts
 * new StateRefusedError("rollback", "seq 3 is not newer than applied seq 5").reason; // "rollback"
 * ```
 */
export class StateRefusedError extends Error {
  readonly reason: StateRefusal;
  constructor(reason: StateRefusal, message: string) {
    super(`state refused (${reason}): ${message}`);
    this.name = "StateRefusedError";
    this.reason = reason;
  }
}

/**
 * Repository of a state artifact: `<namespace>/group-state/<name>` or `<namespace>/satellite-state/<name>`.
 *
 * @example
 * ```ts
 * stateRepository("satellite", "group", "stores-eu"); // "satellite/group-state/stores-eu"
 * ```
 */
export function stateRepository(namespace: string, kind: "group" | "satellite", name: string): string {
  return `${namespace}/${kind}-state/${name}`;
}

/**
 * The immutable tag of one state version.
 *
 * @example
 * ```ts
 * versionTag(12); // "v12"
 * ```
 */
export function versionTag(seq: number): string {
  return `v${seq}`;
}

/**
 * Validates, serialises and signs an envelope into an artifact manifest and its layer.
 *
 * @example
 * ```ts
 * import { generateSigningKey } from "./keys.ts";
 * const packed = await packState({ kind: "group", name: "g", seq: 1, issuedAt: new Date().toISOString(), state: { registry: "r", artifacts: [] } }, await generateSigningKey());
 * ```
 */
export async function packState(envelope: StateEnvelope, key: SigningKey): Promise<PackedState> {
  const valid = parseOrThrow(StateEnvelope, envelope, "state envelope");
  const layer = new TextEncoder().encode(JSON.stringify(valid));
  const manifestDoc = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: STATE_ARTIFACT_TYPE,
    config: EMPTY_DESCRIPTOR,
    layers: [{ mediaType: STATE_LAYER_MEDIA_TYPE, digest: sha256Digest(layer), size: layer.byteLength }],
    annotations: {
      [STATE_SIGNATURE_ANNOTATION]: await sign(key, layer),
      [STATE_KEY_ID_ANNOTATION]: key.keyId,
      [STATE_SEQ_ANNOTATION]: String(valid.seq),
      "org.opencontainers.image.created": valid.issuedAt,
    },
  };
  const bytes = new TextEncoder().encode(JSON.stringify(manifestDoc));
  return {
    manifest: { bytes, mediaType: OCI_MANIFEST, digest: sha256Digest(bytes) },
    layer,
    envelope: valid,
  };
}

/** Options for {@linkcode publishState}. */
export interface PublishStateOptions {
  /**
   * A repository known to hold the shared empty config blob: it is mounted from there (one request)
   * instead of asked for and uploaded; the target falls back to an upload when the mount is refused.
   */
  mountFrom?: string;
}

/**
 * Pushes a packed state: config and layer blobs, then the manifest under its immutable version tag,
 * then `latest` (so a reader never sees `latest` point at a manifest whose blobs are missing).
 * The layer holds the seq, so it is new on every push and is uploaded without asking first.
 *
 * @example
 * ```ts
 * declare const target: import("../oci/types.ts").ImageTarget;
 * declare const packed: PackedState;
 * await publishState(target, "satellite/group-state/g", packed, { mountFrom: "satellite/group-state/h" });
 * ```
 */
export async function publishState(
  target: ImageTarget,
  repository: string,
  packed: PackedState,
  options: PublishStateOptions = {},
): Promise<void> {
  const stream = (bytes: Uint8Array) => new Blob([bytes as BlobPart]).stream();
  const empty = new TextEncoder().encode("{}");
  const emptyDesc = { digest: EMPTY_DESCRIPTOR.digest, size: empty.byteLength };
  if (options.mountFrom && options.mountFrom !== repository) {
    await target.putBlob(repository, emptyDesc, stream(empty), { mountFrom: options.mountFrom });
  } else if (!(await target.hasBlob(repository, emptyDesc.digest))) {
    await target.putBlob(repository, emptyDesc, stream(empty));
  }
  await target.putBlob(
    repository,
    { digest: sha256Digest(packed.layer), size: packed.layer.byteLength },
    stream(packed.layer),
  );
  await target.putManifest(repository, versionTag(packed.envelope.seq), packed.manifest);
  await target.putManifest(repository, "latest", packed.manifest);
}

/**
 * Reads a whole blob (up to `maxBytes`) and verifies its digest.
 *
 * @example
 * ```ts
 * declare const src: import("../oci/types.ts").ImageSource;
 * await readVerifiedBlob(src, "a/b", "sha256:" + "a".repeat(64), 10);
 * ```
 */
export async function readVerifiedBlob(
  source: ImageSource,
  repository: string,
  digest: string,
  size: number,
  maxBytes = MAX_STATE_LAYER_BYTES,
): Promise<Uint8Array> {
  if (size > maxBytes) {
    throw new StateRefusedError("invalid", `layer ${digest} is ${size} bytes, over the ${maxBytes} limit`);
  }
  const blob = await source.getBlob(repository, digest);
  return new Uint8Array(await new Response(verifyStream(blob.stream, digest, size)).arrayBuffer());
}

/** What {@linkcode openState} checks. */
export interface OpenStateOptions {
  /** The state-signing public key the satellite got at registration (raw, base64). */
  publicKeyBase64: string;
  kind: "group" | "satellite";
  /** Expected name (group or satellite), when known. */
  name?: string;
  /** The seq last applied for this name: anything not greater is a rollback. */
  appliedSeq?: number;
}

/**
 * Opens a state artifact: checks the manifest shape, fetches the layer through `readLayer` (which
 * must verify the digest), verifies the Ed25519 signature over the layer bytes, parses the
 * envelope and refuses unsigned, wrongly signed, mislabelled or rolled-back state.
 *
 * @example
 * ```ts
 * declare const manifest: import("../oci/types.ts").ManifestBlob;
 * declare const read: (digest: string, size: number) => Promise<Uint8Array>;
 * await openState(manifest, read, { publicKeyBase64: "...", kind: "group", appliedSeq: 3 });
 * ```
 */
export async function openState(
  manifest: ManifestBlob,
  readLayer: (digest: string, size: number) => Promise<Uint8Array>,
  options: OpenStateOptions,
): Promise<StateEnvelope> {
  const parsed = parseManifest(manifest.bytes, { expectedDigest: manifest.digest });
  if (parsed.isIndex || !("layers" in parsed.document)) {
    throw new StateRefusedError("invalid", "not an artifact manifest");
  }
  const doc = parsed.document;
  const layerDesc = doc.layers.find((l) => l.mediaType === STATE_LAYER_MEDIA_TYPE);
  if (doc.artifactType !== STATE_ARTIFACT_TYPE || !layerDesc) {
    throw new StateRefusedError(
      "invalid",
      `artifactType ${doc.artifactType ?? "(none)"} is not ${STATE_ARTIFACT_TYPE}`,
    );
  }
  const signature = doc.annotations?.[STATE_SIGNATURE_ANNOTATION];
  if (!signature) {
    throw new StateRefusedError(
      "unsigned",
      `manifest ${manifest.digest} has no ${STATE_SIGNATURE_ANNOTATION}`,
    );
  }
  const keyId = doc.annotations?.[STATE_KEY_ID_ANNOTATION];
  if (keyId && keyId !== keyIdOf(options.publicKeyBase64)) {
    throw new StateRefusedError(
      "unknown-key",
      `signed by key ${keyId}, which is not the registered state key`,
    );
  }
  const layer = await readLayer(layerDesc.digest, layerDesc.size);
  if (!(await verify(options.publicKeyBase64, layer, signature))) {
    throw new StateRefusedError("bad-signature", `signature on ${manifest.digest} does not verify`);
  }
  let envelope: StateEnvelope;
  try {
    envelope = parseOrThrow(StateEnvelope, JSON.parse(new TextDecoder().decode(layer)), "state envelope");
  } catch (e) {
    throw new StateRefusedError(
      "invalid",
      e instanceof ValidationError ? e.message : `layer is not JSON: ${e}`,
    );
  }
  if (envelope.kind !== options.kind || (options.name !== undefined && envelope.name !== options.name)) {
    throw new StateRefusedError(
      "wrong-kind",
      `expected ${options.kind} state for ${
        options.name ?? "any"
      }, got ${envelope.kind} state for ${envelope.name}`,
    );
  }
  if (options.appliedSeq !== undefined && envelope.seq <= options.appliedSeq) {
    throw new StateRefusedError(
      "rollback",
      `seq ${envelope.seq} is not newer than applied seq ${options.appliedSeq}`,
    );
  }
  return envelope;
}
