/**
 * Single-file builds: `deno task bundle` writes `dist/satellite.js` (from `edge/main.ts`) and
 * `dist/ground-control.js` (from `control/main.ts`) with `deno bundle`. npm packages are inlined,
 * so the file runs on a device with nothing but a stock `deno`:
 * `deno run --unstable-kv -A dist/satellite.js run` (no deno.json, no npm cache needed). Each file
 * starts with a shebang carrying those flags, so it is also directly executable.
 *
 * @example
 * ```ts
 * import { bundleEntry } from "./bundle.ts";
 * await bundleEntry({ entry: "/work/main/edge/main.ts", output: "/tmp/satellite.js" });
 * ```
 * @module
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (this file lives in `image/`). */
export const REPO_ROOT = fileURLToPath(new URL("../", import.meta.url)).replace(/\/$/, "");

/** One single-file program. */
export interface BundleTarget {
  /** Entry module, relative to the repository root. */
  entry: string;
  /** Output file name under `dist/`. */
  output: string;
}

/** The programs `deno task bundle` builds. */
export const BUNDLE_TARGETS: readonly BundleTarget[] = [
  { entry: "edge/main.ts", output: "satellite.js" },
  { entry: "control/main.ts", output: "ground-control.js" },
];

/** First line of every bundle: the runtime flags it needs. */
export const BUNDLE_SHEBANG = "#!/usr/bin/env -S deno run --unstable-kv --allow-all --no-prompt";

/**
 * Put after the shebang: inlined CommonJS npm code (e.g. `yaml`) calls `require("node:process")`,
 * which the bundler's shim can only serve when a `require` is in scope. Module-scoped, not global.
 */
export const BUNDLE_PRELUDE = [
  `import { createRequire as __bundleCreateRequire } from "node:module";`,
  `var require = __bundleCreateRequire(import.meta.url);`,
].join("\n");

/** Options for {@linkcode bundleEntry}. */
export interface BundleOptions {
  /** Absolute path of the entry module. */
  entry: string;
  /** Absolute path of the output file. */
  output: string;
  /** The deno.json whose imports resolve the entry's bare specifiers. */
  config?: string;
  /** Minify the output. */
  minify?: boolean;
}

/**
 * Bundles one entry into one file (npm packages inlined) and marks it executable.
 *
 * @example
 * ```ts
 * await bundleEntry({ entry: `${REPO_ROOT}/edge/main.ts`, output: `${REPO_ROOT}/dist/satellite.js` });
 * ```
 */
export async function bundleEntry(options: BundleOptions): Promise<void> {
  await Deno.mkdir(dirname(options.output), { recursive: true });
  const tmp = `${options.output}.tmp-${crypto.randomUUID()}`;
  const args = [
    "bundle",
    "--quiet",
    "--platform=deno",
    "--packages=bundle",
    "--config",
    options.config ?? join(REPO_ROOT, "deno.json"),
    "--output",
    tmp,
  ];
  if (options.minify) args.push("--minify");
  args.push(options.entry);
  const out = await new Deno.Command(Deno.execPath(), { args, stdout: "piped", stderr: "piped" }).output();
  try {
    if (!out.success) {
      const d = new TextDecoder();
      throw new Error(
        `deno bundle ${options.entry} failed (exit ${out.code}):\n${d.decode(out.stderr)}${
          d.decode(out.stdout)
        }`,
      );
    }
    const code = await Deno.readTextFile(tmp);
    const body = code.startsWith("#!") ? code.slice(code.indexOf("\n") + 1) : code;
    const leftover = /\b(?:from|import)\s*\(?\s*["'](?:npm|jsr):/.exec(body);
    if (leftover) throw new Error(`bundle of ${options.entry} still imports a package: ${leftover[0]}`);
    await Deno.writeTextFile(tmp, `${BUNDLE_SHEBANG}\n${BUNDLE_PRELUDE}\n${body}`);
    await Deno.chmod(tmp, 0o755);
    await Deno.rename(tmp, options.output);
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
}

/**
 * The local files an entry depends on (from `deno info --json`), plus deno.json and deno.lock.
 *
 * @example
 * ```ts
 * const files = await localSources(`${REPO_ROOT}/edge/main.ts`);
 * ```
 */
export async function localSources(entry: string, root = REPO_ROOT): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "--config", join(root, "deno.json"), entry],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`deno info ${entry} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  const graph = JSON.parse(new TextDecoder().decode(out.stdout)) as { modules?: { local?: string }[] };
  const files = (graph.modules ?? []).map((m) => m.local).filter((p): p is string =>
    typeof p === "string" && p.startsWith(root)
  );
  return [...files, join(root, "deno.json"), join(root, "deno.lock")];
}

async function mtime(path: string): Promise<number | undefined> {
  try {
    return (await Deno.stat(path)).mtime?.getTime();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/**
 * True when `output` is missing or older than any local source of `entry`.
 *
 * @example
 * ```ts
 * if (await isStale(`${REPO_ROOT}/edge/main.ts`, `${REPO_ROOT}/dist/satellite.js`)) console.log("rebuild");
 * ```
 */
export async function isStale(entry: string, output: string, root = REPO_ROOT): Promise<boolean> {
  const built = await mtime(output);
  if (built === undefined) return true;
  for (const source of await localSources(entry, root)) {
    const changed = await mtime(source);
    if (changed !== undefined && changed > built) return true;
  }
  return false;
}

/** What {@linkcode bundleAll} did with one target. */
export interface BundleOutcome {
  target: BundleTarget;
  /** Absolute path of the output. */
  output: string;
  status: "built" | "fresh" | "missing-entry";
}

/**
 * Bundles every target whose entry exists and whose output is stale (or all, with `force`).
 *
 * @example
 * ```ts
 * for (const r of await bundleAll({ outDir: `${REPO_ROOT}/dist` })) console.log(r.output, r.status);
 * ```
 */
export async function bundleAll(
  options: { root?: string; outDir?: string; targets?: readonly BundleTarget[]; force?: boolean } = {},
): Promise<BundleOutcome[]> {
  const root = options.root ?? REPO_ROOT;
  const outDir = options.outDir ?? join(root, "dist");
  const outcomes: BundleOutcome[] = [];
  for (const target of options.targets ?? BUNDLE_TARGETS) {
    const entry = join(root, target.entry);
    const output = join(outDir, target.output);
    if (await mtime(entry) === undefined) {
      outcomes.push({ target, output, status: "missing-entry" });
    } else if (!options.force && !(await isStale(entry, output, root))) {
      outcomes.push({ target, output, status: "fresh" });
    } else {
      await bundleEntry({ entry, output, config: join(root, "deno.json") });
      outcomes.push({ target, output, status: "built" });
    }
  }
  return outcomes;
}

if (import.meta.main) {
  const force = Deno.args.includes("--force");
  const outcomes = await bundleAll({ force });
  for (const o of outcomes) {
    if (o.status === "missing-entry") console.warn(`skipped ${o.target.entry}: it does not exist yet`);
    else {console.log(
        `${o.status === "built" ? "bundled" : "up to date"}: ${o.output} (from ${o.target.entry})`,
      );}
  }
  if (!outcomes.some((o) => o.status !== "missing-entry")) {
    console.error(`nothing to bundle: none of ${BUNDLE_TARGETS.map((t) => t.entry).join(", ")} exists`);
    Deno.exit(1);
  }
}
