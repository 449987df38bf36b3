/**
 * `deno task demo`: Ground Control, a central registry and a satellite on this machine, syncing
 * real images, then a pull from the satellite. Needs nothing but Deno; uses containerd's `ctr` for
 * the pull when it is installed (and we are root).
 *
 * ```
 * deno task demo [--keep] [--pull-with auto|ctr|client]
 *   --keep        stay up after the demo (Ctrl-C stops everything), printing URLs and commands
 *   --pull-with   how to prove the pull: ctr, the project's OCI client, or auto (default)
 * ```
 *
 * Every process and temporary directory is removed at the end, on an error, and on Ctrl-C.
 *
 * @example
 * ```ts
 * import { main } from "./main.ts";
 * const code = await main(["--pull-with", "client"]);
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import { parseOrThrow, ValidationError } from "../schemas/validate.ts";
import { type DemoWorld, runDemo } from "./run.ts";

const USAGE = "usage: deno task demo [--keep] [--pull-with auto|ctr|client]";

const Args = z.object({
  keep: z.boolean().default(false),
  help: z.boolean().default(false),
  "pull-with": z.enum(["auto", "ctr", "client"]).default("auto"),
});

/**
 * What to try once the demo stays up with `--keep`.
 *
 * @example
 * ```ts
 * declare const world: DemoWorld;
 * console.log(keepInstructions(world));
 * ```
 */
export function keepInstructions(world: DemoWorld): string {
  const gc = world.groundControlUrl;
  const auth = `-H "Authorization: Bearer ${world.adminToken}"`;
  const registryHost = new URL(world.satelliteRegistryUrl).host;
  return [
    "",
    "The demo keeps running (Ctrl-C stops and removes everything):",
    `  Ground Control     ${gc}   (API: ${gc}/openapi.json, metrics: ${gc}/metrics)`,
    `  admin token        ${world.adminToken}`,
    `  central registry   ${world.registryUrl}`,
    `  satellite registry ${world.satelliteRegistryUrl}   (${world.satelliteName})`,
    `  logs               ${world.logs.join("  ")}`,
    "",
    "Try:",
    `  curl -s ${auth} ${gc}/api/fleet`,
    `  curl -s ${auth} ${gc}/api/satellites/${world.satelliteName}`,
    `  curl -s -X PUT ${auth} -H "Content-Type: application/json" \\`,
    `       -d '{"artifacts":[{"repository":"demo/api","tags":["2.3"]}]}' ${gc}/api/groups/stores`,
    `  curl -s ${world.satelliteRegistryUrl}/v2/_catalog`,
    `  skopeo inspect --tls-verify=false docker://${registryHost}/demo/web:1.0`,
    `  ${world.satelliteCli} status`,
  ].join("\n");
}

/**
 * Runs the demo; returns the exit code. Signals (SIGINT, SIGTERM) stop it cleanly at any point.
 *
 * @example
 * ```ts
 * Deno.exit(await main(Deno.args));
 * ```
 */
export async function main(argv: string[]): Promise<number> {
  let args: z.infer<typeof Args>;
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        keep: { type: "boolean" },
        help: { type: "boolean", short: "h" },
        "pull-with": { type: "string" },
      },
    });
    args = parseOrThrow(Args, values, "command line");
  } catch (e) {
    console.error(`${e instanceof ValidationError ? e.message : (e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  const stack = new AsyncDisposableStack();
  let disposing: Promise<void> | undefined;
  const cleanUp = () => disposing ??= stack.disposeAsync();
  const interrupted = new AbortController();
  const onSignal = () => interrupted.abort(new Error("interrupted"));
  const signals = ["SIGINT", "SIGTERM"] as const;
  for (const signal of signals) Deno.addSignalListener(signal, onSignal);
  const stopped = new Promise<"interrupted">((resolve) =>
    interrupted.signal.addEventListener("abort", () => resolve("interrupted"))
  );
  try {
    const demo = runDemo({ pullWith: args["pull-with"], signal: interrupted.signal }, stack);
    const outcome = await Promise.race([demo, stopped]);
    if (outcome === "interrupted") {
      demo.catch(() => {});
      console.log("\nInterrupted: stopping everything and removing the demo directory ...");
      return 130;
    }
    if (args.keep) {
      console.log(keepInstructions(outcome));
      await stopped;
      console.log("\nStopping ...");
      return 0;
    }
    console.log(`\nDemo finished in ${outcome.seconds.toFixed(1)} s; stopping everything and cleaning up.`);
    return 0;
  } catch (e) {
    if (interrupted.signal.aborted) return 130;
    console.error(`\ndemo failed: ${(e as Error).message}`);
    return 1;
  } finally {
    await cleanUp();
    for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
