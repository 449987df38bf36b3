/**
 * Plans and (optionally) writes a container runtime's mirror configuration so that pulls of the
 * central registry hit the satellite's local registry first and fall back upstream. Files are
 * placed under `root` (`/` on a device, a staging directory in tests and image builds). Applying is
 * idempotent: unchanged content is not rewritten and makes no backup; the first change to an
 * existing file keeps its original as `<file>.satellite-backup`. Writes are atomic (temp + rename).
 *
 * @example
 * ```ts
 * import { applyMirrorConfig } from "./apply.ts";
 * const plan = await applyMirrorConfig({
 *   runtime: "containerd",
 *   root: await Deno.makeTempDir(),
 *   localUrl: "http://127.0.0.1:8585",
 *   upstreamHost: "harbor.example.com",
 *   apply: true,
 * });
 * console.log(plan.files[0].path, plan.files[0].changed);
 * ```
 * @module
 */
import { dirname, join } from "node:path";
import {
  type MirrorRequest,
  MirrorRequest as RequestSchema,
  type MirrorRequestInput,
  type MirrorRuntime,
} from "../../schemas/mirror.ts";
import { parseOrThrow } from "../../schemas/validate.ts";
import { containerdWriter } from "./containerd.ts";
import { containersWriter } from "./containers.ts";
import { dockerWriter } from "./docker.ts";
import { k3sWriter, rke2Writer } from "./k3s.ts";
import { type MirrorTarget, resolveTarget } from "./target.ts";
import type { MirrorWriter } from "./writer.ts";

/** The writer for each runtime. */
export const WRITERS: Record<MirrorRuntime, MirrorWriter> = {
  containerd: containerdWriter,
  nerdctl: containerdWriter,
  crio: containersWriter,
  podman: containersWriter,
  docker: dockerWriter,
  k3s: k3sWriter,
  rke2: rke2Writer,
};

/** Suffix of the one-time backup of a file the satellite changed. */
export const BACKUP_SUFFIX = ".satellite-backup";

/** One planned (or written) file. */
export interface PlannedFile {
  /** Absolute path on the device, e.g. `/etc/docker/daemon.json`. */
  path: string;
  /** Where it is (or would be) written: `path` under `root`. */
  fullPath: string;
  /** The complete new content. */
  content: string;
  /** True when `content` differs from what is there (or nothing is there). */
  changed: boolean;
  /** True when this call wrote the file. */
  written: boolean;
  /** Backup path, when a backup of the original exists (made now or by an earlier apply). */
  backup?: string;
}

/** What {@linkcode applyMirrorConfig} did or would do. */
export interface MirrorPlan {
  runtime: MirrorRuntime;
  target: MirrorTarget;
  files: PlannedFile[];
  /** Restart hints and limitations for the operator. */
  notes: string[];
}

async function readTextOrNull(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * Writes via a temp file in the same directory and renames; the mode is copied from `modeFrom`
 * (the file being replaced, or the original for a backup, which may hold credentials).
 */
async function writeAtomically(path: string, content: string, modeFrom = path): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const mode = await Deno.stat(modeFrom).then((s) => s.mode ?? 0o644, () => 0o644);
  const temp = `${path}.satellite-tmp-${crypto.randomUUID()}`;
  try {
    await Deno.writeTextFile(temp, content, { mode: mode & 0o7777 });
    await Deno.chmod(temp, mode & 0o7777);
    await Deno.rename(temp, path);
  } catch (e) {
    await Deno.remove(temp).catch(() => {});
    throw e;
  }
}

/**
 * Validates the request, renders the runtime's config from what is on disk, and with `apply`
 * writes it (backup first). Throws a ValidationError for a bad request and an Error naming the file
 * when an existing file can't be merged safely (it is then left untouched).
 *
 * @example
 * ```ts
 * const plan = await applyMirrorConfig({ runtime: "k3s", root: "/", localUrl: "http://127.0.0.1:8585", upstreamHost: "docker.io" });
 * console.log(plan.files[0].content);
 * ```
 */
export async function applyMirrorConfig(input: MirrorRequestInput): Promise<MirrorPlan> {
  const request: MirrorRequest = parseOrThrow(RequestSchema, input, "mirror config request");
  const target = resolveTarget(request);
  const writer = WRITERS[request.runtime];
  const path = writer.path(target);
  const fullPath = join(request.root, path);
  const existing = await readTextOrNull(fullPath);
  const content = writer.render(existing, target);
  const file: PlannedFile = { path, fullPath, content, changed: content !== existing, written: false };
  const backup = fullPath + BACKUP_SUFFIX;
  if (await exists(backup)) file.backup = backup;
  if (request.apply && file.changed) {
    if (existing !== null && !file.backup) {
      await writeAtomically(backup, existing, fullPath);
      file.backup = backup;
    }
    await writeAtomically(fullPath, content);
    file.written = true;
  }
  return { runtime: request.runtime, target, files: [file], notes: writer.notes(target) };
}
