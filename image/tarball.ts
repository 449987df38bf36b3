/**
 * Streaming `.tar.gz` read/write for appliance images (modern-tar + Compression/DecompressionStream):
 * entries go through one at a time, so an image holding two 90 MB binaries never sits in memory.
 * Entry names are relative to `/` (`etc/satellite/config.json`); directories end with `/`.
 *
 * @example
 * ```ts
 * import { TarGzWriter, unpackImage } from "./tarball.ts";
 * const writer = await TarGzWriter.create("/tmp/x.tar.gz");
 * await writer.directory("etc/");
 * await writer.file("etc/hello", "hi\n");
 * await writer.close();
 * await unpackImage("/tmp/x.tar.gz", "/tmp/x");
 * ```
 * @module
 */
import { createTarDecoder, createTarPacker, type ParsedTarEntry, type TarHeader } from "modern-tar";
import { dirname, join, normalize } from "node:path";

/**
 * The modification time written into images: `SOURCE_DATE_EPOCH` when set (reproducible builds).
 *
 * @example
 * ```ts
 * imageMtime({ SOURCE_DATE_EPOCH: "0" }).getTime(); // 0
 * ```
 */
export function imageMtime(env: Record<string, string | undefined> = Deno.env.toObject()): Date {
  const epoch = env.SOURCE_DATE_EPOCH;
  return epoch && /^\d+$/.test(epoch) ? new Date(Number(epoch) * 1000) : new Date();
}

/**
 * Writes a gzip-compressed tar file entry by entry; root-owned entries, explicit modes.
 *
 * @example
 * ```ts
 * const w = await TarGzWriter.create("/tmp/out.tar.gz");
 * await w.fileFromPath("opt/app/bin/tool", "/usr/bin/true", 0o755);
 * await w.symlink("etc/link", "../target");
 * await w.close();
 * ```
 */
export class TarGzWriter {
  readonly #controller: ReturnType<typeof createTarPacker>["controller"];
  readonly #done: Promise<void>;
  readonly #mtime: Date;

  private constructor(file: Deno.FsFile, mtime: Date) {
    const { readable, controller } = createTarPacker();
    this.#controller = controller;
    this.#mtime = mtime;
    this.#done = readable.pipeThrough(new CompressionStream("gzip")).pipeTo(file.writable);
    // Surfaced by close(); avoid an unhandled rejection before that.
    this.#done.catch(() => {});
  }

  /** Opens `path` for writing (truncating it). */
  static async create(path: string, mtime = imageMtime()): Promise<TarGzWriter> {
    const file = await Deno.open(path, { write: true, create: true, truncate: true });
    return new TarGzWriter(file, mtime);
  }

  /**
   * Writes `path` through a partial file beside it, renamed into place only when `fill` and the
   * compression finish: a failed build or provisioning never leaves a half-written image behind.
   */
  static async writeAtomically(path: string, fill: (writer: TarGzWriter) => Promise<void>): Promise<void> {
    const slash = path.lastIndexOf("/");
    const partial = `${slash >= 0 ? path.slice(0, slash + 1) : ""}.${
      path.slice(slash + 1)
    }.partial-${crypto.randomUUID()}`;
    const writer = await TarGzWriter.create(partial);
    try {
      await fill(writer);
      await writer.close();
      await Deno.rename(partial, path);
    } catch (e) {
      await writer.abort(e);
      throw e;
    } finally {
      await Deno.remove(partial).catch(() => {});
    }
  }

