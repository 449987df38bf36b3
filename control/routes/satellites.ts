/**
 * Satellite routes: create (with a one-time registration token), list, get, patch (groups and
 * config; republishes the satellite state), revoke (`DELETE`: the device secret dies, credentials
 * are withdrawn, the state artifact is removed) and re-issue a token.
 *
 * @example
 * ```ts
 * import { satelliteRoutes } from "./satellites.ts";
 * declare const ctx: import("../context.ts").ControlContext;
 * const app = satelliteRoutes(ctx);
 * ```
 * @module
 */
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import {
  CreateSatelliteRequest,
  Lifecycle,
  PatchSatelliteRequest,
  RegistrationTokenResponse,
  SatelliteView,
} from "../../schemas/control.ts";
import { OtaConfig } from "../../schemas/satellite_state.ts";
import type { ControlContext } from "../context.ts";
import { ApiProblem } from "../http/errors.ts";
import { hashSecret, randomSecret } from "../secrets.ts";
import type { SatelliteRecord } from "../store/types.ts";
import { satelliteViews } from "../views.ts";
import {
  ADMIN_SECURITY,
  type ControlApp,
  errors,
  jsonBody,
  jsonContent,
  newRouter,
  SatelliteParams,
} from "./common.ts";

const create = createRoute({
  method: "post",
  path: "/api/satellites",
  tags: ["satellites"],
  summary: "Create a satellite; answers its one-time registration token",
  security: ADMIN_SECURITY,
  request: { body: jsonBody(CreateSatelliteRequest) },
  responses: {
    201: jsonContent(RegistrationTokenResponse, "the token (shown once)"),
    ...errors(400, 401, 409, 413, 422, 429),
  },
});

const list = createRoute({
  method: "get",
  path: "/api/satellites",
  tags: ["satellites"],
  summary: "All satellites with their derived lifecycle",
  security: ADMIN_SECURITY,
  request: { query: z.object({ lifecycle: Lifecycle.optional() }) },
  responses: {
    200: jsonContent(z.object({ satellites: z.array(SatelliteView) }), "the satellites"),
    ...errors(400, 401, 429),
  },
});

const get = createRoute({
  method: "get",
  path: "/api/satellites/{name}",
  tags: ["satellites"],
  summary: "One satellite",
  security: ADMIN_SECURITY,
  request: { params: SatelliteParams },
  responses: { 200: jsonContent(SatelliteView, "the satellite"), ...errors(400, 401, 404, 429) },
});

const patch = createRoute({
  method: "patch",
  path: "/api/satellites/{name}",
  tags: ["satellites"],
  summary: "Change groups and/or config (each given field replaces the stored one)",
  security: ADMIN_SECURITY,
  request: { params: SatelliteParams, body: jsonBody(PatchSatelliteRequest) },
  responses: {
    200: jsonContent(SatelliteView, "the satellite"),
    ...errors(400, 401, 404, 409, 413, 422, 429),
  },
});

const revoke = createRoute({
  method: "delete",
  path: "/api/satellites/{name}",
  tags: ["satellites"],
  summary: "Revoke a satellite: its device secret, credentials and state artifact go",
  security: ADMIN_SECURITY,
  request: { params: SatelliteParams },
  responses: { 200: jsonContent(SatelliteView, "the revoked satellite"), ...errors(400, 401, 404, 429, 502) },
});

const reissue = createRoute({
  method: "post",
  path: "/api/satellites/{name}/token",
  tags: ["satellites"],
  summary: "Issue a new registration token (the previous one dies)",
  security: ADMIN_SECURITY,
  request: { params: SatelliteParams },
  responses: {
    201: jsonContent(RegistrationTokenResponse, "the token (shown once)"),
    ...errors(400, 401, 404, 409, 429),
  },
});

async function requireGroups(ctx: ControlContext, groups: string[]): Promise<void> {
  const known = await ctx.store.getGroupSummaries(groups);
  const issues = groups.flatMap((g, i) =>
    known.has(g) ? [] : [{ path: `groups[${i}]`, message: `group "${g}" does not exist; create it first` }]
  );
  if (issues.length) throw new ApiProblem(422, "unknown_group", "unknown group(s) named", issues);
}

async function publishQuietly(ctx: ControlContext, name: string): Promise<void> {
  await ctx.publisher.publish("satellite", name).catch((e) =>
    ctx.log("warn", "satellite stored; its state push failed and will be retried", {
      satellite: name,
      error: String(e),
    })
  );
}

