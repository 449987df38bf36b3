/**
 * The HTTP layer of the registry client: authentication (via {@linkcode Authenticator}), retries
 * with backoff for idempotent calls, idle timeouts that also cover streamed bodies, and turning
 * error responses into typed {@linkcode OciError}s.
 *
 * @example
 * ```ts
 * import { RegistryHttp } from "./http.ts";
 * const http = new RegistryHttp({ baseUrl: "http://127.0.0.1:5000" });
 * const res = await http.request({ method: "GET", url: "/v2/", scopes: [] });
 * console.log(res.status);
 * ```
 * @module
 */
import { ErrorBody } from "../schemas/oci.ts";
import { Authenticator } from "./auth.ts";
import { OciError, type OciErrorCode, TransportError } from "./errors.ts";
import { IdleWatchdog, watchStream } from "./idle_watchdog.ts";
import {
  type BackoffPolicy,
  DEFAULT_BACKOFF,
  isRefusedStatus,
  isRetryableStatus,
  retryDelay,
  sleep,
} from "./retry.ts";

/** Options of {@linkcode RegistryHttp}. */
export interface RegistryHttpOptions {
  baseUrl: string;
  credentials?: { username: string; password: string };
  /** Per request; for streamed bodies, the longest pause between two chunks. Default 30 s. */
  timeoutMs?: number;
  /** Extra tries for idempotent calls. Default 3. */
  retries?: number;
  fetch?: typeof fetch;
  userAgent?: string;
  backoff?: BackoffPolicy;
}

/** One registry call. */
export interface RegistryRequest {
  method: "GET" | "HEAD" | "PUT" | "POST" | "PATCH" | "DELETE";
  /** A path (`/v2/...`, resolved against the base URL) or an absolute URL (upload locations). */
  url: string | URL;
  /** Token scopes the call needs, e.g. `repository:a/b:pull`. */
  scopes: string[];
  headers?: Record<string, string>;
  /** Bytes are replayable (retried); a stream is sent once and never retried. */
  body?: Uint8Array | ReadableStream<Uint8Array>;
  /** Default: true for GET, HEAD, PUT, DELETE. A POST is repeated only after 429/503 (refused). */
  idempotent?: boolean;
  signal?: AbortSignal;
}

/** A response whose body is still to be read; its idle watchdog runs until the body is done. */
export interface RegistryResponse {
  status: number;
  headers: Headers;
  /** The URL that was finally requested (after redirects are followed by fetch). */
  url: URL;
  /** Watched body (idle timeout, typed errors); null for HEAD and empty bodies. */
  body: ReadableStream<Uint8Array> | null;
}

const MAX_ERROR_BODY = 64 * 1024;

/**
 * Sends registry requests with auth, retries and timeouts.
 *
 * @example
 * ```ts
 * const http = new RegistryHttp({ baseUrl: "http://127.0.0.1:5000", retries: 1 });
 * const res = await http.request({ method: "HEAD", url: "/v2/", scopes: [] });
 * ```
 */
export class RegistryHttp {
  readonly baseUrl: URL;
  readonly auth: Authenticator;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #userAgent: string;
  readonly #backoff: BackoffPolicy;

  constructor(options: RegistryHttpOptions) {
    this.baseUrl = new URL(options.baseUrl);
    this.#fetch = options.fetch ?? fetch;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#retries = Math.max(0, Math.min(options.retries ?? 3, 10));
    this.#userAgent = options.userAgent ?? "edge-registry/1";
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.auth = new Authenticator({
      credentials: options.credentials,
      fetch: this.#fetch,
      userAgent: this.#userAgent,
      timeoutMs: this.#timeoutMs,
    });
  }

