/**
 * No secret reaches a log: Ground Control and a satellite run as child processes at debug level
 * (every line they write on stdout and stderr is captured) through registration by token file,
 * sync from a central registry with basic auth, status reports and the CLI; then every secret and
 * token issued (admin token, registration token, device secret, registry password and its basic
 * auth form, the local registry's password) is searched for in all captured output.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { SatelliteDb } from "../../edge/db.ts";
import { loadIdentity } from "../../edge/ztr.ts";
import { startDistribution } from "../support/distribution.ts";
import { buildImage, pushImages } from "../support/images.ts";
import { freePort, waitForHttp } from "../support/ports.ts";
import { until } from "./edge_harness.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** A child process whose stdout and stderr are collected in full. */
function spawnCaptured(args: string[], env: Record<string, string> = {}) {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    env,
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const chunks: string[] = [];
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) chunks.push(text);
  };
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]);
  return {
    output: () => chunks.join(""),
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
      }, 10_000);
      await child.status;
      clearTimeout(timer);
      await drained;
    },
  };
}

async function runCaptured(args: string[]): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), { args, cwd: ROOT, stdout: "piped", stderr: "piped" })
    .output();
  return new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
}

Deno.test("secrets: no token, password or device secret appears in any log of Ground Control or the satellite", async () => {
  const registryAuth = { username: "robot-puller", password: "registry-pass-7f3a9c2e51" };
  const admin = "admin-token-4c1d8e0b9a7f6e5d";
  const localAuth = { username: "local", password: "local-registry-pass-93ab17" };
  await using central = await startDistribution({ auth: registryAuth });
  const dir = await Deno.makeTempDir({ prefix: "secrets-" });
  const image = await buildImage({ seed: "secrets-web", layers: [{ randomBytes: 16 * 1024 }] });
  await pushImages(central.host, [{ repository: "app/web", tag: "1", image }], {
    destCreds: `${registryAuth.username}:${registryAuth.password}`,
  });
  const gcPort = freePort();
  const gcUrl = `http://127.0.0.1:${gcPort}`;
  const gc = spawnCaptured(["run", "-A", "control/main.ts"], {
    GROUND_CONTROL_LISTEN: `127.0.0.1:${gcPort}`,
    GROUND_CONTROL_DATA: `${dir}/control.kv`,
    GROUND_CONTROL_REGISTRY_URL: central.url,
    GROUND_CONTROL_REGISTRY_USERNAME: registryAuth.username,
    GROUND_CONTROL_REGISTRY_PASSWORD: registryAuth.password,
    GROUND_CONTROL_PULL_USERNAME: registryAuth.username,
    GROUND_CONTROL_PULL_PASSWORD: registryAuth.password,
    GROUND_CONTROL_ADMIN_TOKEN: admin,
    GROUND_CONTROL_REPORT_INTERVAL: "5",
    GROUND_CONTROL_LOG_LEVEL: "debug",
  });
  let satellite: ReturnType<typeof spawnCaptured> | undefined;
  const cliOutput: string[] = [];
  try {
    await waitForHttp(`${gcUrl}/healthz`, 30_000);
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${gcUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
      return JSON.parse(text);
    };
    await api("PUT", "/api/groups/g", { artifacts: [{ repository: "app/web", tags: ["1"] }] });
    const { token } = await api("POST", "/api/satellites", {
      name: "quiet-1",
      groups: ["g"],
      config: { poll: { intervalSeconds: 1, jitterSeconds: 0 }, reportIntervalSeconds: 5, logLevel: "debug" },
    }) as { token: string };
    // A wrong admin token and a wrong registration token are tried too (error paths log).
    await fetch(`${gcUrl}/api/satellites`, { headers: { authorization: "Bearer wrong-admin-token-123" } })
      .then((r) => r.body?.cancel());

    await Deno.writeTextFile(`${dir}/token`, token);
    const listen = `127.0.0.1:${freePort()}`;
    const configPath = `${dir}/satellite.json`;
    await Deno.writeTextFile(
      configPath,
      JSON.stringify({
        groundControlUrl: gcUrl,
        tokenFiles: [`${dir}/token`],
        dataDir: `${dir}/satellite`,
        localRegistry: { mode: "builtin", listen, auth: localAuth },
        logLevel: "debug",
      }),
    );
    const cli = ["run", "-A", "edge/main.ts", "--config", configPath, "--cmdline", "/nonexistent"];
    satellite = spawnCaptured([...cli, "run"]);
    await until("synced and reported", async () => {
      const view = await api("GET", "/api/satellites/quiet-1") as {
        status?: { counts?: { synced?: number } };
      };
      return view.status?.counts?.synced === 1;
    }, 60_000);
    const metrics = await fetch(`http://${listen}/metrics`);
    assert.equal(metrics.status, 200);
    cliOutput.push(await metrics.text());
    const pulled = await fetch(`http://${listen}/v2/app/web/manifests/1`, {
      headers: { authorization: `Basic ${btoa(`${localAuth.username}:${localAuth.password}`)}` },
    });
    assert.equal(pulled.status, 200);
    await pulled.body?.cancel();
    await satellite.stop();
    // The CLI too (the service is stopped, as for `sync --once`).
    cliOutput.push(await runCaptured([...cli, "sync", "--once"]));
    cliOutput.push(await runCaptured([...cli, "status"]));
    cliOutput.push(await runCaptured([...cli, "status", "--json"]));
    cliOutput.push(await runCaptured([...cli, "--token", "a-wrong-registration-token-0123", "status"]));
  } finally {
    await satellite?.stop();
    await gc.stop();
  }
  try {
    await using db = await SatelliteDb.open(`${dir}/satellite`);
    const identity = await loadIdentity(db);
    assert.ok(identity, "the satellite registered");
    const logs = [gc.output(), satellite!.output(), ...cliOutput].join("\n");
    // The logs are real: JSON lines about what happened, naming the satellite.
    for (const kind of ["ztr.registered", "sync.artifact", "state.accepted"]) {
      assert.ok(logs.includes(`"kind":"${kind}"`), `log lines for ${kind}`);
    }
    assert.ok(logs.includes("satellite registered"), "Ground Control logged the registration");
    const secrets: Record<string, string> = {
      "admin token": admin,
      "registration token": (await Deno.readTextFile(`${dir}/token.used`).catch(() => "")) || "missing",
      "device secret": identity.deviceSecret,
      "registry password": registryAuth.password,
      "registry basic auth": Buffer.from(`${registryAuth.username}:${registryAuth.password}`).toString(
        "base64",
      ),
      "local registry password": localAuth.password,
      "local registry basic auth": btoa(`${localAuth.username}:${localAuth.password}`),
    };
    assert.notEqual(secrets["registration token"], "missing", "the token file was retired after use");
    for (const [what, secret] of Object.entries(secrets)) {
      assert.ok(!logs.includes(secret), `${what} appears in the logs`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
