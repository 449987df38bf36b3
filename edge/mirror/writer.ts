/**
 * The shape every runtime's mirror-config writer has.
 *
 * @example
 * ```ts
 * import type { MirrorWriter } from "./writer.ts";
 * const writer: MirrorWriter = { path: () => "/etc/x", render: () => "x\n", notes: () => [] };
 * ```
 * @module
 */
import type { MirrorTarget } from "./target.ts";

/** Where a runtime's config lives and how to produce it from what is there. */
export interface MirrorWriter {
  /** Absolute path on the device. */
  path(target: MirrorTarget): string;
  /**
   * The new file content from the existing one (null when absent). Must be a fixed point:
   * `render(render(x)) === render(x)`, so a second apply changes nothing. Throws (naming the file
   * problem) rather than discard content it cannot parse.
   */
  render(existing: string | null, target: MirrorTarget): string;
  /** What the operator should know (restarts, limitations). */
  notes(target: MirrorTarget): string[];
}
