import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { freePort, waitForHttp } from "../tests/support/ports.ts";
import { BUNDLE_SHEBANG, BUNDLE_TARGETS, bundleAll, bundleEntry, isStale, REPO_ROOT } from "./bundle.ts";
import { writeTestProgram } from "./test_support.ts";

/** Runs a command in an empty directory with an empty DENO_DIR: nothing but the file and stock deno. */
async function runIsolated(cmd: string, args: string[], cwd: string) {
  const denoDir = await Deno.makeTempDir({ prefix: "empty-deno-dir-" });
  try {
    const out = await new Deno.Command(cmd, {
      args,
      cwd,
      env: { DENO_DIR: denoDir, NO_COLOR: "1", PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const d = new TextDecoder();
    return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
  } finally {
    await Deno.remove(denoDir, { recursive: true });
  }
}

Deno.test("a bundle inlines npm packages and runs with stock deno --unstable-kv from an empty dir", async () => {
  const src = await Deno.makeTempDir({ prefix: "bundle-src-" });
  const run = await Deno.makeTempDir({ prefix: "bundle-run-" });
  try {
    const entry = await writeTestProgram(src);
    const output = join(run, "program.js");
    await bundleEntry({ entry, output });
    const code = await Deno.readTextFile(output);
    ok(code.startsWith(`${BUNDLE_SHEBANG}\n`));
    equal(/["']npm:/.test(code), false, "no npm: specifier may remain");
    ok(code.includes("ZodString") || code.includes("$ZodString"), "zod is inlined");
    equal((await Deno.stat(output)).mode! & 0o111, 0o111);
    // Source tree gone: only the bundle is left.
    await Deno.remove(src, { recursive: true });

    const viaDeno = await runIsolated(
      Deno.execPath(),
      ["run", "--unstable-kv", "-A", output, "world", join(run, "a.kv")],
      run,
    );
    equal(viaDeno.code, 0, viaDeno.stderr);
    equal(viaDeno.stdout.trim(), '"hello world"');

    // The shebang carries the flags: the file is executable on its own (deno on PATH).
    const direct = await runIsolated(output, ["shebang", join(run, "b.kv")], run);
    equal(direct.code, 0, direct.stderr);
    equal(direct.stdout.trim(), '"hello shebang"');

    // Validation inside the bundle still works (zod is live code, not a stub).
    const bad = await runIsolated(
      Deno.execPath(),
      ["run", "--unstable-kv", "-A", output, "", ":memory:"],
      run,
    );
    equal(bad.code, 1);
    match(bad.stderr, /too_small|Too small/i);
  } finally {
    await Deno.remove(src, { recursive: true }).catch(() => {});
    await Deno.remove(run, { recursive: true });
  }
});

Deno.test("bundleEntry reports deno bundle's error for a broken entry", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bundle-bad-" });
  try {
    const entry = join(dir, "main.ts");
    await Deno.writeTextFile(entry, `import { nope } from "./missing.ts";\nconsole.log(nope);\n`);
    let message = "";
    try {
      await bundleEntry({ entry, output: join(dir, "out.js") });
    } catch (e) {
      message = (e as Error).message;
    }
    match(message, /deno bundle .*main\.ts failed/);
    match(message, /missing\.ts/);
    equal(await Deno.stat(join(dir, "out.js")).then(() => true, () => false), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bundleAll builds present entries, skips missing ones and rebuilds only when stale", async () => {
  const root = await Deno.makeTempDir({ prefix: "bundle-root-" });
  try {
    await Deno.copyFile(join(REPO_ROOT, "deno.json"), join(root, "deno.json"));
    await Deno.copyFile(join(REPO_ROOT, "deno.lock"), join(root, "deno.lock"));
    const entry = await writeTestProgram(join(root, "app"));
    const targets = [
      { entry: "app/main.ts", output: "app.js" },
      { entry: "absent/main.ts", output: "absent.js" },
    ];
    const outDir = join(root, "dist");
    const first = await bundleAll({ root, outDir, targets });
    deepStrictEqual(first.map((o) => o.status), ["built", "missing-entry"]);
    const second = await bundleAll({ root, outDir, targets });
    deepStrictEqual(second.map((o) => o.status), ["fresh", "missing-entry"]);
    equal(await isStale(entry, join(outDir, "app.js"), root), false);

    // Touch a dependency (not the entry): the bundle is stale again.
    const later = new Date(Date.now() + 5_000);
    await Deno.utime(join(root, "app", "lib", "greeting.ts"), later, later);
    equal(await isStale(entry, join(outDir, "app.js"), root), true);
    deepStrictEqual((await bundleAll({ root, outDir, targets })).map((o) => o.status), [
      "built",
      "missing-entry",
    ]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

const hasEntries = await Promise.all(
  BUNDLE_TARGETS.map((t) => Deno.stat(join(REPO_ROOT, t.entry)).then(() => true, () => false)),
);

Deno.test({
  name: "the real satellite and Ground Control bundles run with stock deno from an empty dir",
  ignore: hasEntries.includes(false),
  fn: async () => {
    const outcomes = await bundleAll();
    deepStrictEqual(outcomes.map((o) => o.status === "missing-entry"), [false, false]);
    const [satellite, groundControl] = outcomes.map((o) => o.output);
    const dir = await Deno.makeTempDir({ prefix: "bundle-real-" });
    try {
      const status = await runIsolated(Deno.execPath(), [
        "run",
        "--unstable-kv",
        "-A",
        satellite,
        "--config",
        join(dir, "absent.json"),
        "--data-dir",
        join(dir, "sat"),
        "status",
        "--json",
      ], dir);
      equal(status.code, 0, status.stderr);
      equal(JSON.parse(status.stdout).registered, false);

      const port = freePort();
      const denoDir = await Deno.makeTempDir({ prefix: "empty-deno-dir-" });
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--unstable-kv",
          "-A",
          groundControl,
          "--listen",
          `127.0.0.1:${port}`,
          "--data",
          join(dir, "gc.kv"),
          "--registry-url",
          "http://127.0.0.1:9",
        ],
        cwd: dir,
        env: { DENO_DIR: denoDir, NO_COLOR: "1" },
        clearEnv: true,
        stdout: "null",
        stderr: "null",
      }).spawn();
      try {
        await waitForHttp(`http://127.0.0.1:${port}/openapi.json`, 15_000);
        const res = await fetch(`http://127.0.0.1:${port}/openapi.json`);
        equal(res.status, 200);
        ok(typeof (await res.json()).openapi === "string");
      } finally {
        child.kill("SIGTERM");
        await child.status;
        await Deno.remove(denoDir, { recursive: true });
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