  #header(name: string, size: number, type: TarHeader["type"], mode: number, linkname?: string): TarHeader {
    const header: TarHeader = {
      name,
      size,
      type,
      mode,
      mtime: this.#mtime,
      uid: 0,
      gid: 0,
      uname: "root",
      gname: "root",
    };
    if (linkname !== undefined) header.linkname = linkname;
    return header;
  }

  /** Adds an entry with any header (used when copying entries from another archive). */
  async entry(header: TarHeader, body?: ReadableStream<Uint8Array> | Uint8Array): Promise<void> {
    const sink = this.#controller.add(header);
    if (body instanceof ReadableStream) {
      await body.pipeTo(sink);
    } else {
      const writer = sink.getWriter();
      if (body && body.byteLength > 0) await writer.write(body);
      await writer.close();
    }
  }

  /** Adds a directory (`name` ends with `/`). */
  directory(name: string, mode = 0o755): Promise<void> {
    return this.entry(this.#header(name.endsWith("/") ? name : `${name}/`, 0, "directory", mode));
  }

  /** Adds a file from memory. */
  file(name: string, content: string | Uint8Array, mode = 0o644): Promise<void> {
    const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
    return this.entry(this.#header(name, bytes.byteLength, "file", mode), bytes);
  }

  /** Adds a file streamed from disk. */
  async fileFromPath(name: string, path: string, mode: number): Promise<void> {
    const file = await Deno.open(path, { read: true });
    const { size } = await file.stat();
    await this.entry(this.#header(name, size, "file", mode), file.readable);
  }

  /** Adds a symbolic link. */
  symlink(name: string, target: string): Promise<void> {
    return this.entry(this.#header(name, 0, "symlink", 0o777, target));
  }

  /** Ends the archive and waits until every byte is on disk. */
  async close(): Promise<void> {
    this.#controller.finalize();
    await this.#done;
  }

  /** Aborts the archive (the file is left incomplete; the caller removes it). */
  async abort(reason: unknown): Promise<void> {
    this.#controller.error(reason);
    await this.#done.catch(() => {});
  }
}

/**
 * Streams the entries of a `.tar.gz`. Each entry's body must be read or cancelled before the next.
 *
 * @example
 * ```ts
 * for await (const entry of readTarGz("/tmp/out.tar.gz")) {
 *   console.log(entry.header.name);
 *   await entry.body.cancel();
 * }
 * ```
 */
export async function* readTarGz(path: string): AsyncGenerator<ParsedTarEntry> {
  const file = await Deno.open(path, { read: true });
  const entries = file.readable
    .pipeThrough(new DecompressionStream("gzip"))
    .pipeThrough(createTarDecoder({ strict: true }));
  yield* entries;
}

/**
 * Reads one file's content from a `.tar.gz`, or undefined when absent.
 *
 * @example
 * ```ts
 * const bytes = await readTarGzFile("/tmp/out.tar.gz", "etc/hello");
 * ```
 */
export async function readTarGzFile(path: string, name: string): Promise<Uint8Array | undefined> {
  let found: Uint8Array | undefined;
  for await (const entry of readTarGz(path)) {
    if (found === undefined && stripDot(entry.header.name) === name) {
      found = new Uint8Array(await new Response(entry.body).arrayBuffer());
    } else {
      await entry.body.cancel();
    }
  }
  return found;
}

function stripDot(name: string): string {
  return name.replace(/^\.\//, "");
}

/**
 * A safe relative path for an entry name: rejects absolute names and `..` escapes.
 *
 * @example
 * ```ts
 * safeEntryPath("./etc/x"); // "etc/x"
 * ```
 */
export function safeEntryPath(name: string): string {
  const relative = normalize(stripDot(name)).replace(/\/+$/, "");
  if (relative.startsWith("/") || relative === ".." || relative.startsWith("../")) {
    throw new Error(`unsafe tar entry name "${name}": it would land outside the target directory`);
  }
  return relative;
}

/**
 * Unpacks an appliance image (`.tar.gz`) into `dir`: files with their modes, directories and
 * symbolic links (kept as links, even when they point at absolute paths). Entry names that would
 * escape `dir` are refused.
 *
 * @example
 * ```ts
 * await unpackImage("/tmp/satellite-amd64.tar.gz", "/tmp/root");
 * ```
 */
export async function unpackImage(tar: string, dir: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const dirModes: [string, number][] = [];
  for await (const entry of readTarGz(tar)) {
    const relative = safeEntryPath(entry.header.name);
    const target = relative === "." ? dir : join(dir, relative);
    const mode = (entry.header.mode ?? 0o644) & 0o7777;
    switch (entry.header.type ?? "file") {
      case "directory":
        await entry.body.cancel();
        await Deno.mkdir(target, { recursive: true });
        dirModes.push([target, mode]);
        break;
      case "symlink":
        await entry.body.cancel();
        await Deno.mkdir(dirname(target), { recursive: true });
        await Deno.remove(target).catch(() => {});
        await Deno.symlink(entry.header.linkname ?? "", target);
        break;
      case "file": {
        await Deno.mkdir(dirname(target), { recursive: true });
        const file = await Deno.open(target, { write: true, create: true, truncate: true, mode });
        await entry.body.pipeTo(file.writable);
        await Deno.chmod(target, mode);
        break;
      }
      default:
        await entry.body.cancel();
        throw new Error(`unsupported tar entry type "${entry.header.type}" for ${entry.header.name}`);
    }
  }
  // Directory modes last, so a read-only directory does not block its own contents.
  for (const [path, mode] of dirModes.reverse()) await Deno.chmod(path, mode);
}
