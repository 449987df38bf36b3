import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { RegistryClient } from "../../oci/client.ts";
import { sha256Digest } from "../../oci/digest.ts";
import { readReusing } from "../../oci/fs.ts";
import { ManualClock } from "./clock.ts";
import { BandwidthLimiter, UNCAPPED_PIECE } from "./limiter.ts";
import { policyForRate } from "./policy.ts";

const blob = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 7) % 251);
const digest = sha256Digest(blob);

/**
 * A fetch serving `blob` with a body that only answers BYOB requests (a default read, i.e. a hop
 * that copies or allocates, fails the test), recording the size of every request.
 */
function byobOnlyFetch(requests: number[]): typeof fetch {
  return (input) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (!url.pathname.includes("/blobs/")) return Promise.resolve(new Response(null, { status: 404 }));
    let position = 0;
    const body = new ReadableStream({
      type: "bytes",
      pull(controller) {
        const request = controller.byobRequest;
        if (!request?.view) throw new Error("a default read reached the fetch body: BYOB was lost");
        const view = new Uint8Array(request.view.buffer, request.view.byteOffset, request.view.byteLength);
        requests.push(view.byteLength);
        if (position === blob.byteLength) {
          controller.close();
          return request.respond(0);
        }
        const n = Math.min(view.byteLength, blob.byteLength - position);
        view.set(blob.subarray(position, position + n));
        position += n;
        request.respond(n);
      },
    });
    const headers = { "content-length": String(blob.byteLength) };
    return Promise.resolve(new Response(body, { status: 200, headers }));
  };
}

/** Reads like the blob store does (one reused 1 MiB buffer, BYOB when the stream allows). */
async function storeLikeRead(
  stream: ReadableStream<Uint8Array>,
): Promise<{ bytes: Uint8Array; reads: number[] }> {
  const out = new Uint8Array(blob.byteLength);
  const reads: number[] = [];
  let at = 0;
  for await (const view of readReusing(stream)) {
    ok(view.buffer.byteLength === 1024 * 1024, "the view is on the reader's reused buffer");
    out.set(view, at);
    at += view.byteLength;
    reads.push(view.byteLength);
  }
  return { bytes: out.subarray(0, at), reads };
}

Deno.test("limitFetch bodies stay BYOB: the store's buffer reaches the fetch body through every client hop", async () => {
  for (const callerVerifies of [true, false]) {
    const requests: number[] = [];
    const limiter = new BandwidthLimiter({ fetch: byobOnlyFetch(requests) });
    const client = new RegistryClient({ baseUrl: "http://registry.invalid", fetch: limiter.fetch });
    const reader = await client.getBlob("a/b", digest, { callerVerifies });
    const { bytes } = await storeLikeRead(reader.stream);
    deepStrictEqual(bytes, blob);
    // Unlimited: reads of the limiter's largest piece straight into the store's buffer.
    ok(requests.every((size) => size === UNCAPPED_PIECE), `request sizes ${requests}`);
    equal(limiter.bytesPassed, blob.byteLength);
  }
});

Deno.test("a capped BYOB read takes at most one piece per read, and a new cap applies to the running read", async () => {
  const clock = new ManualClock(0);
  const requests: number[] = [];
  const limiter = new BandwidthLimiter({
    policy: policyForRate(10_000),
    clock,
    fetch: byobOnlyFetch(requests),
  });
  const response = await limiter.fetch("http://registry.invalid/v2/a/b/blobs/" + digest);
  const reader = response.body!.getReader({ mode: "byob" });
  let buffer = new ArrayBuffer(1024 * 1024);
  let received = 0;
  const sizes: number[] = [];
  const reading = (async () => {
    for (let i = 0; i < 10_000; i++) {
      const { done, value } = await reader.read(new Uint8Array(buffer));
      buffer = value!.buffer as ArrayBuffer;
      if (done) return;
      received += value!.byteLength;
      sizes.push(value!.byteLength);
    }
  })();
  await clock.advance(5_000);
  ok(Math.abs(received - 50_000) <= 1000, `bytes after 5 s at 10 kB/s: ${received}`);
  ok(sizes.every((size) => size <= 1000), "pieces of at most pieceSize (1000) under 10 kB/s");
  limiter.setPolicy(policyForRate(0));
  await clock.advance(1);
  await reading;
  equal(received, blob.byteLength);
  ok(
    sizes.some((size) => size > 64 * 1024 && size <= UNCAPPED_PIECE),
    `unlimited again: uncapped pieces (${sizes.slice(-3)})`,
  );
});
