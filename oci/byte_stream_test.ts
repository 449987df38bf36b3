import { deepStrictEqual, equal, ok, rejects } from "node:assert/strict";
import { ByteReader, byteStream } from "./byte_stream.ts";

const bytes = (n: number, seed = 0) => Uint8Array.from({ length: n }, (_, i) => (i + seed) % 251);

/**
 * A byte stream of `data` that only answers BYOB requests (no autoAllocateChunkSize: a default
 * reader would leave `byobRequest` null and fail), recording the size of every request. With
 * `failAt`, the read that would pass that offset errors instead.
 */
function byobOnlySource(data: Uint8Array, options: { failAt?: number } = {}) {
  const requests: number[] = [];
  let position = 0;
  const stream = new ReadableStream({
    type: "bytes",
    pull(controller) {
      const request = controller.byobRequest;
      if (!request) throw new Error("a default read reached a BYOB-only source");
      const view = new Uint8Array(request.view!.buffer, request.view!.byteOffset, request.view!.byteLength);
      requests.push(view.byteLength);
      if (position >= data.byteLength) {
        controller.close();
        request.respond(0);
        return;
      }
      const n = Math.min(view.byteLength, data.byteLength - position);
      if (options.failAt !== undefined && position + n > options.failAt) throw new Error("connection reset");
      view.set(data.subarray(position, position + n));
      position += n;
      request.respond(n);
    },
  });
  return { stream, requests };
}

/** A plain (non-byte) stream of `data` in chunks of `chunk` bytes; `cancelled` records a cancel. */
function chunkSource(data: Uint8Array, chunk: number) {
  const state = {
    cancelled: undefined as unknown,
    stream: undefined as unknown as ReadableStream<Uint8Array>,
  };
  let position = 0;
  state.stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (position >= data.byteLength) return controller.close();
      controller.enqueue(data.slice(position, position + chunk));
      position += chunk;
    },
    cancel(reason) {
      state.cancelled = reason;
    },
  }, { highWaterMark: 0 });
  return state;
}

/** Reads everything with a BYOB reader into one reused buffer of `size` bytes. */
async function readByob(stream: ReadableStream<Uint8Array>, size: number) {
  const reader = stream.getReader({ mode: "byob" });
  let buffer = new ArrayBuffer(size);
  const out: number[] = [];
  const reads: number[] = [];
  for (let i = 0; i < 100_000; i++) {
    const { done, value } = await reader.read(new Uint8Array(buffer));
    equal(value!.buffer.byteLength, size, "the answer lands in the consumer's buffer");
    buffer = value!.buffer as ArrayBuffer;
    if (done) break;
    reads.push(value!.byteLength);
    out.push(...value!);
  }
  return { data: Uint8Array.from(out), reads };
}

Deno.test("byteStream: a BYOB consumer's buffer goes straight to a byte-stream upstream, through hops", async () => {
  const data = bytes(10_000);
  const source = byobOnlySource(data);
  let seen = 0;
  const hop = byteStream(byteStream(source.stream), { onData: (view) => void (seen += view.byteLength) });
  const { data: read, reads } = await readByob(hop, 4096);
  deepStrictEqual(read, data);
  equal(seen, 10_000);
  deepStrictEqual(reads, [4096, 4096, 1808]);
  // Every upstream read was a BYOB request of the consumer's size (no default reads, no copies).
  deepStrictEqual(source.requests, [4096, 4096, 4096, 4096]);
});

Deno.test("byteStream: maxRead shrinks what is read upstream at once", async () => {
  const source = byobOnlySource(bytes(2500));
  const { reads } = await readByob(byteStream(source.stream, { maxRead: () => 1000 }), 4096);
  deepStrictEqual(reads, [1000, 1000, 500]);
  deepStrictEqual(source.requests.slice(0, 3), [1000, 1000, 1000]);
});

Deno.test("byteStream: a non-byte upstream is copied in, a big chunk spread over reads", async () => {
  const data = bytes(25, 7);
  const { data: read, reads } = await readByob(byteStream(chunkSource(data, 10).stream), 4);
  deepStrictEqual(read, data);
  deepStrictEqual(reads, [4, 4, 2, 4, 4, 2, 4, 1]);
});

Deno.test("byteStream: default-reader consumers get chunks of chunkSize", async () => {
  const data = bytes(300_000);
  const chunks: number[] = [];
  for await (const chunk of byteStream(chunkSource(data, 100_000).stream, {}, 65536)) {
    chunks.push(chunk.byteLength);
  }
  deepStrictEqual(chunks, [65536, 34464, 65536, 34464, 65536, 34464]);
  const text = await new Response(byteStream(new Blob(["hello ", "world"]).stream())).text();
  equal(text, "hello world");
});

Deno.test("byteStream: onData may wait (backpressure), onEnd runs once at the end", async () => {
  const order: string[] = [];
  let release = () => {};
  const stream = byteStream(chunkSource(bytes(6), 3).stream, {
    onData: (view) => {
      order.push(`data ${view.byteLength}`);
      return new Promise<void>((resolve) => release = resolve);
    },
    onEnd: () => void order.push("end"),
  });
  const reader = stream.getReader();
  const first = reader.read();
  let delivered = false;
  first.then(() => delivered = true);
  await new Promise((resolve) => setTimeout(resolve, 10));
  equal(delivered, false, "the consumer waits for onData");
  release();
  equal((await first).value!.byteLength, 3);
  const second = reader.read();
  await new Promise((resolve) => setTimeout(resolve, 0));
  release();
  equal((await second).value!.byteLength, 3);
  ok((await reader.read()).done);
  deepStrictEqual(order, ["data 3", "data 3", "end"]);
});

