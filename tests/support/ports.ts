/**
 * Free loopback ports and waiting for a server to listen.
 *
 * @example
 * ```ts
 * import { freePort, waitForHttp } from "./ports.ts";
 * const port = freePort();
 * ```
 * @module
 */

/**
 * A port that was free on 127.0.0.1 a moment ago.
 *
 * @example
 * ```ts
 * const port = freePort();
 * ```
 */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Polls `url` until any HTTP answer arrives (or throws after `timeoutMs`).
 *
 * @example
 * ```ts
 * await waitForHttp("http://127.0.0.1:5000/v2/");
 * ```
 */
export async function waitForHttp(url: string, timeoutMs = 15_000, init?: RequestInit): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, init);
      await res.body?.cancel();
      return;
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`nothing answered at ${url} within ${timeoutMs} ms: ${last}`);
}
