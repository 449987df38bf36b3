import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { provideStandardUnits, securityExposure, unitCommands, verifyUnits } from "./verify.ts";

const here = new URL("./", import.meta.url).pathname;
const UNITS = ["satellite.service", "zot.service", "ground-control.service"];

/** A scratch root with the distribution units, our units and an executable at every command path. */
async function scratchRoot(units = UNITS): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "units-root-" });
  await provideStandardUnits(root);
  await Deno.mkdir(`${root}/etc/systemd/system`, { recursive: true });
  for (const unit of units) {
    const text = await Deno.readTextFile(`${here}${unit}`);
    await Deno.writeTextFile(`${root}/etc/systemd/system/${unit}`, text);
    for (const command of unitCommands(text)) {
      await Deno.mkdir(`${root}${command.slice(0, command.lastIndexOf("/"))}`, { recursive: true });
      await Deno.copyFile("/usr/bin/true", `${root}${command}`);
      await Deno.chmod(`${root}${command}`, 0o755);
    }
  }
  return root;
}

Deno.test("unitCommands lists every Exec command without prefixes", () => {
  const text = `[Service]
ExecStartPre=+/opt/a/pre x
ExecStart=/opt/a/bin --flag
ExecStopPost=-/usr/bin/true
Environment=ExecStart=/not/a/command
`;
  deepStrictEqual(unitCommands(text), ["/opt/a/pre", "/opt/a/bin", "/usr/bin/true"]);
});

Deno.test("every unit passes systemd-analyze verify inside a root tree", async () => {
  const root = await scratchRoot();
  try {
    for (const unit of UNITS) {
      const result = await verifyUnits(root, [`/etc/systemd/system/${unit}`]);
      ok(result.ok, `${unit}: ${result.output}`);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("verify fails on a misspelt directive, a bad value and a missing binary", async () => {
  const root = await scratchRoot();
  try {
    const original = await Deno.readTextFile(`${here}satellite.service`);
    const unitDir = `${root}/etc/systemd/system`;

    await Deno.writeTextFile(
      `${unitDir}/broken.service`,
      original.replace("ProtectSystem=", "ProtectSystm="),
    );
    const misspelt = await verifyUnits(root, ["/etc/systemd/system/broken.service"]);
    equal(misspelt.ok, false);
    match(misspelt.output, /Unknown key 'ProtectSystm'/);

    await Deno.writeTextFile(
      `${unitDir}/broken.service`,
      original.replace("Restart=always", "Restart=sometimes"),
    );
    const badValue = await verifyUnits(root, ["/etc/systemd/system/broken.service"]);
    equal(badValue.ok, false);
    match(badValue.output, /restart/i);

    await Deno.remove(`${root}/opt/satellite/bin/zot`);
    const missing = await verifyUnits(root, ["/etc/systemd/system/zot.service"]);
    equal(missing.ok, false);
    match(missing.output, /\/opt\/satellite\/bin\/zot is not executable/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("every unit is hardened: offline security exposure stays low", async () => {
  const root = await scratchRoot();
  try {
    for (const unit of UNITS) {
      const text = await Deno.readTextFile(`${here}${unit}`);
      for (
        const directive of [
          "DynamicUser=yes",
          "StateDirectory=",
          "ConfigurationDirectory=",
          "ProtectSystem=strict",
          "ProtectHome=yes",
          "NoNewPrivileges=yes",
          "PrivateTmp=yes",
          "Restart=always",
          "RestartSec=",
          "After=network-online.target",
        ]
      ) ok(text.includes(directive), `${unit} lacks ${directive}`);
      const exposure = await securityExposure(root, `/etc/systemd/system/${unit}`);
      ok(exposure <= 2.0, `${unit}: exposure ${exposure} > 2.0`);
    }
    // A unit without the hardening scores much worse, so the check above can fail.
    await Deno.writeTextFile(
      `${root}/etc/systemd/system/bare.service`,
      "[Service]\nExecStart=/opt/satellite/bin/zot serve\n",
    );
    ok(await securityExposure(root, "/etc/systemd/system/bare.service") > 5);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("the satellite starts after zot only softly (zot is optional)", async () => {
  const text = await Deno.readTextFile(`${here}satellite.service`);
  match(text, /^Wants=.*\bzot\.service\b/m);
  match(text, /^After=.*\bzot\.service\b/m);
  equal(/^Requires=.*zot/m.test(text), false);
  // And it still verifies on a device that has no zot at all.
  const root = await scratchRoot(["satellite.service"]);
  try {
    const result = await verifyUnits(root, ["/etc/systemd/system/satellite.service"]);
    ok(result.ok, result.output);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
