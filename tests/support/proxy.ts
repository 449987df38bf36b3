/**
 * A fault-injecting HTTP proxy on a free loopback port, in front of a real registry: it can flip
 * one byte of a response body, cut the connection after N body bytes, answer some requests itself
 * (`intercept`), and it counts the body bytes it served. Location headers pointing at the upstream
 * are rewritten to the proxy, so uploads keep going through it.
 *
 * @example
 * ```ts
 * import { startProxy } from "./proxy.ts";
 * await using proxy = await startProxy("http://127.0.0.1:5000");
 * proxy.faults.cut = { match: "/blobs/sha256:", afterBytes: 1024, times: 1 };
 * ```
 * @module
 */
import { freePort } from "./ports.ts";

/** Faults to inject; each matches requests whose path contains `match` (GET responses with a body). */
export interface ProxyFaults {
  /** Flip the byte at `at` (default 0) of matching bodies; `times` limits how many responses (default all). */
  corrupt?: { match: string; at?: number; times?: number };
  /** Cut the connection after `afterBytes` body bytes of matching responses; `times` default 1. */
  cut?: { match: string; afterBytes: number; times?: number };
  /** Slow every response body down to this rate (so a test can interrupt transfers midway). */
  throttle?: { bytesPerSecond: number };
  /** Answer a request without the upstream (return undefined to forward it). */
  intercept?: (request: Request) => Response | undefined | Promise<Response | undefined>;
}

/** One proxied request, as logged. */
export interface ProxiedRequest {
  method: string;
  path: string;
  range: string | null;
  status: number;
  /** Body bytes sent to the client (so far, for streamed bodies). */
  bytes: number;
}

/** A running proxy. */
export interface FaultProxy extends AsyncDisposable {
  url: string;
  host: string;
  faults: ProxyFaults;
  /** Every request, in arrival order. */
  log: ProxiedRequest[];
  /** Response body bytes served for requests whose path contains `match` (all when omitted). */
  bytesServed(match?: string): number;
  stop(): Promise<void>;
}

/**
 * Starts a proxy to `upstream` (e.g. a distribution's URL).
 *
 * @example
 * ```ts
 * const proxy = await startProxy("http://127.0.0.1:5000");
 * await proxy.stop();
 * ```
 */
export function startProxy(upstream: string, faults: ProxyFaults = {}): Promise<FaultProxy> {
  const port = freePort();
  const origin = `http://127.0.0.1:${port}`;
  const upstreamOrigin = new URL(upstream).origin;
  const log: ProxiedRequest[] = [];
  const controller = new AbortController();
  const proxy: FaultProxy = {
    url: origin,
    host: `127.0.0.1:${port}`,
    faults,
    log,
    bytesServed: (match) =>
      log.filter((r) => !match || r.path.includes(match)).reduce((n, r) => n + r.bytes, 0),
    stop: async () => {
      controller.abort();
      await server.finished;
    },
    [Symbol.asyncDispose]: () => proxy.stop(),
  };
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port,
    signal: controller.signal,
    onListen: () => {},
    // A cut connection is the point of the exercise: keep it out of the test output.
    onError: () => new Response("proxy error", { status: 502 }),
  }, async (request) => {
    const url = new URL(request.url);
    const entry: ProxiedRequest = {
      method: request.method,
      path: url.pathname + url.search,
      range: request.headers.get("range"),
      status: 0,
      bytes: 0,
    };
    log.push(entry);
    const own = await proxy.faults.intercept?.(request);
    if (own) {
      entry.status = own.status;
      return own;
    }
    const headers = new Headers(request.headers);
    headers.delete("host");
    const upstreamResponse = await fetch(`${upstreamOrigin}${url.pathname}${url.search}`, {
      method: request.method,
      headers,
      body: request.body,
      redirect: "manual",
    });
    entry.status = upstreamResponse.status;
    const responseHeaders = new Headers(upstreamResponse.headers);
    const location = responseHeaders.get("location");
    if (location?.startsWith(upstreamOrigin)) {
      responseHeaders.set("location", origin + location.slice(upstreamOrigin.length));
    }
    if (!upstreamResponse.body) {
      return new Response(null, { status: upstreamResponse.status, headers: responseHeaders });
    }
    const body = faultyBody(upstreamResponse.body, entry, request.method === "GET" ? proxy.faults : {});
    return new Response(body, { status: upstreamResponse.status, headers: responseHeaders });
  });
  return Promise.resolve(proxy);
}

/** Applies the matching faults to one body while counting the bytes that leave. */
function faultyBody(
  source: ReadableStream<Uint8Array>,
  entry: ProxiedRequest,
  faults: ProxyFaults,
): ReadableStream<Uint8Array> {
  const corrupt =
    faults.corrupt && entry.path.includes(faults.corrupt.match) && (faults.corrupt.times ?? 1) > 0
      ? faults.corrupt
      : undefined;
  if (corrupt?.times !== undefined) corrupt.times--;
  const cut = faults.cut && entry.path.includes(faults.cut.match) && (faults.cut.times ?? 1) > 0
    ? faults.cut
    : undefined;
  if (cut) cut.times = (cut.times ?? 1) - 1;
  const reader = source.getReader();
  let position = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) return controller.close();
      let chunk = value;
      if (corrupt) {
        const at = corrupt.at ?? 0;
        if (at >= position && at < position + chunk.byteLength) {
          chunk = chunk.slice();
          chunk[at - position] ^= 0xff;
        }
      }
      if (cut && position + chunk.byteLength > cut.afterBytes) {
        const keep = cut.afterBytes - position;
        if (keep > 0) {
          controller.enqueue(chunk.subarray(0, keep));
          entry.bytes += keep;
        }
        await reader.cancel().catch(() => {});
        controller.error(new Error("proxy: connection cut on purpose"));
        return;
      }
      const rate = faults.throttle?.bytesPerSecond ?? 0;
      if (rate > 0) await new Promise((r) => setTimeout(r, (chunk.byteLength / rate) * 1000));
      position += chunk.byteLength;
      entry.bytes += chunk.byteLength;
      controller.enqueue(chunk);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}
