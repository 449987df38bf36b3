/**
 * `satellite mirror-config`: prints (and with `--apply` writes) runtime mirror configuration.
 * The satellite's CLI hands its arguments to {@linkcode mirrorConfigCommand}; defaults come from
 * the satellite config (`mirror.root`, the local registry URL, the central registry host).
 *
 * ```
 * satellite mirror-config --runtime containerd [--runtime k3s ...] --upstream harbor.example.com
 *   [--local-url http://127.0.0.1:8585] [--root /] [--skip-verify] [--apply]
 * ```
 *
 * @example
 * ```ts
 * import { mirrorConfigCommand } from "./cli.ts";
 * const code = await mirrorConfigCommand(
 *   ["--runtime", "containerd", "--upstream", "harbor.example.com"],
 *   { localUrl: "http://127.0.0.1:8585" },
 * );
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import type { MirrorRequestInput } from "../../schemas/mirror.ts";
import { ValidationError } from "../../schemas/validate.ts";
import { applyMirrorConfig, type MirrorPlan } from "./apply.ts";

/** Defaults the caller knows from the satellite config. */
export interface MirrorCliDefaults {
  localUrl?: string;
  upstreamHost?: string;
  root?: string;
  runtimes?: string[];
}

/** Where the command writes; defaults to the console. */
export interface MirrorCliOutput {
  out(line: string): void;
  err(line: string): void;
}

/** Usage text. */
export const MIRROR_CONFIG_USAGE =
  `usage: satellite mirror-config --runtime <containerd|nerdctl|crio|podman|docker|k3s|rke2> [--runtime ...]
         --upstream <host[:port] | http://host:port> [--local-url http://127.0.0.1:8585] [--root /]
         [--skip-verify] [--apply]
Without --apply the planned files are printed and nothing is written.`;

/**
 * Human-readable summary of a plan (with the file contents when nothing was written).
 *
 * @example
 * ```ts
 * import { applyMirrorConfig } from "./apply.ts";
 * const plan = await applyMirrorConfig({ runtime: "podman", localUrl: "http://127.0.0.1:8585", upstreamHost: "docker.io" });
 * console.log(formatMirrorPlan(plan));
 * ```
 */
export function formatMirrorPlan(plan: MirrorPlan): string {
  const lines: string[] = [];
  for (const file of plan.files) {
    const state = file.written ? "wrote" : file.changed ? "would write" : "unchanged";
    lines.push(
      `# ${plan.runtime}: ${state} ${file.fullPath}${file.backup ? ` (backup: ${file.backup})` : ""}`,
    );
    if (!file.written && file.changed) lines.push(file.content.trimEnd());
  }
  for (const note of plan.notes) lines.push(`# note: ${note}`);
  return lines.join("\n");
}

/**
 * Runs the command; returns the exit code (0 ok, 2 usage or validation error, 1 other failure).
 *
 * @example
 * ```ts
 * const code = await mirrorConfigCommand(["--runtime", "docker", "--upstream", "docker.io", "--root", "/tmp/stage", "--apply"]);
 * ```
 */
export async function mirrorConfigCommand(
  args: string[],
  defaults: MirrorCliDefaults = {},
  output: MirrorCliOutput = { out: console.log, err: console.error },
): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        runtime: { type: "string", multiple: true },
        upstream: { type: "string" },
        "local-url": { type: "string" },
        root: { type: "string" },
        "skip-verify": { type: "boolean", default: false },
        apply: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    output.err(`${(e as Error).message}\n${MIRROR_CONFIG_USAGE}`);
    return 2;
  }
  if (values.help) {
    output.out(MIRROR_CONFIG_USAGE);
    return 0;
  }
  const runtimes = values.runtime ?? defaults.runtimes ?? [];
  if (runtimes.length === 0) {
    output.err(`--runtime is required\n${MIRROR_CONFIG_USAGE}`);
    return 2;
  }
  let code = 0;
  for (const runtime of runtimes) {
    const request = {
      runtime,
      root: values.root ?? defaults.root ?? "/",
      localUrl: values["local-url"] ?? defaults.localUrl ?? "http://127.0.0.1:8585",
      upstreamHost: values.upstream ?? defaults.upstreamHost,
      skipVerify: values["skip-verify"],
      apply: values.apply,
    } as MirrorRequestInput;
    try {
      output.out(formatMirrorPlan(await applyMirrorConfig(request)));
    } catch (e) {
      output.err(`${runtime}: ${(e as Error).message}`);
      code = Math.max(code, e instanceof ValidationError ? 2 : 1);
    }
  }
  return code;
}
