/**
 * Flag parsing for the image CLIs (`deno task image|provision|compile -- ...`). `deno task` passes
 * the `--` separator through, which `parseArgs` would take as "no more flags", so a leading `--`
 * is dropped; a bad flag exits 2 with one clear line instead of a stack trace.
 *
 * @example
 * ```ts
 * import { parseCliFlags } from "./cli_args.ts";
 * const flags = parseCliFlags(["--", "--arch", "arm64"], { arch: { type: "string" } }, "usage: ...");
 * flags.arch; // "arm64"
 * ```
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * Parses `args` as flags only (no positionals).
 *
 * @example
 * ```ts
 * parseCliFlags(["--out", "dist"], { out: { type: "string" } }, "usage: x --out DIR").out; // "dist"
 * ```
 */
export function parseCliFlags<O extends Options>(
  args: string[],
  options: O,
  usage: string,
): ReturnType<typeof parseArgs<{ args: string[]; options: O }>>["values"] {
  const rest = args[0] === "--" ? args.slice(1) : args;
  try {
    return parseArgs({ args: rest, options }).values;
  } catch (e) {
    console.error(`error: ${(e as Error).message}\n${usage}`);
    Deno.exit(2);
  }
}
