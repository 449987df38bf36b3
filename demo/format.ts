/**
 * Human-readable output for the demo: byte sizes, short digests, and numbered steps.
 *
 * @example
 * ```ts
 * import { formatBytes, shortDigest } from "./format.ts";
 * formatBytes(1536 * 1024); // "1.5 MiB"
 * shortDigest("sha256:" + "ab".repeat(32)); // "sha256:abababababab"
 * ```
 * @module
 */

/**
 * Bytes in B, KiB, MiB or GiB with one decimal.
 *
 * @example
 * ```ts
 * formatBytes(2048); // "2.0 KiB"
 * ```
 */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * The first 12 hex digits of a digest, enough to tell images apart on screen.
 *
 * @example
 * ```ts
 * shortDigest("sha256:0123456789abcdef" + "0".repeat(48)); // "sha256:0123456789ab"
 * ```
 */
export function shortDigest(digest: string): string {
  return digest.slice(0, 7 + 12);
}

/** Where the demo writes its lines (stdout by default; tests capture them). */
export type WriteLine = (line: string) => void;

/**
 * Prints numbered steps and indented detail lines, with the elapsed time on each step.
 *
 * @example
 * ```ts
 * const out = new StepPrinter(6);
 * out.step("Central registry");
 * out.detail("listening on http://127.0.0.1:5000");
 * ```
 */
export class StepPrinter {
  readonly #started = performance.now();
  #current = 0;

  constructor(readonly total: number, readonly write: WriteLine = (line) => console.log(line)) {}

  /** Seconds since the printer was made. */
  elapsed(): number {
    return (performance.now() - this.#started) / 1000;
  }

  /** Starts the next step. */
  step(title: string): void {
    this.#current++;
    this.write(`\n[${this.#current}/${this.total}] ${title}  (+${this.elapsed().toFixed(1)} s)`);
  }

  /** A line under the current step. */
  detail(text: string): void {
    for (const line of text.split("\n")) this.write(`    ${line}`);
  }
}
