import { RegistryClient } from "../oci/client.ts";
import { openState, readVerifiedBlob, stateRepository } from "../state/artifact.ts";
import { expectStatus, startHarness } from "./testing.ts";

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

Deno.test("a restart on the same KV file keeps keys, groups, satellites, tokens and seqs", async () => {
  await using h = await startHarness();
  expectStatus(
    await h.admin("PUT", "/api/groups/stores", { artifacts: [{ repository: "library/app", tags: ["v1"] }] }),
    200,
  );
  const first =
    expectStatus(await h.admin("POST", "/api/satellites", { name: "shop-1", groups: ["stores"] }), 201)
      .body;
  const second =
    expectStatus(await h.admin("POST", "/api/satellites", { name: "shop-2", groups: ["stores"] }), 201)
      .body;
  const registered = expectStatus(await h.request("POST", "/ztr", { token: first.token }), 200).body;
  const keyId = h.gc.key.keyId;

  await h.restart();

  assert(h.gc.key.keyId === keyId, "the signing key changed");
  const groups =
    expectStatus(await h.admin("GET", "/api/groups"), 200, "admin token after restart").body.groups;
  assert(groups.length === 1 && groups[0].published.seq === 1, "group lost");
  const sats = expectStatus(await h.admin("GET", "/api/satellites"), 200).body.satellites;
  assert(sats.map((s: { name: string }) => s.name).sort().join() === "shop-1,shop-2", "satellites lost");
  const status = {
    satellite: "shop-1",
    reportedAt: new Date().toISOString(),
    versions: { satellite: "0.1.0", deno: "2.9.5" },
  };
  expectStatus(
    await h.request("POST", "/api/device/status", status, {
      authorization: `Bearer ${registered.deviceSecret}`,
    }),
    200,
    "device secret after restart",
  );
  const late = expectStatus(
    await h.request("POST", "/ztr", { token: second.token }),
    200,
    "token after restart",
  );
  assert(late.body.stateSigningKey.keyId === keyId, "ZTR hands out another key");

  const again = expectStatus(
    await h.admin("PUT", "/api/groups/stores", { artifacts: [{ repository: "library/app", tags: ["v2"] }] }),
    200,
  ).body;
  assert(again.published.seq === 2, `seq reused or skipped after restart: ${again.published.seq}`);
  const client = new RegistryClient({ baseUrl: h.registry.url });
  const repository = stateRepository("satellite", "group", "stores");
  const envelope = await openState(
    await client.getManifest(repository, "latest"),
    (d, s) => readVerifiedBlob(client, repository, d, s),
    { publicKeyBase64: late.body.stateSigningKey.publicKey, kind: "group", appliedSeq: 1 },
  );
  assert(envelope.seq === 2, "state after restart does not verify with the registered key");
});

Deno.test("without a configured admin token one is generated once, shown once, and kept", async () => {
  await using h = await startHarness({ noImages: true, config: { adminToken: undefined } });
  const token = h.gc.generatedAdminToken;
  assert(token && token.length >= 43, "no generated token");
  const auth = { authorization: `Bearer ${token}` };
  expectStatus(await h.request("GET", "/api/groups", undefined, auth), 200);
  await h.restart();
  assert(h.gc.generatedAdminToken === null, "a second token was generated on restart");
  expectStatus(await h.request("GET", "/api/groups", undefined, auth), 200, "generated token after restart");
  const kv = await Deno.readFile(h.dataPath).catch(() => new Uint8Array());
  assert(!new TextDecoder().decode(kv).includes(token), "the admin token is stored in clear");
});

Deno.test("pushes left unfinished when the registry was down are resumed after a restart", async () => {
  await using h = await startHarness({ noImages: true });
  await h.registry.kill();
  expectStatus(await h.admin("POST", "/api/groups/sync", { group: "g", registry: "r", artifacts: [] }), 200);
  await h.gc.publisher.close(); // no background retry: only the restart can publish it
  await h.registry.restart();
  await h.restart();
  await h.gc.publisher.idle();
  const view = expectStatus(await h.admin("GET", "/api/groups/g"), 200).body;
  assert(view.published.seq >= 1 && view.published.digest, `not resumed: ${JSON.stringify(view.published)}`);
});
