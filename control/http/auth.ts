/**
 * Authentication and per-credential rate limiting. Admin routes take an admin bearer token; the
 * device status route takes the device secret from registration. Both are looked up by their
 * sha256 (the only form stored) and compared in constant time. A credential that is unknown,
 * revoked or malformed gets the same 401 body. Rate limits are keyed by the credential, never by
 * the client address.
 *
 * @example
 * ```ts
 * import { OpenAPIHono } from "@hono/zod-openapi";
 * import { adminAuth, type ControlEnv } from "./auth.ts";
 * declare const ctx: import("../context.ts").ControlContext;
 * new OpenAPIHono<ControlEnv>().use("/api/groups/*", adminAuth(ctx));
 * ```
 * @module
 */
import type { MiddlewareHandler } from "hono";
import type { ControlContext } from "../context.ts";
import { bearerToken, hashSecret } from "../secrets.ts";
import type { TokenBuckets } from "../rate_limit.ts";
import type { AdminTokenRecord, SatelliteRecord } from "../store/types.ts";
import { ApiProblem } from "./errors.ts";

/** Hono environment of Ground Control routes. */
export type ControlEnv = {
  Variables: { admin: AdminTokenRecord; satellite: SatelliteRecord };
};

/**
 * Takes one token from `key`'s bucket or throws a 429 with `Retry-After`.
 *
 * @example
 * ```ts
 * declare const ctx: ControlContext;
 * enforceRateLimit(ctx, ctx.limits.admin, "admin:abc");
 * ```
 */
export function enforceRateLimit(ctx: ControlContext, buckets: TokenBuckets, key: string): void {
  const { allowed, retryAfterSeconds } = buckets.take(key, ctx.clock().getTime());
  if (allowed) return;
  ctx.metrics.rateLimited.inc();
  throw new ApiProblem(
    429,
    "rate_limited",
    `too many requests for this credential; retry after ${retryAfterSeconds} s`,
    [{ path: "authorization", message: "request rate for this credential exceeded" }],
    { "retry-after": String(retryAfterSeconds) },
  );
}

/**
 * Requires an admin bearer token.
 *
 * @example
 * ```ts
 * declare const ctx: ControlContext;
 * const mw = adminAuth(ctx);
 * ```
 */
export function adminAuth(ctx: ControlContext): MiddlewareHandler<ControlEnv> {
  return async (c, next) => {
    const token = bearerToken(c.req.header("authorization"));
    const record = token ? await ctx.store.findAdminToken(hashSecret(token)) : null;
    if (!record) {
      throw ApiProblem.unauthorized("an admin bearer token is required (Authorization: Bearer <token>)");
    }
    enforceRateLimit(ctx, ctx.limits.admin, `admin:${record.id}`);
    c.set("admin", record);
    await next();
  };
}

/**
 * Requires the device secret of a registered, unrevoked satellite.
 *
 * @example
 * ```ts
 * declare const ctx: ControlContext;
 * const mw = deviceAuth(ctx);
 * ```
 */
export function deviceAuth(ctx: ControlContext): MiddlewareHandler<ControlEnv> {
  return async (c, next) => {
    const token = bearerToken(c.req.header("authorization"));
    const sat = token ? await ctx.store.findBySecret(hashSecret(token)) : null;
    if (!sat) {
      throw ApiProblem.unauthorized(
        "a valid device secret is required (Authorization: Bearer <deviceSecret>)",
      );
    }
    enforceRateLimit(ctx, ctx.limits.device, `satellite:${sat.name}`);
    c.set("satellite", sat);
    await next();
  };
}
