/**
 * The demo talks to Ground Control the way an operator's script would: plain HTTP with the admin
 * token, JSON bodies, and the API's error body shown when something is refused.
 *
 * @example
 * ```ts
 * import { ControlApi } from "./control_api.ts";
 * const api = new ControlApi("http://127.0.0.1:8080", "the-admin-token");
 * await api.call("GET", "/api/fleet");
 * ```
 * @module
 */

/**
 * An admin API caller.
 *
 * @example
 * ```ts
 * const api = new ControlApi("http://127.0.0.1:8080", "token");
 * await api.call("PUT", "/api/groups/stores", { artifacts: [{ repository: "demo/web", tags: ["1.0"] }] });
 * ```
 */
export class ControlApi {
  constructor(readonly baseUrl: string, readonly adminToken: string) {}

  /** Calls `method path` with an optional JSON body; throws with status and body on a non-2xx answer. */
  async call<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.adminToken}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
    return (text ? JSON.parse(text) : null) as T;
  }
}
