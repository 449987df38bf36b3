/**
 * The demo's satellite as a child process (`deno run -A edge/main.ts --config FILE run`), the way it
 * runs on a device: its config file, a token file it retires after registering, its own data dir.
 * Its JSON event lines (stderr) are parsed for the demo's progress display and kept in a log file.
 *
 * @example
 * ```ts
 * import { startSatelliteProcess } from "./satellite_process.ts";
 * const sat = await startSatelliteProcess({
 *   dir: await Deno.makeTempDir(),
 *   groundControlUrl: "http://127.0.0.1:8080",
 *   token: "a-registration-token",
 *   listen: "127.0.0.1:8585",
 *   onEvent: (e) => console.log(e.kind, e.message),
 * });
 * await sat.stop();
 * ```
 * @module
 */
import { ENV_NAMES } from "../edge/config.ts";
import type { SatelliteEvent } from "../edge/events.ts";

/** The repository root (`deno run` resolves deno.json's imports from here). */
export const REPO_ROOT = new URL("../", import.meta.url).pathname;
const SATELLITE_MAIN = new URL("../edge/main.ts", import.meta.url).pathname;

/** Options of {@linkcode startSatelliteProcess}. */
export interface SatelliteProcessOptions {
  /** The device's directory: config, token file, data dir and log go in here. */
  dir: string;
  groundControlUrl: string;
  /** The registration token, written to a token file (as provisioning would). */
  token: string;
  /** Built-in registry listen address. */
  listen: string;
  onEvent?: (event: SatelliteEvent) => void;
}

/** A running satellite process. */
export interface SatelliteProcess extends AsyncDisposable {
  /** `--config FILE` plus the other global flags, for more CLI commands against the same device. */
  cliArgs: string[];
  configPath: string;
  tokenPath: string;
  dataDir: string;
  logPath: string;
  /** Resolves with the exit code when the process ends. */
  exited: Promise<number>;
  /** Runs another satellite CLI command for this device (e.g. `status`) and returns its stdout. */
  cli(args: string[]): Promise<string>;
  /** SIGTERM, then SIGKILL after 5 s; waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Writes the device's config and token file and starts `satellite run`.
 *
 * @example
 * ```ts
 * declare const options: SatelliteProcessOptions;
 * await using sat = await startSatelliteProcess(options);
 * console.log(await sat.cli(["status"]));
 * ```
 */
export async function startSatelliteProcess(options: SatelliteProcessOptions): Promise<SatelliteProcess> {
  const configPath = `${options.dir}/config.json`;
  const tokenPath = `${options.dir}/token`;
  const dataDir = `${options.dir}/data`;
  const logPath = `${options.dir}/satellite.log`;
  const cmdlinePath = `${options.dir}/cmdline`;
  await Deno.mkdir(options.dir, { recursive: true });
  await Deno.writeTextFile(
    configPath,
    JSON.stringify(
      {
        groundControlUrl: options.groundControlUrl,
        tokenFiles: [tokenPath],
        dataDir,
        localRegistry: { mode: "builtin", listen: options.listen },
        logLevel: "info",
      },
      null,
      2,
    ) + "\n",
  );
  await Deno.writeTextFile(tokenPath, `${options.token}\n`, { mode: 0o600 });
  // An empty kernel command line: the demo must never pick up a real device's token.
  await Deno.writeTextFile(cmdlinePath, "");
  const cliArgs = ["--config", configPath, "--cmdline", cmdlinePath];
  // The operator's own SATELLITE_* variables must not leak into the demo device (empty = unset).
  const env = { NO_COLOR: "1", ...Object.fromEntries(Object.values(ENV_NAMES).map((name) => [name, ""])) };
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SATELLITE_MAIN, ...cliArgs, "run"],
    cwd: REPO_ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env,
  }).spawn();
  const log = await Deno.open(logPath, { create: true, append: true });
  const encoder = new TextEncoder();
  const pump = async (stream: ReadableStream<Uint8Array>, parse: boolean) => {
    let pending = "";
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      pending += text;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        await log.write(encoder.encode(`${line}\n`));
        if (parse) dispatch(line, options.onEvent);
      }
    }
    if (pending) await log.write(encoder.encode(`${pending}\n`));
  };
  const pumps = Promise.all([pump(child.stdout, false), pump(child.stderr, true)]);
  const exited = child.status.then(async (s) => {
    await pumps.catch(() => {});
    log.close();
    return s.code;
  });
  let stopping: Promise<void> | undefined;
  const stop = () =>
    stopping ??= (async () => {
      try {
        child.kill("SIGTERM");
      } catch { /* already exited */ }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* already exited */ }
      }, 5_000);
      await exited;
      clearTimeout(timer);
    })();
  const cli = async (args: string[]) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", SATELLITE_MAIN, ...cliArgs, ...args],
      cwd: REPO_ROOT,
      stdin: "null",
      env,
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    if (!out.success) {
      throw new Error(`satellite ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}${stdout}`);
    }
    return stdout;
  };
  return { cliArgs, configPath, tokenPath, dataDir, logPath, exited, cli, stop, [Symbol.asyncDispose]: stop };
}

/**
 * Event lines are JSON objects with a `kind` (`{at, level, kind, message, data}`, or the structured
 * log form `{time, level, msg, kind, ...fields}`); anything else is only logged.
 */
function dispatch(line: string, onEvent?: (event: SatelliteEvent) => void): void {
  if (!onEvent || !line.startsWith("{")) return;
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line);
  } catch {
    return;
  }
  const message = record.message ?? record.msg;
  if (typeof record.kind !== "string" || typeof message !== "string") return;
  const data = record.data && typeof record.data === "object"
    ? record.data as Record<string, unknown>
    : record;
  onEvent({
    at: String(record.at ?? record.time ?? ""),
    level: record.level as SatelliteEvent["level"],
    kind: record.kind,
    message,
    data,
  });
}

/**
 * The last `lines` lines of a file (for error messages), or "" when it cannot be read.
 *
 * @example
 * ```ts
 * await tailOf("/tmp/satellite.log", 5);
 * ```
 */
export async function tailOf(path: string, lines: number): Promise<string> {
  const text = await Deno.readTextFile(path).catch(() => "");
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}