async function viewOf(ctx: ControlContext, name: string) {
  const record = await ctx.store.getSatellite(name);
  if (!record) throw ApiProblem.notFound("satellite", name, "path.name");
  return (await satelliteViews(ctx, [record]))[0];
}

function newToken(ctx: ControlContext) {
  const token = randomSecret(32);
  const expiresAt = new Date(ctx.clock().getTime() + ctx.config.tokenTtlSeconds * 1000).toISOString();
  return { token, hash: hashSecret(token), expiresAt };
}

/**
 * The satellite routes.
 *
 * @example
 * ```ts
 * declare const ctx: ControlContext;
 * satelliteRoutes(ctx);
 * ```
 */
export function satelliteRoutes(ctx: ControlContext): ControlApp {
  const app = newRouter();

  app.openapi(create, async (c) => {
    const body = c.req.valid("json");
    await requireGroups(ctx, body.groups);
    const { token, hash, expiresAt } = newToken(ctx);
    const record: SatelliteRecord = {
      name: body.name,
      groups: [...new Set(body.groups)],
      config: body.config ?? OtaConfig.parse({ reportIntervalSeconds: ctx.config.reportIntervalSeconds }),
      createdAt: ctx.clock().toISOString(),
      registeredAt: null,
      revokedAt: null,
      device: null,
      tokenHash: hash,
      tokenExpiresAt: expiresAt,
      deviceSecretHash: null,
      revision: 1,
      published: { seq: 0, digest: null, revision: 0 },
    };
    if (!(await ctx.store.createSatellite(record, expiresAt))) {
      throw new ApiProblem(409, "exists", `satellite "${body.name}" already exists`, [{
        path: "name",
        message: "taken; re-issue its token with POST /api/satellites/{name}/token",
      }]);
    }
    // Not awaited: provisioning thousands of satellites must not wait on a push each. The state
    // is normally out long before the device registers; `POST /ztr` waits for it if not.
    publishQuietly(ctx, body.name);
    return c.json({ satellite: body.name, token, expiresAt, groundControlUrl: ctx.publicUrl }, 201);
  });

  app.openapi(list, async (c) => {
    const { lifecycle } = c.req.valid("query");
    const views = await satelliteViews(ctx, await ctx.store.listSatellites());
    return c.json({ satellites: lifecycle ? views.filter((v) => v.lifecycle === lifecycle) : views }, 200);
  });

  app.openapi(get, async (c) => c.json(await viewOf(ctx, c.req.valid("param").name), 200));

  app.openapi(patch, async (c) => {
    const { name } = c.req.valid("param");
    const body = c.req.valid("json");
    if (body.groups) await requireGroups(ctx, body.groups);
    let revoked = false;
    const updated = await ctx.store.updateSatellite(name, (cur) => {
      revoked = cur.revokedAt !== null;
      if (revoked) return null;
      return {
        ...cur,
        groups: body.groups ? [...new Set(body.groups)] : cur.groups,
        config: body.config ?? cur.config,
        revision: cur.revision + 1,
      };
    });
    if (revoked) {
      throw new ApiProblem(409, "revoked", `satellite "${name}" is revoked`, [{
        path: "path.name",
        message: "revoked satellites cannot change; create a new one",
      }]);
    }
    if (!updated) throw ApiProblem.notFound("satellite", name, "path.name");
    await publishQuietly(ctx, name);
    return c.json(await viewOf(ctx, name), 200);
  });

  app.openapi(revoke, async (c) => {
    const { name } = c.req.valid("param");
    const revoked = await ctx.store.revokeSatellite(name, ctx.clock());
    if (!revoked) throw ApiProblem.notFound("satellite", name, "path.name");
    await ctx.credentials.revoke(name);
    await ctx.publisher.remove("satellite", name);
    ctx.metrics.fleet.forget(name);
    ctx.log("info", "satellite revoked", { satellite: name });
    return c.json(await viewOf(ctx, name), 200);
  });

  app.openapi(reissue, async (c) => {
    const { name } = c.req.valid("param");
    const { token, hash, expiresAt } = newToken(ctx);
    const record = await ctx.store.issueToken(name, hash, expiresAt);
    if (!record) {
      if (await ctx.store.getSatellite(name)) {
        throw new ApiProblem(409, "revoked", `satellite "${name}" is revoked`, [{
          path: "path.name",
          message: "revoked satellites get no tokens",
        }]);
      }
      throw ApiProblem.notFound("satellite", name, "path.name");
    }
    return c.json({ satellite: name, token, expiresAt, groundControlUrl: ctx.publicUrl }, 201);
  });

  return app;
}
