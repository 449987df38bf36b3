import assert from "node:assert/strict";
import { sha256Digest } from "./digest.ts";
import { DigestMismatchError } from "./errors.ts";
import { BlobStore } from "./store.ts";

/** Asserts `fn` rejects, optionally with an instance of `type` whose message includes `text`. */
async function rejects(fn: () => Promise<unknown>, type: new (...a: never[]) => Error = Error, text = "") {
  await assert.rejects(fn, (e) => e instanceof type && (e as Error).message.includes(text));
}

const bytesOf = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

/** A stream of `bytes` in `chunk`-sized pieces that errors after `failAfter` bytes (if given). */
function chunked(
  bytes: Uint8Array,
  chunk: number,
  opts: { failAfter?: number; pulled?: { n: number }; gate?: Promise<void> } = {},
) {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      if (opts.gate && at >= chunk) await opts.gate;
      if (opts.failAfter !== undefined && at >= opts.failAfter) {
        c.error(new Error("connection reset"));
        return;
      }
      if (at >= bytes.length) return c.close();
      const piece = bytes.slice(at, at + chunk);
      at += piece.length;
      if (opts.pulled) opts.pulled.n += piece.length;
      c.enqueue(piece);
    },
  }, { highWaterMark: 0 }); // pull only when read, so `pulled` counts what a writer consumed
}

