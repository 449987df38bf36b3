import { deepStrictEqual, equal, rejects } from "node:assert/strict";
import { TransportError } from "./errors.ts";
import { resumingStream } from "./resuming_stream.ts";

const bytes = new Uint8Array(100).map((_, i) => i);

/** A stream of `data` that fails with a TransportError after `cutAfter` bytes. */
function cutting(data: Uint8Array, cutAfter: number): ReadableStream<Uint8Array> {
  let sent = false;
  return new ReadableStream({
    pull(c) {
      if (!sent) {
        sent = true;
        c.enqueue(data.slice(0, cutAfter));
      } else c.error(new TransportError("GET blob", new Error("connection reset")));
    },
  });
}

const read = async (s: ReadableStream<Uint8Array>) => new Uint8Array(await new Response(s).arrayBuffer());

Deno.test("resumes at the byte reached, with Range honoured", async () => {
  const asked: number[] = [];
  const stream = resumingStream(cutting(bytes, 30), 0, (at) => {
    asked.push(at);
    return Promise.resolve({
      offset: at,
      stream: at < 60 ? cutting(bytes.subarray(at), 30) : new Blob([bytes.subarray(at)]).stream(),
    });
  }, 3);
  deepStrictEqual(await read(stream), bytes);
  deepStrictEqual(asked, [30, 60]);
});

Deno.test("skips the duplicate prefix when the server ignores Range", async () => {
  const stream = resumingStream(
    cutting(bytes, 45),
    0,
    () => Promise.resolve({ offset: 0, stream: new Blob([bytes]).stream() }),
    1,
  );
  deepStrictEqual(await read(stream), bytes);
});

Deno.test("a stream started mid-blob continues from there", async () => {
  const stream = resumingStream(cutting(bytes.subarray(50), 10), 50, (at) => {
    equal(at, 60);
    return Promise.resolve({ offset: at, stream: new Blob([bytes.subarray(at)]).stream() });
  }, 1);
  deepStrictEqual(await read(stream), bytes.subarray(50));
});

Deno.test("gives up after maxResumes, and on non-transport errors", async () => {
  await rejects(
    read(
      resumingStream(
        cutting(bytes, 10),
        0,
        (at) => Promise.resolve({ offset: at, stream: cutting(bytes.subarray(at), 10) }),
        2,
      ),
    ),
    TransportError,
  );
  const broken = new ReadableStream({ pull: (c) => c.error(new RangeError("not a network problem")) });
  await rejects(
    read(resumingStream(broken, 0, () => Promise.reject(new Error("must not reopen")), 5)),
    RangeError,
  );
  await rejects(
    read(
      resumingStream(
        cutting(bytes, 10),
        0,
        () => Promise.resolve({ offset: 20, stream: new Blob([]).stream() }),
        1,
      ),
    ),
    /started at 20, wanted 10/,
  );
});
