import assert from "node:assert/strict";
import { main as satelliteCli } from "../edge/main.ts";
import {
  readmeReferenceIsFresh,
  REFERENCE_END,
  REFERENCE_START,
  renderConfigReference,
  SATELLITE_FLAGS,
  spliceReference,
} from "./reference.ts";

Deno.test("README.md's config reference is up to date with the schemas (run `deno task schemas` when this fails)", async () => {
  assert.ok(await readmeReferenceIsFresh(), "stale config reference in README.md; run: deno task schemas");
});

Deno.test("the reference lists every config field with its default, env variable and flag", () => {
  const text = renderConfigReference();
  for (
    const row of [
      "| `dataDir` | string | `/var/lib/satellite` |",
      "| `localRegistry.listen` | string | `0.0.0.0:8585` | (builtin mode)",
      "| `localRegistry.url` | URL |  | (external mode)",
      "| `bandwidth.defaultRate` | number or string | `0` |",
      "| `bandwidth.syncWindows[].start` | string |  |",
      "| `poll.intervalSeconds` | integer 1–86400 | `30` |",
      "| `--registry-url` | `GROUND_CONTROL_REGISTRY_URL` | `registry.url` | URL |  |",
      "| `--listen` | `SATELLITE_LISTEN` | `localRegistry.listen` |",
      "| — | `GROUND_CONTROL_ADMIN_TOKEN` | `adminToken` |",
    ]
  ) assert.ok(text.includes(row), `missing: ${row}`);
});

Deno.test("splicing replaces only the marked section and needs both markers", () => {
  const readme = `intro\n${REFERENCE_START}\nold\n${REFERENCE_END}\noutro\n`;
  assert.equal(
    spliceReference(readme, "new\n"),
    `intro\n${REFERENCE_START}\n\nnew\n\n${REFERENCE_END}\noutro\n`,
  );
  assert.throws(() => spliceReference("no markers", "x"), /config-reference:start/);
});

Deno.test("each documented satellite flag reaches the config field the reference names", async () => {
  // A bad value for the flag must be reported against that field: proof that the CLI maps it there.
  const fields: Record<string, string> = {
    "--ground-control": "groundControlUrl",
    "--token": "token",
    "--data-dir": "dataDir",
    "--log-level": "logLevel",
    "--listen": "localRegistry.listen",
    "--registry-url": "localRegistry.url",
  };
  const documented = Object.values(SATELLITE_FLAGS).filter((f): f is string => f !== null);
  assert.deepEqual(documented.sort(), Object.keys(fields).sort());
  const errors: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => errors.push(args.join(" "));
  try {
    for (const [flag, field] of Object.entries(fields)) {
      errors.length = 0;
      const code = await satelliteCli(["--config", "/nonexistent/config.json", flag, "", "status"]);
      assert.equal(code, 2, `${flag} "" should be refused`);
      assert.match(errors.join("\n"), new RegExp(field.replaceAll(".", "\\.")), `${flag} -> ${field}`);
    }
  } finally {
    console.error = original;
  }
});
