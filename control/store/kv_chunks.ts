/**
 * Values larger than one Deno KV entry (64 KiB): JSON split into chunks under
 * `[...prefix, generation, i]`. A writer puts a new generation first and then swaps the small record
 * that names it, so a reader never sees half of a value.
 *
 * @example
 * ```ts
 * import { readChunks, writeChunks } from "./kv_chunks.ts";
 * const kv = await Deno.openKv(":memory:");
 * const n = await writeChunks(kv, ["blob", "g", "gen1"], { big: "x".repeat(100_000) });
 * const value = await readChunks(kv, ["blob", "g", "gen1"], n);
 * kv.close();
 * ```
 * @module
 */

/** Bytes per chunk: under the 64 KiB value limit with room for the encoding. */
export const CHUNK_BYTES = 60_000;
/** Chunks per atomic commit: under the 800 KiB commit limit. */
const CHUNKS_PER_COMMIT = 10;

/**
 * Writes `value` as JSON chunks under `prefix`; returns the chunk count.
 *
 * @example
 * ```ts
 * const kv = await Deno.openKv(":memory:");
 * await writeChunks(kv, ["p", "1"], [1, 2, 3]); // 1
 * kv.close();
 * ```
 */
export async function writeChunks(kv: Deno.Kv, prefix: Deno.KvKey, value: unknown): Promise<number> {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  const count = Math.max(1, Math.ceil(bytes.byteLength / CHUNK_BYTES));
  for (let first = 0; first < count; first += CHUNKS_PER_COMMIT) {
    const op = kv.atomic();
    for (let i = first; i < Math.min(count, first + CHUNKS_PER_COMMIT); i++) {
      op.set([...prefix, i], bytes.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES));
    }
    const res = await op.commit();
    if (!res.ok) throw new Error(`writing chunks under ${JSON.stringify(prefix)} failed`);
  }
  return count;
}

/**
 * Reads and joins `count` chunks written by {@linkcode writeChunks}.
 *
 * @example
 * ```ts
 * const kv = await Deno.openKv(":memory:");
 * const n = await writeChunks(kv, ["p", "1"], { a: 1 });
 * await readChunks(kv, ["p", "1"], n); // { a: 1 }
 * kv.close();
 * ```
 */
export async function readChunks(kv: Deno.Kv, prefix: Deno.KvKey, count: number): Promise<unknown> {
  const parts: Uint8Array[] = [];
  for (let first = 0; first < count; first += 10) {
    const keys = [];
    for (let i = first; i < Math.min(count, first + 10); i++) keys.push([...prefix, i]);
    for (const entry of await kv.getMany<Uint8Array[]>(keys)) {
      if (!entry.value) throw new Error(`chunk ${JSON.stringify(entry.key)} is missing`);
      parts.push(entry.value);
    }
  }
  const joined = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.byteLength;
  }
  return JSON.parse(new TextDecoder().decode(joined));
}

/**
 * Deletes every chunk under `prefix`.
 *
 * @example
 * ```ts
 * const kv = await Deno.openKv(":memory:");
 * await deleteChunks(kv, ["p", "1"]);
 * kv.close();
 * ```
 */
export async function deleteChunks(kv: Deno.Kv, prefix: Deno.KvKey): Promise<void> {
  for await (const entry of kv.list({ prefix })) await kv.delete(entry.key);
}
