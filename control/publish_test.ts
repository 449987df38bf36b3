import { RegistryClient } from "../oci/client.ts";
import { sha256Digest } from "../oci/digest.ts";
import { openState, readVerifiedBlob, stateRepository } from "../state/artifact.ts";
import { STATE_SEQ_ANNOTATION, STATE_SIGNATURE_ANNOTATION } from "../schemas/satellite_state.ts";
import type { StateEnvelope } from "../schemas/satellite_state.ts";
import { skopeoInspectRaw } from "../tests/support/images.ts";
import { expectStatus, type Harness, startHarness } from "./testing.ts";

async function readState<K extends "group" | "satellite">(
  h: Harness,
  kind: K,
  name: string,
  reference = "latest",
  appliedSeq?: number,
): Promise<{ envelope: Extract<StateEnvelope, { kind: K }>; digest: string }> {
  const client = new RegistryClient({ baseUrl: h.registry.url });
  const repository = stateRepository("satellite", kind, name);
  const manifest = await client.getManifest(repository, reference);
  const envelope = await openState(
    manifest,
    (digest, size) => readVerifiedBlob(client, repository, digest, size),
    { publicKeyBase64: h.gc.key.publicKeyBase64, kind, name, appliedSeq },
  );
  if (envelope.kind !== kind) throw new Error(`expected a ${kind} state`);
  return { envelope: envelope as Extract<StateEnvelope, { kind: K }>, digest: manifest.digest };
}

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

Deno.test("group states are signed OCI artifacts with increasing seqs, readable by skopeo and the oci client", async () => {
  await using h = await startHarness();
  const v1 = h.images["library/app:v1"].digest;
  const tools = h.images["library/tools:1.0"].digest;
  const put = expectStatus(
    await h.admin("PUT", "/api/groups/stores-eu", {
      artifacts: [{ repository: "library/app", tags: ["v1"] }, {
        repository: "library/tools",
        digest: tools,
      }],
    }),
    200,
  ).body;
  assert(put.published.seq === 1 && put.published.digest, `published ${JSON.stringify(put.published)}`);
  assert(put.state.artifacts[0].digest === v1 && put.state.artifacts[0].tag[0] === "v1", "tag not resolved");
  assert(put.state.artifacts[1].repository === "library/tools", "repository changed");

  const raw = await skopeoInspectRaw(`docker://${h.registry.host}/satellite/group-state/stores-eu:latest`);
  assert(sha256Digest(raw) === put.published.digest, "skopeo sees another manifest than was published");
  const doc = JSON.parse(new TextDecoder().decode(raw));
  assert(
    doc.artifactType === "application/vnd.edge-registry.state.v1+json",
    `artifactType ${doc.artifactType}`,
  );
  assert(
    doc.annotations[STATE_SIGNATURE_ANNOTATION] && doc.annotations[STATE_SEQ_ANNOTATION] === "1",
    "annotations",
  );

  const first = await readState(h, "group", "stores-eu");
  assert(first.envelope.kind === "group" && first.envelope.seq === 1, "seq 1");
  assert(first.envelope.state.artifacts.map((a) => a.digest).join() === [v1, tools].join(), "artifacts");

  const v2 = h.images["library/app:v2"].digest;
  const again = expectStatus(
    await h.admin("PUT", "/api/groups/stores-eu", {
      artifacts: [{ repository: "library/app", tags: ["v2"] }],
    }),
    200,
  ).body;
  assert(again.published.seq === 2, `one change must publish once (seq ${again.published.seq})`);
  const second = await readState(h, "group", "stores-eu", "latest", 1);
  assert(second.envelope.state.artifacts[0].digest === v2, "latest is not the new state");
  const old = await readState(h, "group", "stores-eu", "v1");
  assert(old.digest === first.digest, "the immutable v1 tag moved");
  let refused = false;
  await readState(h, "group", "stores-eu", "v1", 1).catch(() => refused = true);
  assert(refused, "a replayed seq 1 was not refused as a rollback");
});

