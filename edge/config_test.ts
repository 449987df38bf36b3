import assert from "node:assert/strict";
import { ValidationError } from "../schemas/validate.ts";
import { loadConfig, overridesFromEnv } from "./config.ts";

Deno.test("loadConfig: a missing file means defaults", async () => {
  const config = await loadConfig({ path: "/nonexistent/satellite.json" });
  assert.deepEqual(config.dataDir, "/var/lib/satellite");
  assert.deepEqual(config.localRegistry.mode, "builtin");
});

Deno.test("loadConfig: flags win over env, env over the file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/config.json`;
    await Deno.writeTextFile(
      path,
      JSON.stringify({ dataDir: "/file", token: "file-token", logLevel: "warn" }),
    );
    const config = await loadConfig({
      path,
      env: { SATELLITE_DATA_DIR: "/env", SATELLITE_TOKEN: "env-token" },
      flags: { dataDir: "/flag", registryUrl: "http://127.0.0.1:5000" },
    });
    assert.deepEqual(config.dataDir, "/flag");
    assert.deepEqual(config.token, "env-token");
    assert.deepEqual(config.logLevel, "warn");
    assert.deepEqual(config.localRegistry, { mode: "external", url: "http://127.0.0.1:5000" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadConfig: bad values name the field", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/config.json`;
    await Deno.writeTextFile(path, JSON.stringify({ groundControlUrl: "ftp://x" }));
    await assert.rejects(
      () => loadConfig({ path }),
      (e) => e instanceof ValidationError && e.issues[0].path === "groundControlUrl",
    );
    await Deno.writeTextFile(path, "{ not json");
    await assert.rejects(
      () => loadConfig({ path }),
      (e) => e instanceof ValidationError && /not valid JSON/.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("overridesFromEnv: token files are colon-separated", () => {
  assert.deepEqual(overridesFromEnv({ SATELLITE_TOKEN_FILES: "/a:/b" }).tokenFiles, ["/a", "/b"]);
});
