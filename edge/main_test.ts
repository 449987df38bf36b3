import assert from "node:assert/strict";
import { freePort } from "../tests/support/ports.ts";
import { EXIT, main } from "./main.ts";

Deno.test("main: status --json works on a fresh device; bad usage exits 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const common = ["--config", `${dir}/missing.json`, "--data-dir", `${dir}/data`];
    assert.equal(await main([...common, "status", "--json"]), 0);
    assert.equal(await main([...common, "sync"]), 2);
    assert.equal(await main([...common, "frobnicate"]), 2);
    await Deno.writeTextFile(
      `${dir}/bad.json`,
      JSON.stringify({ localRegistry: { mode: "external", url: "nope" } }),
    );
    assert.equal(await main(["--config", `${dir}/bad.json`, "status"]), 2);
    // Without --config the path comes from SATELLITE_CONFIG (the systemd unit sets it).
    Deno.env.set("SATELLITE_CONFIG", `${dir}/bad.json`);
    try {
      assert.equal(await main(["--data-dir", `${dir}/data`, "status"]), 2);
    } finally {
      Deno.env.delete("SATELLITE_CONFIG");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("main: sync --once exits 3 when it cannot register, 4 when Ground Control is unreachable", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const config = `${dir}/config.json`;
    const port = freePort(); // nothing listens there
    await Deno.writeTextFile(
      config,
      JSON.stringify({
        tokenFiles: [],
        dataDir: `${dir}/data`,
        groundControlUrl: `http://127.0.0.1:${port}`,
        localRegistry: { mode: "builtin", listen: "127.0.0.1:0" },
        logLevel: "error",
      }),
    );
    const common = ["--config", config, "--cmdline", "/nonexistent"];
    assert.equal(await main([...common, "sync", "--once", "--json"]), EXIT.notRegistered);
    assert.equal(
      await main([...common, "--token", "a-registration-token-0123456789abcdef", "sync", "--once", "--json"]),
      EXIT.unreachable,
    );
    assert.equal(await main([...common, "--help"]), EXIT.ok);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
