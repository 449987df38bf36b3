/**
 * The V8 flags the satellite ships with, read from `systemd/satellite.service`, so benchmarks
 * measure what runs on devices (one source of truth; `BENCH_V8_FLAGS` overrides for experiments).
 *
 * @example
 * ```ts
 * import { satelliteV8Flags } from "./v8_flags.ts";
 * const flags = await satelliteV8Flags(); // "--max-semi-space-size=1"
 * ```
 * @module
 */

/**
 * `BENCH_V8_FLAGS`, else the `--v8-flags=` value of the satellite unit's `ExecStart`, else undefined.
 *
 * @example
 * ```ts
 * const flags = await satelliteV8Flags();
 * const args = flags ? [`--v8-flags=${flags}`] : [];
 * ```
 */
export async function satelliteV8Flags(): Promise<string | undefined> {
  const override = Deno.env.get("BENCH_V8_FLAGS");
  if (override) return override;
  const unit = await Deno.readTextFile(new URL("../systemd/satellite.service", import.meta.url));
  return unit.match(/^ExecStart=.*?--v8-flags=(\S+)/m)?.[1];
}
