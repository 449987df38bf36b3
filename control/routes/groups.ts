/**
 * Group routes: `PUT/GET/DELETE /api/groups/{name}`, `GET /api/groups`, and
 * `POST /api/groups/sync` (the Harbor registry adapter's payload, unchanged). A change stores the
 * group and republishes its state artifact once; satellites follow it through its `latest` tag.
 *
 * @example
 * ```ts
 * import { groupRoutes } from "./groups.ts";
 * declare const ctx: import("../context.ts").ControlContext;
 * const app = groupRoutes(ctx);
 * ```
 * @module
 */
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { GroupSyncRequest, GroupView, PutGroupRequest } from "../../schemas/control.ts";
import type { GroupState } from "../../schemas/group_state.ts";
import type { ControlContext } from "../context.ts";
import { ApiProblem } from "../http/errors.ts";
import { resolveArtifacts } from "../resolve.ts";
import { groupView } from "../views.ts";
import {
  ADMIN_SECURITY,
  type ControlApp,
  errors,
  GroupParams,
  jsonBody,
  jsonContent,
  newRouter,
} from "./common.ts";

/** Path segments under /api/groups that are routes, not group names. */
const RESERVED = new Set(["sync"]);

const putGroup = createRoute({
  method: "put",
  path: "/api/groups/{name}",
  tags: ["groups"],
  summary: "Create or replace a group; tags are resolved to digests in the central registry",
  security: ADMIN_SECURITY,
  request: { params: GroupParams, body: jsonBody(PutGroupRequest) },
  responses: { 200: jsonContent(GroupView, "the stored group"), ...errors(400, 401, 413, 422, 429, 502) },
});

const syncGroup = createRoute({
  method: "post",
  path: "/api/groups/sync",
  tags: ["groups"],
  summary: "Store a group state from Harbor's registry adapter (digests used as given)",
  security: ADMIN_SECURITY,
  request: { body: jsonBody(GroupSyncRequest) },
  responses: { 200: jsonContent(GroupView, "the stored group"), ...errors(400, 401, 413, 429) },
});

const getGroup = createRoute({
  method: "get",
  path: "/api/groups/{name}",
  tags: ["groups"],
  summary: "A group with its state and published artifact",
  security: ADMIN_SECURITY,
  request: { params: GroupParams },
  responses: { 200: jsonContent(GroupView, "the group"), ...errors(400, 401, 404, 429) },
});

const listGroups = createRoute({
  method: "get",
  path: "/api/groups",
  tags: ["groups"],
  summary: "All groups",
  security: ADMIN_SECURITY,
  responses: {
    200: jsonContent(z.object({ groups: z.array(GroupView) }), "the groups"),
    ...errors(401, 429),
  },
});

const deleteGroup = createRoute({
  method: "delete",
  path: "/api/groups/{name}",
  tags: ["groups"],
  summary: "Delete a group no satellite is in, and its state artifact",
  security: ADMIN_SECURITY,
  request: { params: GroupParams },
  responses: { 204: { description: "deleted" }, ...errors(400, 401, 404, 409, 429, 502) },
});

async function storeAndPublish(ctx: ControlContext, name: string, state: GroupState) {
  const current = await ctx.store.getGroup(name);
  // Harbor's adapter resends unchanged states; a new seq would make every satellite refetch.
  if (current?.published.digest && JSON.stringify(current.state) === JSON.stringify(state)) {
    return groupView(ctx, current);
  }
  await ctx.store.putGroup(name, state, ctx.clock());
  await ctx.publisher.publish("group", name).catch((e) =>
    ctx.log("warn", "group stored; its state push failed and will be retried", {
      group: name,
      error: String(e),
    })
  );
  const record = await ctx.store.getGroup(name);
  if (!record) throw ApiProblem.notFound("group", name);
  return groupView(ctx, record);
}

/**
 * The group routes.
 *
 * @example
 * ```ts
 * declare const ctx: ControlContext;
 * groupRoutes(ctx);
 * ```
 */
export function groupRoutes(ctx: ControlContext): ControlApp {
  const app = newRouter();

  app.openapi(syncGroup, async (c) => {
    const body = c.req.valid("json");
    const view = await storeAndPublish(ctx, body.group, {
      group: body.group,
      registry: body.registry,
      artifacts: body.artifacts,
    });
    return c.json(view, 200);
  });

  app.openapi(putGroup, async (c) => {
    const { name } = c.req.valid("param");
    if (RESERVED.has(name)) {
      throw new ApiProblem(400, "invalid_request", `"${name}" is reserved`, [{
        path: "path.name",
        message: `"${name}" is a route name; choose another group name`,
      }]);
    }
    const artifacts = await resolveArtifacts(ctx.registry, c.req.valid("json").artifacts);
    const view = await storeAndPublish(ctx, name, {
      group: name,
      registry: ctx.registryPublicHost,
      artifacts,
    });
    return c.json(view, 200);
  });

  app.openapi(getGroup, async (c) => {
    const { name } = c.req.valid("param");
    const record = await ctx.store.getGroup(name);
    if (!record) throw ApiProblem.notFound("group", name, "path.name");
    return c.json(groupView(ctx, record), 200);
  });

  app.openapi(listGroups, async (c) => {
    const groups = (await ctx.store.listGroups()).map((g) => groupView(ctx, g));
    return c.json({ groups }, 200);
  });

  app.openapi(deleteGroup, async (c) => {
    const { name } = c.req.valid("param");
    if (!(await ctx.store.getGroup(name))) throw ApiProblem.notFound("group", name, "path.name");
    const members = (await ctx.store.listSatellites()).filter((s) => !s.revokedAt && s.groups.includes(name));
    if (members.length) {
      throw new ApiProblem(
        409,
        "group_in_use",
        `group "${name}" still has ${members.length} satellite(s); move them to other groups first`,
        members.slice(0, 50).map((s) => ({
          path: "path.name",
          message: `satellite "${s.name}" is in this group`,
        })),
      );
    }
    await ctx.store.deleteGroup(name);
    await ctx.publisher.remove("group", name);
    return c.body(null, 204);
  });

  return app;
}
