/**
 * Registry authentication: anonymous, HTTP Basic, and the bearer-token flow (a 401 challenge names
 * a token server; the client fetches a token for the scopes it needs and retries). The scheme is
 * learned from the first challenge; afterwards credentials are sent up front, and bearer tokens are
 * cached per scope set until shortly before they expire.
 *
 * @example
 * ```ts
 * import { Authenticator } from "./auth.ts";
 * const auth = new Authenticator({ credentials: { username: "u", password: "p" } });
 * await auth.authorization(["repository:a/b:pull"]); // undefined until a challenge was seen
 * ```
 * @module
 */
import { TokenResponse } from "../schemas/registry_token.ts";
import { parseJsonOrThrow } from "../schemas/validate.ts";
import { OciError, TransportError } from "./errors.ts";
import { findChallenge, parseWwwAuthenticate } from "./www_authenticate.ts";

/** Options of an {@linkcode Authenticator}. */
export interface AuthenticatorOptions {
  credentials?: { username: string; password: string };
  fetch?: typeof fetch;
  userAgent?: string;
  /** Timeout of one token request. */
  timeoutMs?: number;
  /** Clock, injectable for expiry tests. */
  now?: () => number;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

/** Tokens are dropped this long before the server says they expire, so none dies in flight. */
const EXPIRY_MARGIN_MS = 10_000;

/**
 * Holds what was learned about a registry's authentication and produces `Authorization` values.
 *
 * @example
 * ```ts
 * const auth = new Authenticator({});
 * const retry = await auth.onUnauthorized('Bearer realm="http://127.0.0.1:1/token"', ["repository:a:pull"], undefined);
 * ```
 */
export class Authenticator {
  readonly #options: AuthenticatorOptions;
  #scheme: "unknown" | "basic" | "bearer" = "unknown";
  #bearer?: { realm: string; service?: string };
  readonly #tokens = new Map<string, CachedToken>();
  readonly #inflight = new Map<string, Promise<string>>();
  /** How many token requests were made (observability for tests and metrics). */
  tokenRequests = 0;

  constructor(options: AuthenticatorOptions) {
    this.#options = options;
  }

  /** The learned scheme: `unknown` until a 401 challenge was seen. */
  get scheme(): "unknown" | "basic" | "bearer" {
    return this.#scheme;
  }

  /**
   * The `Authorization` header for a request needing `scopes`, or undefined (anonymous so far).
   * May fetch a bearer token (single flight per scope set).
   */
  async authorization(scopes: string[], signal?: AbortSignal): Promise<string | undefined> {
    if (this.#scheme === "basic") return this.#basic();
    if (this.#scheme !== "bearer") return undefined;
    const key = scopeKey(scopes);
    const cached = this.#tokens.get(key);
    if (cached && cached.expiresAt > this.#now()) return `Bearer ${cached.token}`;
    return `Bearer ${await this.#fetchToken(key, scopes, signal)}`;
  }

  /**
   * Learns from a 401's `WWW-Authenticate` header. Returns true when retrying the request with
   * fresh credentials can succeed (a new scheme, or a rejected cached token that was replaced).
   */
  async onUnauthorized(
    header: string | null,
    scopes: string[],
    sent: string | undefined,
    signal?: AbortSignal,
  ): Promise<boolean> {
    const challenges = parseWwwAuthenticate(header ?? "");
    const bearer = findChallenge(challenges, "bearer");
    if (bearer?.params.realm) {
      this.#scheme = "bearer";
      this.#bearer = { realm: bearer.params.realm, service: bearer.params.service };
      const key = scopeKey(scopes);
      this.#tokens.delete(key);
      const wanted = [...scopes, ...(bearer.params.scope ?? "").split(" ").filter(Boolean)];
      await this.#fetchToken(key, [...new Set(wanted)], signal);
      return true;
    }
    const basic = findChallenge(challenges, "basic");
    if (basic && this.#options.credentials && !sent?.startsWith("Basic ")) {
      this.#scheme = "basic";
      return true;
    }
    return false;
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }

  #basic(): string | undefined {
    const creds = this.#options.credentials;
    if (!creds) return undefined;
    const bytes = new TextEncoder().encode(`${creds.username}:${creds.password}`);
    return `Basic ${btoa(String.fromCharCode(...bytes))}`;
  }

  #fetchToken(key: string, scopes: string[], signal?: AbortSignal): Promise<string> {
    const pending = this.#inflight.get(key);
    if (pending) return pending;
    const request = this.#requestToken(scopes, signal).then((cached) => {
      this.#tokens.set(key, cached);
      return cached.token;
    }).finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, request);
    return request;
  }

  async #requestToken(scopes: string[], signal?: AbortSignal): Promise<CachedToken> {
    const { realm, service } = this.#bearer!;
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new OciError("UNAUTHORIZED", `token realm "${realm}" from WWW-Authenticate is not a URL`, 401);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new OciError("UNAUTHORIZED", `token realm "${realm}" must be an http(s) URL`, 401);
    }
    if (service) url.searchParams.set("service", service);
    for (const scope of new Set(scopes)) url.searchParams.append("scope", scope);
    const headers = new Headers({ accept: "application/json" });
    const basic = this.#basic();
    if (basic) headers.set("authorization", basic);
    if (this.#options.userAgent) headers.set("user-agent", this.#options.userAgent);
    const timeout = AbortSignal.timeout(this.#options.timeoutMs ?? 30_000);
    const issuedAt = this.#now();
    this.tokenRequests++;
    let response: Response;
    let text: string;
    try {
      response = await (this.#options.fetch ?? fetch)(url, {
        headers,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      text = await response.text();
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      throw new TransportError(`GET ${url.origin}${url.pathname} (token)`, e);
    }
    if (!response.ok) {
      throw new OciError(
        response.status === 401 || response.status === 403 ? "UNAUTHORIZED" : "UNKNOWN",
        `token server ${url.origin}${url.pathname} answered ${response.status} for scope ` +
          `"${scopes.join(" ")}": ${text.slice(0, 200)}${basic ? "" : " (no credentials were configured)"}`,
        response.status,
      );
    }
    const parsed = parseJsonOrThrow(TokenResponse, text, `token response from ${url.origin}`);
    // The local clock, not the server's issued_at: edge devices often have skewed clocks.
    const lifetime = parsed.expires_in * 1000;
    return {
      token: parsed.token,
      expiresAt: issuedAt + lifetime - Math.min(EXPIRY_MARGIN_MS, lifetime / 10),
    };
  }
}

/** A canonical cache key for a set of scopes. */
function scopeKey(scopes: string[]): string {
  return [...new Set(scopes)].sort().join(" ");
}
