import assert from "node:assert/strict";
import { SatelliteDb } from "./db.ts";
import { findToken, isTokenSpent, parseCmdlineToken, rejectToken, retireToken } from "./token.ts";

Deno.test("parseCmdlineToken finds satellite.token among other arguments", () => {
  assert.deepEqual(parseCmdlineToken("console=tty1 satellite.token=abc_DEF-1 quiet\n"), "abc_DEF-1");
  assert.deepEqual(parseCmdlineToken("console=tty1 quiet"), undefined);
});

Deno.test("findToken: config first, then files in order, then the kernel command line; spent tokens skipped", async () => {
  const dir = await Deno.makeTempDir();
  await using db = await SatelliteDb.open(`${dir}/data`);
  try {
    await Deno.writeTextFile(`${dir}/cmdline`, "ro satellite.token=from-cmdline");
    await Deno.writeTextFile(`${dir}/token2`, "from-file2\n");
    const base = {
      tokenFiles: [`${dir}/token1`, `${dir}/token2`],
      cmdlinePath: `${dir}/cmdline`,
      isSpent: (hash: string) => isTokenSpent(db, hash),
    };
    assert.deepEqual((await findToken({ ...base, configToken: "from-config" }))?.source, "config");
    const fromFile = await findToken(base);
    assert.deepEqual([fromFile?.token, fromFile?.path], ["from-file2", `${dir}/token2`]);
    await rejectToken(db, fromFile!);
    assert.deepEqual((await findToken(base))?.token, "from-cmdline");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("retireToken renames the file, or remembers it in KV when the file cannot move", async () => {
  const dir = await Deno.makeTempDir();
  await using db = await SatelliteDb.open(`${dir}/data`);
  try {
    await Deno.writeTextFile(`${dir}/token`, "tok");
    const opts = {
      tokenFiles: [`${dir}/token`],
      cmdlinePath: `${dir}/none`,
      isSpent: (h: string) => isTokenSpent(db, h),
    };
    const found = (await findToken(opts))!;
    assert.deepEqual(await retireToken(db, found), "renamed");
    assert.deepEqual(await Deno.readTextFile(`${dir}/token.used`), "tok");
    // A read-only boot partition: the file stays but the token is never offered again.
    await Deno.mkdir(`${dir}/ro`);
    await Deno.writeTextFile(`${dir}/ro/token`, "tok2");
    await Deno.chmod(`${dir}/ro`, 0o500);
    const ro = (await findToken({ ...opts, tokenFiles: [`${dir}/ro/token`] }))!;
    const outcome = await retireToken(db, ro);
    await Deno.chmod(`${dir}/ro`, 0o700);
    if (Deno.uid() !== 0) assert.deepEqual(outcome, "kept");
    assert.deepEqual(await findToken({ ...opts, tokenFiles: [`${dir}/ro/token`] }), null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SatelliteDb keeps its files private", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const db = await SatelliteDb.open(`${dir}/data`);
    await db.set(["x"], 1);
    db.close();
    assert.deepEqual((await Deno.stat(`${dir}/data`)).mode! & 0o777, 0o700);
    assert.deepEqual((await Deno.stat(`${dir}/data/satellite.kv`)).mode! & 0o777, 0o600);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
