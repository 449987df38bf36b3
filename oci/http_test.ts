import { equal, ok, rejects } from "node:assert/strict";
import { DigestMismatchError, OciError, TransportError } from "./errors.ts";
import { expectStatus, readBody, RegistryHttp } from "./http.ts";

/** A loopback server that misbehaves on purpose (the faults a real registry or proxy can show). */
function faultyServer(handler: (req: Request, n: number) => Response | Promise<Response>) {
  let n = 0;
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
    onError: () => new Response(null, { status: 500 }),
  }, (req) => handler(req, n++));
  return { url: `http://127.0.0.1:${server.addr.port}`, server, count: () => n };
}

const fast = { baseDelayMs: 1, maxDelayMs: 5 };

Deno.test("an idle body times out as a retryable TransportError, and no timer is left behind", async () => {
  const s = faultyServer(() =>
    new Response(new ReadableStream({ start: (c) => c.enqueue(new Uint8Array(10)) })) // never closes
  );
  try {
    const http = new RegistryHttp({ baseUrl: s.url, timeoutMs: 150, retries: 0 });
    const res = await http.request({ method: "GET", url: "/v2/x/blobs/y", scopes: [] });
    await rejects(readBody(res, 1 << 20, () => undefined), (e) => {
      ok(e instanceof TransportError && /no data for 150 ms/.test(e.message), String(e));
      return true;
    });
  } finally {
    await s.server.shutdown();
  }
});

Deno.test("idempotent calls retry on 5xx and network errors; a stream body is sent once", async () => {
  const s = faultyServer((_req, n) => n < 2 ? new Response("busy", { status: 503 }) : new Response("ok"));
  try {
    const http = new RegistryHttp({ baseUrl: s.url, retries: 3, backoff: fast });
    const res = await http.request({ method: "GET", url: "/v2/", scopes: [] });
    equal(res.status, 200);
    equal(new TextDecoder().decode(await readBody(res, 100, () => undefined)), "ok");
    equal(s.count(), 3);
    const streamed = await http.request({
      method: "PUT",
      url: "/v2/",
      scopes: [],
      body: new Blob(["abc"]).stream(),
    });
    await streamed.body?.cancel();
    equal(streamed.status, 200);
  } finally {
    await s.server.shutdown();
  }
  const closed = new RegistryHttp({ baseUrl: s.url, retries: 1, backoff: fast });
  await rejects(closed.request({ method: "GET", url: "/v2/", scopes: [] }), TransportError);
});

Deno.test("a failing request body surfaces as its own error, not as a network error", async () => {
  const s = faultyServer(async (req) => new Response(String((await req.arrayBuffer()).byteLength)));
  try {
    const http = new RegistryHttp({ baseUrl: s.url, retries: 0 });
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        c.error(new DigestMismatchError("sha256:" + "a".repeat(64), "sha256:" + "b".repeat(64)));
      },
    });
    await rejects(http.request({ method: "PUT", url: "/v2/", scopes: [], body }), DigestMismatchError);
  } finally {
    await s.server.shutdown();
  }
});

Deno.test("error bodies become typed OciErrors: spec JSON, or status + URL + text", async () => {
  const s = faultyServer((req) =>
    req.url.endsWith("/json")
      ? Response.json({
        errors: [{ code: "NAME_UNKNOWN", message: "repository name not known" }, { code: "X" }],
      }, {
        status: 404,
      })
      : req.url.endsWith("/odd")
      ? Response.json({ errors: [{ code: "WEIRD_CODE", message: "hm" }] }, { status: 400 })
      : new Response("<h1>gateway down</h1>", { status: 502 })
  );
  try {
    const http = new RegistryHttp({ baseUrl: s.url, retries: 0 });
    const get = async (path: string) =>
      await expectStatus(
        await http.request({ method: "GET", url: path, scopes: [] }),
        `GET ${path}`,
        [200],
        "MANIFEST_UNKNOWN",
      );
    await rejects(get("/json"), (e) => {
      ok(e instanceof OciError && e.code === "NAME_UNKNOWN" && e.status === 404);
      equal(e.message, "GET /json -> 404: NAME_UNKNOWN: repository name not known; X: ");
      return true;
    });
    await rejects(
      get("/odd"),
      (e) => e instanceof OciError && e.code === "UNKNOWN" && /WEIRD_CODE: hm/.test(e.message),
    );
    await rejects(get("/html"), (e) => {
      ok(
        e instanceof OciError && e.status === 502 && e.message === "GET /html -> 502: <h1>gateway down</h1>",
      );
      return true;
    });
  } finally {
    await s.server.shutdown();
  }
});
