/**
 * Runs every benchmark one after another (`deno task bench`), each in its own `deno run` so one
 * benchmark's memory and event loop never colour another's figures. Pass names to run a subset:
 * `deno task bench copy registry`.
 *
 * @example
 * ```ts
 * // deno run -A bench/all.ts copy throttle
 * ```
 * @module
 */

/** The benchmarks, in the order they run: each compares the project with a peer and prints ratios. */
export const BENCHMARKS = ["copy", "registry", "control", "sync", "throttle"] as const;

if (import.meta.main) {
  const wanted = Deno.args.length ? Deno.args : [...BENCHMARKS];
  const unknown = wanted.filter((name) => !(BENCHMARKS as readonly string[]).includes(name));
  if (unknown.length) {
    console.error(`unknown benchmark(s): ${unknown.join(", ")}; choose from ${BENCHMARKS.join(", ")}`);
    Deno.exit(2);
  }
  let failed = 0;
  for (const name of wanted) {
    console.log(`\n=== bench/${name}.ts`);
    const script = new URL(`./${name}.ts`, import.meta.url).pathname;
    const status = await new Deno.Command(Deno.execPath(), { args: ["run", "-A", script] }).spawn().status;
    if (!status.success) {
      console.error(`bench/${name}.ts exited ${status.code}`);
      failed++;
    }
  }
  Deno.exit(failed ? 1 : 0);
}
