/**
 * `satellite sync --once` and `satellite status` as a person or a script runs them (child process,
 * stdout not a terminal): plain per-image lines, the status table, `--json`, and the exit codes
 * 0 (all synced) and 1 (some artifact failed).
 */
import assert from "node:assert/strict";
import { EXIT } from "../../edge/main.ts";
import { buildImage, pushImages } from "../support/images.ts";
import { startWorld } from "./edge_harness.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "edge/main.ts", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

Deno.test("cli: sync --once prints a line per image and exits 0, or 1 when an artifact fails; status table and --json", async () => {
  await using world = await startWorld();
  const dir = await Deno.makeTempDir({ prefix: "satellite-cli-" });
  try {
    const web = await buildImage({ seed: "cli-web", layers: [{ randomBytes: 32 * 1024 }] });
    await pushImages(world.central.host, [{ repository: "app/web", tag: "1", image: web }]);
    await world.putGroup("g", [{ repository: "app/web", tags: ["1"] }]);
    const write = async (name: string, token: string) => {
      const config = world.satelliteConfig(`${dir}/${name}`, token, { logLevel: "error" });
      await Deno.writeTextFile(`${dir}/${name}.json`, JSON.stringify(config));
      return ["--config", `${dir}/${name}.json`, "--cmdline", "/nonexistent"];
    };

    const ok = await write("ok", await world.createSatellite("cli-ok", ["g"]));
    const synced = await cli([...ok, "sync", "--once"]);
    assert.equal(synced.code, EXIT.ok, synced.stderr);
    assert.match(
      synced.stdout,
      new RegExp(`^synced {2}app/web@${web.digest.slice(0, 19)} .* in \\S+ \\(`, "m"),
    );
    assert.ok(!synced.stdout.includes("\x1b["), "no terminal escapes in a pipe");
    assert.match(synced.stdout, /^artifacts: +1 synced, 0 pending, 0 failed \(converged\)$/m);
    const table = await cli([...ok, "status"]);
    assert.equal(table.code, EXIT.ok);
    assert.match(table.stdout, /^STATUS +REPOSITORY +DIGEST +TAGS +GROUPS$/m);
    assert.match(table.stdout, new RegExp(`^synced +app/web +${web.digest.slice(0, 19)} +1 +g$`, "m"));
    const json = JSON.parse((await cli([...ok, "status", "--json"])).stdout);
    assert.equal(json.satellite, "cli-ok");
    assert.equal(json.counts.synced, 1);

    // A group naming a digest the central registry does not have: that artifact fails, exit 1.
    const missing = "sha256:" + "0".repeat(64);
    await world.syncGroup("broken", [
      { repository: "app/web", tag: ["1"], digest: web.digest, deleted: false },
      { repository: "app/gone", tag: ["1"], digest: missing, deleted: false },
    ]);
    const bad = await write("bad", await world.createSatellite("cli-bad", ["broken"]));
    const failed = await cli([...bad, "sync", "--once", "--json"]);
    assert.equal(failed.code, EXIT.syncFailed, failed.stderr);
    const report = JSON.parse(failed.stdout);
    assert.equal(report.counts.synced, 1);
    assert.equal(report.counts.failed, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: sync --once outside the sync windows fetches nothing and exits 1", async () => {
  await using world = await startWorld();
  const dir = await Deno.makeTempDir({ prefix: "satellite-cli-" });
  try {
    const web = await buildImage({ seed: "cli-window", layers: [{ randomBytes: 16 * 1024 }] });
    await pushImages(world.central.host, [{ repository: "app/web", tag: "1", image: web }]);
    await world.putGroup("g", [{ repository: "app/web", tags: ["1"] }]);
    const days = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    const tomorrow = days[(new Date().getUTCDay() + 1) % 7];
    const token = await world.createSatellite("cli-window", ["g"], {
      bandwidth: { syncWindows: [{ days: [tomorrow], start: "00:00", end: "24:00" }], timeZone: "UTC" },
    });
    const config = world.satelliteConfig(`${dir}/data`, token, { logLevel: "error" });
    await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(config));
    const result = await cli([
      "--config",
      `${dir}/config.json`,
      "--cmdline",
      "/nonexistent",
      "sync",
      "--once",
    ]);
    assert.equal(result.code, EXIT.syncFailed, result.stderr);
    assert.match(result.stderr, /outside the sync windows/);
    assert.deepEqual(world.proxy.log.filter((r) => r.path.startsWith("/v2/app/web/")), [], "nothing fetched");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