Deno.test("byteStream: onEnd throwing errors the stream instead of closing it (BYOB and default)", async () => {
  const mismatch = new Error("digest mismatch");
  const verifying = (stream: ReadableStream<Uint8Array>) =>
    byteStream(stream, {
      onEnd: () => {
        throw mismatch;
      },
    });
  await rejects(readByob(verifying(byobOnlySource(bytes(10)).stream), 4), (e) => e === mismatch);
  await rejects(
    new Response(verifying(chunkSource(bytes(10), 4).stream)).arrayBuffer(),
    (e) => e === mismatch,
  );
});

Deno.test("byteStream: onData throwing errors the stream and cancels the upstream", async () => {
  const source = chunkSource(bytes(100), 10);
  const tooBig = new Error("more than the declared size");
  let seen = 0;
  const stream = byteStream(source.stream, {
    onData: (view) => {
      seen += view.byteLength;
      if (seen > 25) throw tooBig;
    },
  });
  await rejects(readByob(stream, 16), (e) => e === tooBig);
  equal(source.cancelled, tooBig);
});

Deno.test("byteStream: an upstream error reaches the consumer, or onError's replacement carries on", async () => {
  const data = bytes(10_000);
  await rejects(
    readByob(byteStream(byobOnlySource(data, { failAt: 5000 }).stream), 4096),
    /connection reset/,
  );

  // Resume: the replacement continues where the failed upstream stopped (the failed BYOB read
  // took the consumer's buffer with it; the answer comes in a fresh one of the same size).
  let delivered = 0;
  const errors: unknown[] = [];
  const resumed = byteStream(byobOnlySource(data, { failAt: 5000 }).stream, {
    onData: (view) => void (delivered += view.byteLength),
    onError: (e) => {
      errors.push(e);
      if (errors.length > 1) throw new Error("second failure");
      return byobOnlySource(data.subarray(delivered)).stream;
    },
  });
  const { data: read } = await readByob(resumed, 4096);
  deepStrictEqual(read, data);
  equal(errors.length, 1);

  // onError may also turn the error into another one.
  const typed = byteStream(
    chunkSource(bytes(10), 5).stream.pipeThrough(
      new TransformStream({
        transform: () => {
          throw new Error("raw");
        },
      }),
    ),
    {
      onError: (e) => {
        throw new Error(`typed: ${(e as Error).message}`);
      },
    },
  );
  await rejects(new Response(typed).arrayBuffer(), /typed: raw/);
});

Deno.test("byteStream: cancel reaches the upstream and onCancel, also during a pending onData", async () => {
  const source = chunkSource(bytes(100), 10);
  const reasons: unknown[] = [];
  let waiting = false;
  const stream = byteStream(source.stream, {
    onData: () => {
      waiting = true;
      return new Promise<void>(() => {}); // e.g. bandwidth tokens that never come
    },
    onCancel: (reason) => reasons.push(reason),
  });
  const reader = stream.getReader({ mode: "byob" });
  const pending = reader.read(new Uint8Array(8));
  for (let i = 0; i < 100 && !waiting; i++) await new Promise((resolve) => setTimeout(resolve, 1));
  ok(waiting);
  await reader.cancel("stop");
  const { done } = await pending;
  ok(done);
  deepStrictEqual(reasons, ["stop"]);
  equal(source.cancelled, "stop");
});

Deno.test("byteStream: an empty upstream closes for BYOB and default consumers", async () => {
  deepStrictEqual((await readByob(byteStream(byobOnlySource(new Uint8Array()).stream), 16)).reads, []);
  equal(
    (await new Response(byteStream(chunkSource(new Uint8Array(), 4).stream)).arrayBuffer()).byteLength,
    0,
  );
});

Deno.test("byteStream: a function upstream is opened on the first read, never when cancelled first", async () => {
  let opened = 0;
  const open = () => {
    opened++;
    return Promise.resolve(byobOnlySource(bytes(10)).stream);
  };
  await byteStream(open).cancel();
  equal(opened, 0);
  const lazy = byteStream(open);
  equal(opened, 0);
  deepStrictEqual((await readByob(lazy, 16)).data, bytes(10));
  equal(opened, 1);
  await rejects(new Response(byteStream(() => Promise.reject(new Error("404")))).arrayBuffer(), /404/);
});

Deno.test("byteStream: streams sharing a ByteReader take consecutive parts; maxRead 0 ends a part", async () => {
  const data = bytes(1000);
  const cases = [
    { upstream: byobOnlySource(data).stream, reads: [256, 144] },
    { upstream: chunkSource(data, 300).stream, reads: [256, 44, 100] }, // a chunk's rest comes first
  ];
  for (const { upstream, reads } of cases) {
    const reader = new ByteReader(upstream);
    const part = (length: number) => {
      let left = length;
      return byteStream(reader, { maxRead: () => left, onData: (view) => void (left -= view.byteLength) });
    };
    const first = await readByob(part(400), 256);
    deepStrictEqual(first.data, data.subarray(0, 400));
    deepStrictEqual(first.reads, reads);
    const peek = await reader.read(new Uint8Array(1));
    reader.unread(peek.view!.slice());
    const second = new Uint8Array(await new Response(part(700)).arrayBuffer());
    deepStrictEqual(second, data.subarray(400));
    ok((await reader.read(new Uint8Array(1))).done);
  }
});
