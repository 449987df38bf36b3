import { RegistryClient } from "../oci/client.ts";
import { ZtrResponse } from "../schemas/registration.ts";
import { StatusResponse } from "../schemas/status.ts";
import { stateRepository } from "../state/artifact.ts";
import { expectStatus, type Harness, startHarness, statusReport } from "./testing.ts";

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

async function setupSatellite(h: Harness, name = "shop-1", extra: Record<string, unknown> = {}) {
  expectStatus(
    await h.admin("PUT", "/api/groups/stores", { artifacts: [{ repository: "library/app", tags: ["v1"] }] }),
    200,
  );
  return expectStatus(await h.admin("POST", "/api/satellites", { name, groups: ["stores"], ...extra }), 201)
    .body as { token: string; expiresAt: string; groundControlUrl: string };
}

const ztr = (h: Harness, token: string) => h.request("POST", "/ztr", { token, device: { hostname: "box" } });
const report = (h: Harness, secret: string, body: unknown) =>
  h.request("POST", "/api/device/status", body, { authorization: `Bearer ${secret}` });

Deno.test("ZTR race: of 40 concurrent exchanges of one token exactly one wins", async () => {
  // A high per-token limit, so every exchange reaches the store's atomic check.
  await using h = await startHarness({
    config: { rateLimits: { registration: { ratePerSecond: 1, burst: 100 } } },
  });
  const { token, groundControlUrl } = await setupSatellite(h);
  assert(groundControlUrl === h.gc.url, `groundControlUrl ${groundControlUrl}`);
  const answers = await Promise.all(Array.from({ length: 40 }, () => ztr(h, token)));
  const ok = answers.filter((a) => a.status === 200);
  assert(ok.length === 1, `${ok.length} winners: ${answers.map((a) => a.status).join(",")}`);
  assert(answers.every((a) => a.status === 200 || a.status === 401), "a loser got neither 200 nor 401");
  const win = ZtrResponse.parse(ok[0].body);
  assert(win.satellite.name === "shop-1", "name");
  assert(win.stateSigningKey.publicKey === h.gc.key.publicKeyBase64, "state key");
  assert(
    win.state.reference === `${h.registry.host}/satellite/satellite-state/shop-1:latest`,
    win.state.reference,
  );
  assert(win.registry.url === h.registry.url, "registry url");
  const client = new RegistryClient({ baseUrl: win.registry.url });
  assert(
    await client.headManifest(stateRepository("satellite", "satellite", "shop-1"), "latest"),
    "no state yet",
  );
  expectStatus(await report(h, win.deviceSecret, statusReport("shop-1")), 200, "winner's secret");
});

Deno.test("unknown, used and expired tokens get the same 401 body; a re-issued token replaces the old one", async () => {
  await using h = await startHarness({ config: { tokenTtlSeconds: 600 } });
  const { token } = await setupSatellite(h);
  const unknown = expectStatus(await ztr(h, "x".repeat(43)), 401);
  expectStatus(await ztr(h, token), 200);
  const used = expectStatus(await ztr(h, token), 401);
  assert(JSON.stringify(unknown.body) === JSON.stringify(used.body), "used and unknown differ");

  const second = await setupSatellite(h, "shop-2");
  h.advance(601_000);
  const expired = expectStatus(await ztr(h, second.token), 401);
  assert(JSON.stringify(expired.body) === JSON.stringify(unknown.body), "expired and unknown differ");
  assert(expired.body.error.issues[0].path === "token", "issue path");

  const fresh = expectStatus(await h.admin("POST", "/api/satellites/shop-2/token"), 201).body;
  const third = expectStatus(await h.admin("POST", "/api/satellites/shop-2/token"), 201).body;
  expectStatus(await ztr(h, fresh.token), 401, "replaced token");
  expectStatus(await ztr(h, third.token), 200, "current token");
});