async function withStore(fn: (store: BlobStore, root: string) => Promise<void>) {
  const root = await Deno.makeTempDir({ prefix: "store-test-" });
  try {
    await fn(await BlobStore.open(root), root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

async function visibleFiles(root: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(`${root}/blobs/sha256`)) names.push(e.name);
  return names;
}

Deno.test("BlobStore: a write becomes visible only after its digest verifies", () =>
  withStore(async (store, root) => {
    const data = bytesOf(300_000);
    const digest = sha256Digest(data);
    let release!: () => void;
    const gate = new Promise<void>((r) => release = r);
    const writing = store.write(digest, data.length, chunked(data, 65536, { gate }));
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(await store.has(digest), false, "visible before the last byte arrived");
    assert.deepEqual(await visibleFiles(root), []);
    release();
    await writing;
    assert.deepEqual(await store.size(digest), data.length);
    const reader = await store.read(digest);
    assert.deepEqual(new Uint8Array(await new Response(reader.stream).arrayBuffer()), data);
    const [found] = await Array.fromAsync(store.list());
    assert.deepEqual(found, digest);
    assert.deepEqual(await store.partialOffset(digest), 0, "the partial was renamed, not copied");
  }));

Deno.test("BlobStore: a digest mismatch throws and leaves nothing behind", () =>
  withStore(async (store, root) => {
    const data = bytesOf(100_000);
    const wrong = sha256Digest(bytesOf(100_000, 2));
    await rejects(
      () => store.write(wrong, data.length, chunked(data, 10_000)),
      DigestMismatchError,
    );
    assert.deepEqual(await store.has(wrong), false);
    assert.deepEqual(await store.partialOffset(wrong), 0);
    assert.deepEqual(await visibleFiles(root), []);
    // Too many bytes is a mismatch too, detected before writing them.
    await rejects(
      () => store.write(sha256Digest(data), 10, chunked(data, 10_000)),
      DigestMismatchError,
    );
    await rejects(() => store.putBytes(data, wrong), DigestMismatchError);
    assert.deepEqual(await visibleFiles(root), []);
  }));

Deno.test("BlobStore: an interrupted download resumes from the kept bytes in a new instance", () =>
  withStore(async (store, root) => {
    const data = bytesOf(20 * 1024 * 1024 + 123);
    const digest = sha256Digest(data);
    const failAfter = 9 * 1024 * 1024; // past one periodic fsync
    await rejects(
      () => store.write(digest, data.length, chunked(data, 1024 * 1024, { failAfter })),
      Error,
      "connection reset",
    );
    assert.deepEqual(await store.has(digest), false);
    // A "restarted process": a fresh instance on the same root sees the kept bytes.
    const restarted = await BlobStore.open(root);
    const offset = await restarted.partialOffset(digest);
    assert.deepEqual(offset, failAfter);
    const pulled = { n: 0 };
    await restarted.write(digest, data.length, chunked(data.slice(offset), 1024 * 1024, { pulled }), {
      offset,
    });
    assert.deepEqual(pulled.n, data.length - offset, "only the missing bytes were fetched");
    const reader = await restarted.read(digest, { offset: 5, end: 1005 });
    assert.deepEqual(new Uint8Array(await new Response(reader.stream).arrayBuffer()), data.slice(5, 1005));
    // A resume past the kept bytes is refused without harm.
    const other = bytesOf(1000, 9);
    await rejects(
      () => restarted.write(sha256Digest(other), other.length, chunked(other, 100), { offset: 10 }),
      Error,
      "cannot resume",
    );
  }));

Deno.test("BlobStore: a resumed download whose kept prefix was corrupted is rejected and dropped", () =>
  withStore(async (store, root) => {
    const data = bytesOf(50_000);
    const digest = sha256Digest(data);
    await rejects(() => store.write(digest, data.length, chunked(data, 10_000, { failAfter: 20_000 })));
    const partial = `${root}/ingest/sha256-${digest.slice(7)}`;
    const kept = await Deno.readFile(partial);
    kept[7] ^= 0xff;
    await Deno.writeFile(partial, kept);
    await rejects(
      () => store.write(digest, data.length, chunked(data.slice(20_000), 10_000), { offset: 20_000 }),
      DigestMismatchError,
    );
    assert.deepEqual(await store.partialOffset(digest), 0);
    assert.deepEqual(await store.has(digest), false);
  }));

Deno.test("BlobStore: concurrent writers of one digest share one download", () =>
  withStore(async (store, root) => {
    const data = bytesOf(2_000_000);
    const digest = sha256Digest(data);
    const pulls = [{ n: 0 }, { n: 0 }, { n: 0 }];
    const other = await BlobStore.open(root); // a second instance contends through the file lock
    await Promise.all([
      store.write(digest, data.length, chunked(data, 65536, { pulled: pulls[0] })),
      store.write(digest, data.length, chunked(data, 65536, { pulled: pulls[1] })),
      other.write(digest, data.length, chunked(data, 65536, { pulled: pulls[2] })),
    ]);
    assert.deepEqual(pulls[1].n, 0, "the in-process second writer waited instead of downloading");
    assert(pulls[0].n + pulls[2].n <= data.length * 2);
    assert(pulls[0].n === data.length || pulls[2].n === data.length);
    assert.deepEqual(await visibleFiles(root), [digest.slice(7)]);
    const reader = await store.read(digest);
    assert.deepEqual(sha256Digest(new Uint8Array(await new Response(reader.stream).arrayBuffer())), digest);
  }));

Deno.test("BlobStore: a failed first writer lets the waiting writer download with its own stream", () =>
  withStore(async (store) => {
    const data = bytesOf(200_000);
    const digest = sha256Digest(data);
    const first = store.write(digest, data.length, chunked(data, 10_000, { failAfter: 50_000 }));
    const second = store.write(digest, data.length, chunked(data, 10_000));
    await rejects(() => first);
    await second;
    assert.deepEqual(await store.size(digest), data.length);
  }));

Deno.test("BlobStore: an aborted write keeps its partial and an existing blob is never rewritten", () =>
  withStore(async (store, root) => {
    const data = bytesOf(400_000);
    const digest = sha256Digest(data);
    const abort = new AbortController();
    let release!: () => void;
    const gate = new Promise<void>((r) => release = r);
    const writing = store.write(digest, data.length, chunked(data, 100_000, { gate }), {
      signal: abort.signal,
    });
    await new Promise((r) => setTimeout(r, 30));
    abort.abort(new Error("stopped"));
    release();
    await rejects(() => writing);
    assert.deepEqual(await store.partialOffset(digest), 100_000);
    await store.write(digest, data.length, chunked(data.slice(100_000), 100_000), { offset: 100_000 });
    const before = (await Deno.stat(store.path(digest))).ino;
    const pulled = { n: 0 };
    await store.write(digest, data.length, chunked(data, 100_000, { pulled }));
    assert.deepEqual(pulled.n, 0);
    assert.deepEqual((await Deno.stat(store.path(digest))).ino, before);
    await store.delete(digest);
    assert.deepEqual(await visibleFiles(root), []);
    await rejects(() => store.read(digest), Error, "unknown");
  }));

Deno.test("BlobStore: putBytes is idempotent and ranges outside a blob are refused", () =>
  withStore(async (store) => {
    const json = new TextEncoder().encode("{}");
    const digest = await store.putBytes(json);
    assert.deepEqual(digest, "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
    assert.deepEqual(await store.putBytes(json, digest), digest);
    await rejects(() => store.read(digest, { offset: 3 }), Error, "outside");
    const tail = await store.read(digest, { offset: 1 });
    assert.deepEqual(await new Response(tail.stream).text(), "}");
    assert.deepEqual(tail.size, 2);
  }));
