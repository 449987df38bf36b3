import assert from "node:assert/strict";
import { main } from "./main.ts";

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
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