Deno.test("status: desired digests, drift in the fleet view, name check, lifecycle from the clock", async () => {
  await using h = await startHarness({ config: { reportIntervalSeconds: 30 } });
  const { token } = await setupSatellite(h);
  const pending = expectStatus(await h.admin("GET", "/api/fleet"), 200).body;
  assert(pending.counts.pending === 1, `counts ${JSON.stringify(pending.counts)}`);
  const { deviceSecret } = expectStatus(await ztr(h, token), 200).body;

  const answer = StatusResponse.parse(
    expectStatus(await report(h, deviceSecret, statusReport("shop-1")), 200).body,
  );
  const group = expectStatus(await h.admin("GET", "/api/groups/stores"), 200).body;
  const sat = expectStatus(await h.admin("GET", "/api/satellites/shop-1"), 200).body;
  assert(answer.desired.groups.stores === group.published.digest, "desired group digest");
  assert(answer.desired.satellite === sat.published.digest, "desired satellite digest");
  assert(sat.lifecycle === "online" && sat.drift === true, `${sat.lifecycle} drift=${sat.drift}`);
  let fleet = expectStatus(await h.admin("GET", "/api/fleet"), 200).body;
  assert(fleet.drifted.length === 1 && fleet.drifted[0].name === "shop-1", "drift not listed");

  const applied = {
    satellite: { digest: sat.published.digest, seq: 1 },
    groups: { stores: { digest: group.published.digest, seq: 1 } },
  };
  expectStatus(await report(h, deviceSecret, statusReport("shop-1", applied)), 200);
  fleet = expectStatus(await h.admin("GET", "/api/fleet"), 200).body;
  assert(fleet.drifted.length === 0 && fleet.counts.online === 1, `in sync but ${JSON.stringify(fleet)}`);

  const other = expectStatus(await report(h, deviceSecret, statusReport("shop-9")), 403);
  assert(other.body.error.issues[0].path === "satellite", "mismatch path");

  h.advance(61_000);
  assert(
    expectStatus(await h.admin("GET", "/api/satellites/shop-1"), 200).body.lifecycle === "stale",
    "stale",
  );
  h.advance(300_000);
  fleet = expectStatus(await h.admin("GET", "/api/fleet"), 200).body;
  assert(fleet.counts.offline === 1, `offline: ${JSON.stringify(fleet.counts)}`);
  expectStatus(await report(h, deviceSecret, statusReport("shop-1", applied)), 200);
  assert(
    expectStatus(await h.admin("GET", "/api/satellites/shop-1"), 200).body.lifecycle === "online",
    "back",
  );
});

Deno.test("revoked device: its secret gets 401, its state artifact is gone, and it gets no new token", async () => {
  await using h = await startHarness();
  const { token } = await setupSatellite(h);
  const { deviceSecret } = expectStatus(await ztr(h, token), 200).body;
  const repository = stateRepository("satellite", "satellite", "shop-1");
  const client = new RegistryClient({ baseUrl: h.registry.url });
  assert(await client.headManifest(repository, "latest"), "state missing before revocation");

  const revoked = expectStatus(await h.admin("DELETE", "/api/satellites/shop-1"), 200).body;
  assert(revoked.lifecycle === "revoked" && revoked.revokedAt, "not revoked");
  const denied = expectStatus(await report(h, deviceSecret, statusReport("shop-1")), 401);
  assert(denied.body.error.code === "unauthorized", "body");
  assert((await client.headManifest(repository, "latest")) === null, "latest still there");
  assert((await client.headManifest(repository, "v1")) === null, "v1 still there");
  expectStatus(await h.admin("POST", "/api/satellites/shop-1/token"), 409);
  expectStatus(await h.admin("PATCH", "/api/satellites/shop-1", { groups: [] }), 409);
  expectStatus(await h.admin("DELETE", "/api/satellites/shop-1"), 200, "revoking twice");
  const fleet = expectStatus(await h.admin("GET", "/api/fleet"), 200).body;
  assert(fleet.counts.revoked === 1, "fleet count");
  // The group it was in can now go, with its state artifact.
  expectStatus(await h.admin("DELETE", "/api/groups/stores"), 204);
  assert(
    (await client.headManifest(stateRepository("satellite", "group", "stores"), "latest")) === null,
    "group",
  );
});

Deno.test("rate limits are per credential: one device's burst does not throttle another behind the same address", async () => {
  await using h = await startHarness({
    config: { rateLimits: { device: { ratePerSecond: 0.001, burst: 3 } } },
  });
  const a = await setupSatellite(h, "shop-a");
  const b =
    expectStatus(await h.admin("POST", "/api/satellites", { name: "shop-b", groups: ["stores"] }), 201).body;
  const secretA = expectStatus(await ztr(h, a.token), 200).body.deviceSecret;
  const secretB = expectStatus(await ztr(h, b.token), 200).body.deviceSecret;
  for (let i = 0; i < 3; i++) expectStatus(await report(h, secretA, statusReport("shop-a")), 200);
  const limited = expectStatus(await report(h, secretA, statusReport("shop-a")), 429);
  assert(Number(limited.headers.get("retry-after")) >= 1, "no Retry-After");
  expectStatus(await report(h, secretB, statusReport("shop-b")), 200, "b throttled by a");
  expectStatus(await h.admin("DELETE", "/api/groups/stores"), 409, "group in use");
});

Deno.test("device events in a status report reach the log", async () => {
  const lines: { message: string; fields?: Record<string, unknown> }[] = [];
  await using h = await startHarness({
    start: { log: (_level, message, fields) => lines.push({ message, fields }) },
  });
  const { token } = await setupSatellite(h);
  const { deviceSecret } = expectStatus(await ztr(h, token), 200).body;
  const body = {
    ...statusReport("shop-1"),
    events: [{ at: "2025-01-31T12:00:00Z", kind: "sync.failed", message: "blob digest mismatch" }],
    dropped: 4,
  };
  expectStatus(await report(h, deviceSecret, body), 200);
  const event = lines.find((l) => l.message === "device event: sync.failed");
  assert(
    event?.fields?.satellite === "shop-1" && event.fields.event === "blob digest mismatch",
    "event not logged",
  );
  assert(lines.some((l) => l.fields?.droppedOnDevice === 4), "dropped count not logged");
});
