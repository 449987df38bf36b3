import assert from "node:assert/strict";
import { SatelliteConfig } from "../schemas/satellite_config.ts";
import { SatelliteDb } from "./db.ts";
import { EventLog, type SatelliteEvent } from "./events.ts";
import { ensureRegistered, loadIdentity } from "./ztr.ts";

const ANSWER = {
  satellite: { name: "shop-001" },
  deviceSecret: "s".repeat(43),
  registry: { url: "http://127.0.0.1:5000", credentials: { username: "u", password: "p" } },
  state: { reference: "127.0.0.1:5000/satellite/satellite-state/shop-001:latest" },
  stateSigningKey: { alg: "Ed25519", publicKey: "A".repeat(43) + "=", keyId: "sha256:" + "a".repeat(64) },
};
const GOOD = "g".repeat(32);
const DEAD = "d".repeat(32);

/** A tiny Ground Control stand-in: fails `failures` times with 503, refuses DEAD with 401. */
function startZtrServer(failures: number) {
  const seen: { token: string; at: number }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = await req.json();
    seen.push({ token: body.token, at: Date.now() });
    if (body.token === DEAD) return new Response('{"error":"invalid token"}', { status: 401 });
    if (failures-- > 0) return new Response("busy", { status: 503 });
    return Response.json(ANSWER);
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, seen, server };
}

Deno.test("ensureRegistered retries with backoff, stores the identity, retires the token file and never registers again", async () => {
  const dir = await Deno.makeTempDir();
  const gc = startZtrServer(3);
  await using db = await SatelliteDb.open(`${dir}/data`);
  try {
    await Deno.writeTextFile(`${dir}/token`, GOOD);
    const config = SatelliteConfig.parse({ groundControlUrl: gc.url, tokenFiles: [`${dir}/token`] });
    const events: SatelliteEvent[] = [];
    const log = new EventLog();
    log.on((e) => events.push(e));
    const identity = await ensureRegistered({
      db,
      config,
      cmdlinePath: `${dir}/cmdline`,
      events: log,
      retry: { baseDelayMs: 20, maxDelayMs: 200 },
    });
    assert.equal(identity.satellite.name, "shop-001");
    assert.equal(gc.seen.length, 4);
    assert.equal(events.filter((e) => e.kind === "ztr.retry").length, 3);
    assert.equal(await Deno.readTextFile(`${dir}/token.used`), GOOD);
    assert.equal((await loadIdentity(db))?.deviceSecret, ANSWER.deviceSecret);
    // Second start: the stored identity is used, Ground Control is not asked.
    await ensureRegistered({ db, config, cmdlinePath: `${dir}/cmdline` });
    assert.equal(gc.seen.length, 4);
  } finally {
    await gc.server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a 401 token is not presented again; a new token on the kernel command line is picked up", async () => {
  const dir = await Deno.makeTempDir();
  const gc = startZtrServer(0);
  await using db = await SatelliteDb.open(`${dir}/data`);
  try {
    const config = SatelliteConfig.parse({ groundControlUrl: gc.url, token: DEAD, tokenFiles: [] });
    const log = new EventLog();
    const rejected = new Promise<void>((resolve) =>
      log.on((e) => e.kind === "ztr.token-rejected" && resolve())
    );
    const registering = ensureRegistered({
      db,
      config,
      cmdlinePath: `${dir}/cmdline`,
      events: log,
      tokenWaitMs: 50,
    });
    await rejected;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(gc.seen.length, 1, "the dead token was presented once only");
    await Deno.writeTextFile(`${dir}/cmdline`, `quiet satellite.token=${GOOD}`);
    const identity = await registering;
    assert.equal(identity.satellite.name, "shop-001");
    assert.deepEqual(gc.seen.map((s) => s.token), [DEAD, GOOD]);
  } finally {
    await gc.server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
