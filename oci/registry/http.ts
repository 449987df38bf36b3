/**
 * HTTP plumbing of the registry server: routing `/v2/` paths with multi-segment repository names, the
 * distribution-spec JSON error body, and small header helpers. Handlers live in `handlers_*.ts`.
 *
 * @example
 * ```ts
 * import { matchRoute } from "./http.ts";
 * matchRoute("/v2/a/b/c/manifests/latest"); // { kind: "manifest", name: "a/b/c", ref: "latest" }
 * ```
 * @module
 */
import { RepositoryName } from "../../schemas/oci.ts";
import { InvalidInputError, OciError, type OciErrorCode } from "../errors.ts";

/** A matched `/v2/` route. */
export type Route =
  | { kind: "base" }
  | { kind: "catalog" }
  | { kind: "manifest"; name: string; ref: string }
  | { kind: "blob"; name: string; ref: string }
  | { kind: "upload"; name: string; ref: string }
  | { kind: "tags"; name: string }
  | { kind: "referrers"; name: string; ref: string };

// Greedy `(.+)` takes the longest repository name, so names may themselves contain "manifests" etc.
const ROUTES: [RegExp, Route["kind"]][] = [
  [/^\/v2\/(.+)\/manifests\/([^/]+)$/, "manifest"],
  [/^\/v2\/(.+)\/blobs\/uploads\/([^/]*)$/, "upload"],
  [/^\/v2\/(.+)\/blobs\/([^/]+)$/, "blob"],
  [/^\/v2\/(.+)\/tags\/list$/, "tags"],
  [/^\/v2\/(.+)\/referrers\/([^/]+)$/, "referrers"],
];

/**
 * Matches a request path. Throws NAME_INVALID for a repository name outside the grammar (`..`,
 * encoded slashes, upper case); returns undefined for paths that are not registry routes.
 *
 * @example
 * ```ts
 * matchRoute("/v2/_catalog"); // { kind: "catalog" }
 * ```
 */
export function matchRoute(path: string): Route | undefined {
  if (path === "/v2/" || path === "/v2") return { kind: "base" };
  if (path === "/v2/_catalog") return { kind: "catalog" };
  for (const [pattern, kind] of ROUTES) {
    const m = pattern.exec(path);
    if (!m) continue;
    const name = m[1];
    const check = RepositoryName.safeParse(name);
    if (!check.success) {
      throw new InvalidInputError("repository", `"${name}" ${check.error.issues[0].message}`, "NAME_INVALID");
    }
    return kind === "tags" ? { kind, name } : { kind, name, ref: m[2] } as Route;
  }
  return undefined;
}

const STATUS: Partial<Record<OciErrorCode, number>> = {
  BLOB_UNKNOWN: 404,
  BLOB_UPLOAD_UNKNOWN: 404,
  MANIFEST_UNKNOWN: 404,
  NAME_UNKNOWN: 404,
  UNAUTHORIZED: 401,
  DENIED: 403,
  UNSUPPORTED: 405,
  TOOMANYREQUESTS: 429,
  RANGE_INVALID: 416,
};

/**
 * A distribution-spec error response: `{"errors":[{code,message,detail}]}` with a fitting status.
 *
 * @example
 * ```ts
 * errorResponse("MANIFEST_UNKNOWN", "no such tag", 404);
 * ```
 */
export function errorResponse(
  code: OciErrorCode,
  message: string,
  status?: number,
  detail?: unknown,
  headers: Record<string, string> = {},
): Response {
  const body = JSON.stringify({ errors: [{ code, message, ...(detail === undefined ? {} : { detail }) }] });
  return new Response(body, {
    status: status ?? STATUS[code] ?? 400,
    headers: { "content-type": "application/json", ...headers },
  });
}

/**
 * Maps any thrown value to an error response; unexpected errors become 500 UNKNOWN.
 *
 * @example
 * ```ts
 * toErrorResponse(new Error("boom")).status; // 500
 * ```
 */
export function toErrorResponse(e: unknown): Response {
  if (e instanceof OciError) {
    const status = e.status && e.status >= 400 ? e.status : STATUS[e.code] ?? 500;
    return errorResponse(e.code, e.message, status, e.detail);
  }
  return errorResponse("UNKNOWN", e instanceof Error ? e.message : String(e), 500);
}

/**
 * Parses a `Range: bytes=a-b` header against a size: `[start, endExclusive]`, null for no range, or
 * "invalid" when it cannot be satisfied.
 *
 * @example
 * ```ts
 * parseRange("bytes=10-19", 100); // [10, 20]
 * ```
 */
export function parseRange(header: string | null, size: number): [number, number] | null | "invalid" {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return "invalid";
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0) return "invalid";
    return [Math.max(0, size - suffix), size];
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? size : Math.min(size, Number(m[2]) + 1);
  if (start >= size || end <= start) return "invalid";
  return [start, end];
}

/**
 * Reads a request body up to `limit` bytes, throwing `tooLarge()` beyond it (without buffering more).
 *
 * @example
 * ```ts
 * await readLimited(new Request("http://x", { method: "PUT", body: "{}" }), 10, () => new Error("big"));
 * ```
 */
export async function readLimited(req: Request, limit: number, tooLarge: () => Error): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > limit) {
    await req.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  if (!req.body) return new Uint8Array();
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of req.body) {
    total += chunk.byteLength;
    if (total > limit) throw tooLarge();
    parts.push(chunk);
  }
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

/**
 * Builds a `Link: <url>; rel="next"` pagination header for a list endpoint.
 *
 * @example
 * ```ts
 * nextLink("/v2/a/tags/list", 2, "b"); // '</v2/a/tags/list?n=2&last=b>; rel="next"'
 * ```
 */
export function nextLink(path: string, n: number, last: string): string {
  return `<${path}?n=${n}&last=${encodeURIComponent(last)}>; rel="next"`;
}

/**
 * Pages a sorted list with the spec's `n` and `last` parameters: entries after `last`, at most `n`;
 * `next` is the `last` value for the next page when more remain.
 *
 * @example
 * ```ts
 * paginate(["a", "b", "c"], new URLSearchParams("n=2")); // { page: ["a", "b"], next: "b" }
 * ```
 */
export function paginate(sorted: string[], params: URLSearchParams): { page: string[]; next?: string } {
  const last = params.get("last");
  const nParam = params.get("n");
  let n = Infinity;
  if (nParam !== null) {
    n = Number(nParam);
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new OciError("UNSUPPORTED", `n=${nParam} must be a non-negative integer`, 400);
    }
  }
  const start = last === null ? 0 : sorted.findIndex((s) => s > last);
  const rest = start < 0 ? [] : sorted.slice(start);
  if (n === 0) return { page: [] };
  const page = rest.slice(0, n);
  return page.length < rest.length ? { page, next: page[page.length - 1] } : { page };
}