  /**
   * Sends `req`, retrying idempotent calls on network errors, timeouts, 429 and 5xx, and any call
   * once on a 401 the authenticator can answer. Any status comes back; see {@linkcode expectStatus}.
   */
  async request(req: RegistryRequest): Promise<RegistryResponse> {
    const url = typeof req.url === "string" ? new URL(req.url, this.baseUrl) : req.url;
    const what = `${req.method} ${url.origin}${url.pathname}`;
    const replayable = !(req.body instanceof ReadableStream);
    const idempotent = req.idempotent ?? (req.method !== "POST" && req.method !== "PATCH");
    let authRetried = false;
    // Bounded: each pass either returns, throws, or uses one of `retries` tries (or the one auth retry).
    for (let attempt = 0;; attempt++) {
      const canRetry = attempt < this.#retries && replayable;
      const watchdog = new IdleWatchdog(this.#timeoutMs, what);
      const signal = req.signal ? AbortSignal.any([watchdog.signal, req.signal]) : watchdog.signal;
      const bodyFailure: { error?: unknown } = {};
      let sent: string | undefined;
      let response: Response;
      try {
        sent = await this.auth.authorization(req.scopes, signal);
        const headers = new Headers(req.headers);
        headers.set("user-agent", this.#userAgent);
        if (sent) headers.set("authorization", sent);
        const body = req.body instanceof ReadableStream
          ? watchStream(req.body, watchdog, bodyFailure)
          : req.body;
        response = await this.#fetch(url, {
          method: req.method,
          headers,
          body: body as BodyInit | undefined,
          signal,
        });
      } catch (e) {
        watchdog.dispose();
        if (req.signal?.aborted) throw req.signal.reason;
        if (bodyFailure.error !== undefined) throw bodyFailure.error;
        const error = e instanceof OciError ? e : new TransportError(what, watchdog.reason ?? e);
        if (error instanceof TransportError && idempotent && canRetry) {
          await sleep(retryDelay(attempt, null, this.#backoff), req.signal);
          continue;
        }
        throw error;
      }
      if (response.status === 401 && !authRetried && replayable) {
        authRetried = true;
        let retry: boolean;
        try {
          retry = await this.auth.onUnauthorized(
            response.headers.get("www-authenticate"),
            req.scopes,
            sent,
            signal,
          );
        } catch (e) {
          await response.body?.cancel().catch(() => {});
          watchdog.dispose();
          throw e;
        }
        if (retry) {
          await response.body?.cancel().catch(() => {});
          watchdog.dispose();
          attempt--;
          continue;
        }
      }
      if (
        isRetryableStatus(response.status) && canRetry && (idempotent || isRefusedStatus(response.status))
      ) {
        const delay = retryDelay(attempt, response.headers.get("retry-after"), this.#backoff);
        await response.body?.cancel().catch(() => {});
        watchdog.dispose();
        await sleep(delay, req.signal);
        continue;
      }
      if (bodyFailure.error !== undefined) {
        await response.body?.cancel().catch(() => {});
        watchdog.dispose();
        throw bodyFailure.error;
      }
      const body = response.body ? watchStream(response.body, watchdog, {}, req.signal) : null;
      if (!body) watchdog.dispose();
      return { status: response.status, headers: response.headers, url: new URL(response.url || url), body };
    }
  }
}

/**
 * Throws the typed error for `res` unless its status is one of `ok`; returns `res` otherwise.
 *
 * @example
 * ```ts
 * declare const res: RegistryResponse;
 * await expectStatus(res, "GET /v2/", [200]);
 * ```
 */
export async function expectStatus(
  res: RegistryResponse,
  what: string,
  ok: number[],
  notFound: OciErrorCode = "UNKNOWN",
): Promise<RegistryResponse> {
  if (ok.includes(res.status)) return res;
  throw await responseError(res, what, notFound);
}

/**
 * Builds an {@linkcode OciError} from an error response: the spec's JSON error body when there is
 * one, else the status, URL and the start of the body, so a proxy's HTML page still reads clearly.
 *
 * @example
 * ```ts
 * declare const res: RegistryResponse;
 * const err = await responseError(res, "GET http://r/v2/a/manifests/x", "MANIFEST_UNKNOWN");
 * ```
 */
export async function responseError(
  res: RegistryResponse,
  what: string,
  notFound: OciErrorCode = "UNKNOWN",
): Promise<OciError> {
  const text = new TextDecoder().decode(await readBody(res, MAX_ERROR_BODY, () => undefined));
  const fallback = statusCode(res.status, notFound);
  let errors: ErrorBody["errors"] | undefined;
  try {
    const parsed = ErrorBody.safeParse(JSON.parse(text));
    if (parsed.success && parsed.data.errors.length > 0) errors = parsed.data.errors;
  } catch { /* not JSON: described by status and text below */ }
  const hint = res.status === 401
    ? " (credentials missing or rejected: configure username/password)"
    : res.status === 403
    ? " (credentials lack permission for this repository/action)"
    : "";
  if (errors) {
    const code = (KNOWN_CODES as readonly string[]).includes(errors[0].code)
      ? errors[0].code as OciErrorCode
      : fallback;
    const summary = errors.map((e) => `${e.code}: ${e.message}`).join("; ");
    return new OciError(code, `${what} -> ${res.status}: ${summary}${hint}`, res.status, errors);
  }
  const snippet = text.trim().slice(0, 200);
  return new OciError(
    fallback,
    `${what} -> ${res.status}${snippet ? `: ${snippet}` : ""}${hint}`,
    res.status,
  );
}

/**
 * Reads a whole body, throwing `tooLarge(bytesSoFar)` past `limit` bytes (or returning the first
 * `limit` bytes when `tooLarge` returns nothing).
 *
 * @example
 * ```ts
 * declare const res: RegistryResponse;
 * const bytes = await readBody(res, 1024, (n) => new Error(`${n} bytes is too much`));
 * ```
 */
export async function readBody(
  res: RegistryResponse,
  limit: number,
  tooLarge: (size: number) => Error | undefined,
): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = res.body.getReader();
  try {
    // Bounded by `limit`: we stop reading once past it.
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        const error = tooLarge(total);
        await reader.cancel().catch(() => {});
        if (error) throw error;
        chunks.push(value.subarray(0, value.byteLength - (total - limit)));
        total = limit;
        break;
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

const KNOWN_CODES = [
  "BLOB_UNKNOWN",
  "BLOB_UPLOAD_INVALID",
  "BLOB_UPLOAD_UNKNOWN",
  "DIGEST_INVALID",
  "MANIFEST_BLOB_UNKNOWN",
  "MANIFEST_INVALID",
  "MANIFEST_UNKNOWN",
  "NAME_INVALID",
  "NAME_UNKNOWN",
  "SIZE_INVALID",
  "UNAUTHORIZED",
  "DENIED",
  "UNSUPPORTED",
  "TOOMANYREQUESTS",
  "RANGE_INVALID",
] as const satisfies readonly OciErrorCode[];

function statusCode(status: number, notFound: OciErrorCode): OciErrorCode {
  switch (status) {
    case 401:
      return "UNAUTHORIZED";
    case 403:
      return "DENIED";
    case 404:
      return notFound;
    case 405:
    case 501:
      return "UNSUPPORTED";
    case 413:
      return "SIZE_INVALID";
    case 416:
      return "RANGE_INVALID";
    case 429:
      return "TOOMANYREQUESTS";
    default:
      return "UNKNOWN";
  }
}
