/**
 * Per-image sync progress for `satellite sync --once`, read from the core's events. On a terminal
 * each image in flight gets a bar with bytes, rate and ETA, redrawn in place; otherwise (pipes,
 * journald, CI) one plain line per image when it finishes or fails, so scripts can read them.
 *
 * The total of an image grows as its blobs start (sizes come from the manifests being walked), so
 * early ETAs are optimistic; bytes already on disk (resumed or shared blobs) count as done.
 *
 * @example
 * ```ts
 * import { EventLog } from "./events.ts";
 * import { SyncProgress } from "./progress.ts";
 * const events = new EventLog();
 * const progress = new SyncProgress(events, { tty: Deno.stdout.isTerminal(), write: (t) => console.log(t) });
 * // ... satellite.pollOnce() ...
 * progress.finish();
 * ```
 * @module
 */
import type { EventLog, SatelliteEvent } from "./events.ts";

/** Where progress goes. */
export interface ProgressOutput {
  /** Draw bars (true on a terminal). */
  tty: boolean;
  /** Writes text as is (bars use ANSI escapes; plain mode writes whole lines with `\n`). */
  write(text: string): void;
  /** Terminal width for bars (default 100). */
  columns?: number;
  /** Milliseconds since an arbitrary origin (default `performance.now`). */
  now?: () => number;
}

interface ImageProgress {
  name: string;
  started: number;
  blobs: Map<string, { done: number; size: number }>;
  state: "running" | "synced" | "failed";
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/**
 * Bytes for people: `1.5 MiB`.
 *
 * @example
 * ```ts
 * formatBytes(1536 * 1024); // "1.5 MiB"
 * ```
 */
export function formatBytes(bytes: number): string {
  let value = bytes, unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/**
 * Seconds for people: `42s`, `3m05s`, `1h02m`.
 *
 * @example
 * ```ts
 * formatDuration(185); // "3m05s"
 * ```
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** Redraws at most this often on a terminal. */
const REDRAW_MS = 200;

/**
 * Tracks and renders progress per image.
 *
 * @example
 * ```ts
 * declare const events: EventLog;
 * const progress = new SyncProgress(events, { tty: false, write: (t) => Deno.stdout.writeSync(new TextEncoder().encode(t)) });
 * progress.finish();
 * ```
 */
export class SyncProgress {
  readonly #images = new Map<string, ImageProgress>();
  readonly #out: ProgressOutput;
  readonly #now: () => number;
  readonly #off: () => void;
  #drawn = 0;
  #lastDraw = -Infinity;

  constructor(events: EventLog, output: ProgressOutput) {
    this.#out = output;
    this.#now = output.now ?? (() => performance.now());
    this.#off = events.on((event) => this.#on(event));
  }

  #image(data: Record<string, unknown>, artifact: string): ImageProgress {
    let image = this.#images.get(artifact);
    if (!image) {
      image = {
        name: `${data.repository}@${artifact.slice(0, 19)}`,
        started: this.#now(),
        blobs: new Map(),
        state: "running",
      };
      this.#images.set(artifact, image);
    }
    return image;
  }

  #on(event: SatelliteEvent): void {
    const data = event.data ?? {};
    if (event.kind === "sync.progress" && typeof data.artifact === "string") {
      const image = this.#image(data, data.artifact);
      const digest = String(data.digest), size = Number(data.size) || 0;
      const blob = image.blobs.get(digest) ?? { done: 0, size };
      blob.size = size;
      if (data.type === "bytes") blob.done = Math.max(blob.done, Number(data.bytes) || 0);
      else blob.done = size; // copied, mounted or already there
      image.blobs.set(digest, blob);
      this.#redraw(false);
    } else if (
      (event.kind === "sync.artifact" || event.kind === "sync.failed") && typeof data.digest === "string"
    ) {
      const image = this.#image(data, data.digest);
      image.state = event.kind === "sync.artifact" ? "synced" : "failed";
      if (this.#out.tty) this.#redraw(true);
      else {this.#out.write(
          this.#line(image, event.kind === "sync.failed" ? event.message : undefined) + "\n",
        );}
    }
  }

  #totals(image: ImageProgress): { done: number; size: number } {
    let done = 0, size = 0;
    for (const blob of image.blobs.values()) {
      done += blob.done;
      size += blob.size;
    }
    return { done, size };
  }

  /** One image as text: bar (terminal only), bytes, rate, ETA or outcome. */
  #line(image: ImageProgress, error?: string): string {
    const { done, size } = this.#totals(image);
    const seconds = Math.max(0.001, (this.#now() - image.started) / 1000);
    const rate = done / seconds;
    const figures = `${formatBytes(done)}/${formatBytes(size)} ${formatBytes(Math.round(rate))}/s`;
    if (image.state === "failed") return `failed  ${image.name} ${figures}${error ? `: ${error}` : ""}`;
    if (image.state === "synced") {
      return `synced  ${image.name} ${formatBytes(done)} in ${formatDuration(seconds)} (${
        formatBytes(Math.round(rate))
      }/s)`;
    }
    const eta = rate > 0 ? formatDuration((size - done) / rate) : "--";
    const width = Math.max(10, Math.min(30, (this.#out.columns ?? 100) - image.name.length - 50));
    const filled = size > 0 ? Math.round((done / size) * width) : 0;
    return `${image.name} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${figures} ETA ${eta}`;
  }

  #redraw(force: boolean): void {
    if (!this.#out.tty) return;
    const now = this.#now();
    if (!force && now - this.#lastDraw < REDRAW_MS) return;
    this.#lastDraw = now;
    const lines = [...this.#images.values()].map((image) => this.#line(image));
    // Move up over the previous drawing and rewrite every line (clearing leftovers).
    let text = this.#drawn > 0 ? `\x1b[${this.#drawn}A` : "";
    for (const line of lines) text += `\r\x1b[2K${line}\n`;
    this.#drawn = lines.length;
    this.#out.write(text);
  }

  /** Final redraw (terminal) and stops listening. */
  finish(): void {
    this.#redraw(true);
    this.#off();
  }
}