Deno.test("satellite states reference group states by tag and carry the OTA config", async () => {
  await using h = await startHarness();
  expectStatus(
    await h.admin("PUT", "/api/groups/stores", { artifacts: [{ repository: "library/app", tags: ["v1"] }] }),
    200,
  );
  expectStatus(
    await h.admin("POST", "/api/satellites", {
      name: "shop-1",
      groups: ["stores"],
      config: { logLevel: "debug" },
    }),
    201,
  );
  await h.gc.publisher.idle(); // creation pushes the satellite state in the background
  const sat = await readState(h, "satellite", "shop-1");
  assert(sat.envelope.kind === "satellite", "kind");
  const state = sat.envelope.state;
  assert(state.satellite === "shop-1" && state.config.logLevel === "debug", "config");
  assert(
    state.groups[0].reference === `${h.registry.host}/satellite/group-state/stores:latest`,
    `group reference ${state.groups[0].reference}`,
  );

  // A group change reaches the satellite through the group's latest tag: no satellite push.
  expectStatus(
    await h.admin("PUT", "/api/groups/stores", { artifacts: [{ repository: "library/app", tags: ["v2"] }] }),
    200,
  );
  const view = expectStatus(await h.admin("GET", "/api/satellites/shop-1"), 200).body;
  assert(view.published.seq === 1, `group change republished the satellite (seq ${view.published.seq})`);

  const patched = expectStatus(
    await h.admin("PATCH", "/api/satellites/shop-1", { config: { logLevel: "warn", concurrency: 2 } }),
    200,
  ).body;
  assert(patched.published.seq === 2 && patched.published.digest, "patch did not republish");
  const after = await readState(h, "satellite", "shop-1", "latest", 1);
  assert(after.envelope.state.config.concurrency === 2, "patched config not published");

  // A burst of edits is coalesced: at most one push per edit, and the last edit wins.
  await Promise.all(
    [1, 2, 3, 4, 5].map((n) => h.admin("PATCH", "/api/satellites/shop-1", { config: { concurrency: n } })),
  );
  await h.gc.publisher.idle();
  const final = expectStatus(await h.admin("GET", "/api/satellites/shop-1"), 200).body;
  const latest = await readState(h, "satellite", "shop-1");
  const record = await h.gc.store.getSatellite("shop-1");
  assert(record && record.published.revision === record.revision, "last edit not published");
  assert(latest.digest === final.published.digest, "registry and record disagree");
  assert(final.published.seq <= 2 + 5, `more pushes than edits: ${final.published.seq}`);
});

Deno.test("groups/sync stores Harbor's adapter payload unchanged: source repositories, given digests", async () => {
  await using h = await startHarness({ noImages: true });
  const fixture = JSON.parse(
    await Deno.readTextFile(
      new URL("../../shared/fixtures/group-state-seed-harbor-adapter.json", import.meta.url),
    ),
  );
  const answer =
    expectStatus(await h.admin("POST", "/api/groups/sync", { ...fixture, group: "edge-eu" }), 200).body;
  assert(answer.name === "edge-eu" && answer.published.seq === 1, "not stored/published");
  const resent =
    expectStatus(await h.admin("POST", "/api/groups/sync", { ...fixture, group: "edge-eu" }), 200).body;
  assert(resent.published.seq === 1, "an unchanged state was published again");
  const { envelope } = await readState(h, "group", "edge-eu");
  const sent = fixture.artifacts.map((a: { repository: string; digest: string }) =>
    `${a.repository}@${a.digest}`
  );
  const kept = envelope.state.artifacts.map((a) => `${a.repository}@${a.digest}`);
  assert(sent.join() === kept.join(), `artifacts changed:\n${sent}\n${kept}`);
  assert(!kept.some((k) => k.startsWith("edge-eu/")), "the group name leaked into a repository");
  assert(envelope.state.registry === fixture.registry, "registry changed");
});

Deno.test("a failed push is retried in the background and the view shows it pending until then", async () => {
  await using h = await startHarness();
  await h.registry.kill();
  expectStatus(await h.admin("POST", "/api/groups/sync", { group: "g", registry: "r", artifacts: [] }), 200);
  const pending = expectStatus(await h.admin("GET", "/api/groups/g"), 200).body;
  assert(pending.published.digest === null, "published while the registry was down");
  await h.registry.restart();
  const deadline = Date.now() + 10_000;
  let digest = null;
  while (!digest && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    digest = expectStatus(await h.admin("GET", "/api/groups/g"), 200).body.published.digest;
  }
  assert(digest, "the push was not retried after the registry came back");
  assert((await readState(h, "group", "g")).digest === digest, "registry has another digest");
});
