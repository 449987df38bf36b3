/**
 * Checking unit files with `systemd-analyze` against a root tree, without systemd as PID 1.
 *
 * `systemd-analyze verify --root=DIR` resolves every path (unit search path, `ExecStart=` binaries)
 * inside DIR. An appliance overlay holds only its own units, so {@linkcode provideStandardUnits}
 * first copies the host distribution's units (sysinit.target, network-online.target, ...) into the
 * tree, as they would be on the device's root filesystem. Verification then reports unknown
 * directives, bad values, missing dependencies and missing or non-executable commands.
 *
 * @example
 * ```ts
 * import { provideStandardUnits, verifyUnits } from "./verify.ts";
 * await provideStandardUnits("/tmp/root");
 * const result = await verifyUnits("/tmp/root", ["/etc/systemd/system/satellite.service"]);
 * if (!result.ok) console.error(result.output);
 * ```
 * @module
 */

/** Where the host keeps its distribution units. */
export const HOST_UNIT_DIR = "/usr/lib/systemd/system";

/** The outcome of one `systemd-analyze` run. */
export interface AnalyzeResult {
  /** Exit status 0. */
  ok: boolean;
  /** stdout and stderr together: the warnings name the unit, line and problem. */
  output: string;
}

async function analyze(args: string[]): Promise<AnalyzeResult> {
  const out = await new Deno.Command("systemd-analyze", {
    args,
    stdout: "piped",
    stderr: "piped",
    env: { SYSTEMD_LOG_COLOR: "0", SYSTEMD_PAGER: "" },
  }).output();
  const decoder = new TextDecoder();
  return { ok: out.success, output: decoder.decode(out.stdout) + decoder.decode(out.stderr) };
}

/**
 * Copies the host's distribution units into `root/usr/lib/systemd/system`, never overwriting a
 * unit the tree already has.
 *
 * @example
 * ```ts
 * await provideStandardUnits("/tmp/root");
 * ```
 */
export async function provideStandardUnits(root: string, hostUnitDir = HOST_UNIT_DIR): Promise<void> {
  const target = `${root}/usr/lib/systemd/system`;
  await Deno.mkdir(target, { recursive: true });
  const out = await new Deno.Command("cp", {
    args: ["-a", "--no-clobber", `${hostUnitDir}/.`, `${target}/`],
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`copying ${hostUnitDir} into ${target} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/**
 * Runs `systemd-analyze verify --root=ROOT --recursive-errors=yes` on units given by their path
 * inside the tree (e.g. `/etc/systemd/system/satellite.service`). Any warning fails.
 *
 * @example
 * ```ts
 * const { ok, output } = await verifyUnits("/tmp/root", ["/etc/systemd/system/zot.service"]);
 * ```
 */
export function verifyUnits(root: string, unitPaths: string[]): Promise<AnalyzeResult> {
  return analyze(["verify", "--man=no", `--root=${root}`, "--recursive-errors=yes", ...unitPaths]);
}

/**
 * The overall exposure score (0 = locked down, 10 = unprotected) that
 * `systemd-analyze security --offline=true` gives a unit inside the tree.
 *
 * @example
 * ```ts
 * const score = await securityExposure("/tmp/root", "/etc/systemd/system/satellite.service");
 * ```
 */
export async function securityExposure(root: string, unitPath: string): Promise<number> {
  const result = await analyze(["security", "--offline=true", `--root=${root}`, "--no-pager", unitPath]);
  const match = /Overall exposure level for \S+: (\d+(?:\.\d+)?)/.exec(result.output);
  if (!match) throw new Error(`no exposure level in systemd-analyze output:\n${result.output}`);
  return Number(match[1]);
}

/**
 * Absolute paths of the commands a unit runs (`ExecStart=`, `ExecStartPre=`, ...), without the
 * `-+!@:` prefixes.
 *
 * @example
 * ```ts
 * unitCommands("[Service]\nExecStart=-/usr/bin/true x\n"); // ["/usr/bin/true"]
 * ```
 */
export function unitCommands(unitText: string): string[] {
  const commands: string[] = [];
  for (const line of unitText.split("\n")) {
    const match = /^\s*Exec[A-Za-z]+\s*=\s*[-+!@:]*(\S+)/.exec(line);
    if (match) commands.push(match[1]);
  }
  return commands;
}
