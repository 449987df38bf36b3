import { packTar } from "modern-tar";
import { OCI_LAYER_GZIP, OCI_MANIFEST } from "../oci/media_types.ts";
import { sha256Digest } from "../oci/digest.ts";
import { openState, packState, StateRefusedError } from "./artifact.ts";
import { openHarborGroupState } from "./harbor.ts";
import { generateSigningKey } from "./keys.ts";
import type { StateEnvelope } from "../schemas/satellite_state.ts";

const envelope = (seq: number): StateEnvelope => ({
  kind: "group",
  name: "stores",
  seq,
  issuedAt: "2026-11-21T10:00:00Z",
  state: {
    group: "stores",
    registry: "127.0.0.1:5000",
    artifacts: [{
      repository: "library/nginx",
      tag: ["1.25"],
      digest: `sha256:${"a".repeat(64)}`,
      type: "IMAGE",
      deleted: false,
    }],
  },
});

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof StateRefusedError) return e.reason;
    throw e;
  }
  throw new Error("state was accepted");
}

Deno.test("a packed state opens with the right key and round-trips the envelope", async () => {
  const key = await generateSigningKey();
  const packed = await packState(envelope(4), key);
  const env = await openState(packed.manifest, () => Promise.resolve(packed.layer), {
    publicKeyBase64: key.publicKeyBase64,
    kind: "group",
    name: "stores",
    appliedSeq: 3,
  });
  if (env.seq !== 4 || env.kind !== "group" || env.state.artifacts[0].repository !== "library/nginx") {
    throw new Error(JSON.stringify(env));
  }
});

Deno.test("unsigned, wrongly signed, tampered, rolled-back and wrong-kind states are refused", async () => {
  const key = await generateSigningKey();
  const other = await generateSigningKey();
  const packed = await packState(envelope(5), key);
  const read = () => Promise.resolve(packed.layer);
  const opts = { publicKeyBase64: key.publicKeyBase64, kind: "group" as const };

  const doc = JSON.parse(new TextDecoder().decode(packed.manifest.bytes));
  delete doc.annotations["dev.edge-registry.state.signature"];
  const unsignedBytes = new TextEncoder().encode(JSON.stringify(doc));
  const unsigned = { bytes: unsignedBytes, mediaType: OCI_MANIFEST, digest: sha256Digest(unsignedBytes) };
  if (await refusal(openState(unsigned, read, opts)) !== "unsigned") throw new Error("unsigned accepted");

  if (
    await refusal(openState(packed.manifest, read, { ...opts, publicKeyBase64: other.publicKeyBase64 })) !==
      "unknown-key"
  ) {
    throw new Error("foreign key accepted");
  }
  const tampered = packed.layer.slice();
  tampered[tampered.length - 3] ^= 1;
  if (await refusal(openState(packed.manifest, () => Promise.resolve(tampered), opts)) !== "bad-signature") {
    throw new Error("tampered layer accepted");
  }
  if (await refusal(openState(packed.manifest, read, { ...opts, appliedSeq: 5 })) !== "rollback") {
    throw new Error("replay accepted");
  }
  if (await refusal(openState(packed.manifest, read, { ...opts, kind: "satellite" })) !== "wrong-kind") {
    throw new Error("wrong kind accepted");
  }
});

Deno.test("the upstream Harbor format (gzip tar layer with artifacts.json) reads as group state", async () => {
  const fixture = await Deno.readFile(
    new URL("../../shared/fixtures/group-state-seed-with-labels.json", import.meta.url),
  );
  const tar = await packTar([{ header: { name: "artifacts.json", size: fixture.length }, body: fixture }]);
  const gz = new Uint8Array(
    await new Response(new Blob([tar as BlobPart]).stream().pipeThrough(new CompressionStream("gzip")))
      .arrayBuffer(),
  );
  const manifestBytes = new TextEncoder().encode(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha256Digest("{}"), size: 2 },
    layers: [{ mediaType: OCI_LAYER_GZIP, digest: sha256Digest(gz), size: gz.length }],
  }));
  const state = await openHarborGroupState(
    { bytes: manifestBytes, mediaType: OCI_MANIFEST, digest: sha256Digest(manifestBytes) },
    () => Promise.resolve(gz),
  );
  if (state.artifacts.length !== 3 || state.artifacts[0].labels !== null) {
    throw new Error(JSON.stringify(state));
  }
});
