/**
 * `GET /api/fleet`: how many satellites are in each lifecycle state, and which ones report applied
 * state digests that differ from the desired ones.
 *
 * @example
 * ```ts
 * import { fleetRoutes } from "./fleet.ts";
 * declare const ctx: import("../context.ts").ControlContext;
 * const app = fleetRoutes(ctx);
 * ```
 * @module
 */
import { createRoute } from "@hono/zod-openapi";
import { FleetOverview, type Lifecycle } from "../../schemas/control.ts";
import type { ControlContext } from "../context.ts";
import { satelliteFacts } from "../views.ts";
import { ADMIN_SECURITY, type ControlApp, errors, jsonContent, newRouter } from "./common.ts";

const fleet = createRoute({
  method: "get",
  path: "/api/fleet",
  tags: ["fleet"],
  summary: "Counts per lifecycle state and the satellites that drifted from their desired state",
  security: ADMIN_SECURITY,
  responses: { 200: jsonContent(FleetOverview, "the fleet"), ...errors(401, 429) },
});

/**
 * The fleet route.
 *
 * @example
 * ```ts
 * declare const ctx: ControlContext;
 * fleetRoutes(ctx);
 * ```
 */
export function fleetRoutes(ctx: ControlContext): ControlApp {
  const app = newRouter();
  app.openapi(fleet, async (c) => {
    const facts = await satelliteFacts(ctx, await ctx.store.listSatellites());
    const counts: Record<Lifecycle, number> = { pending: 0, online: 0, stale: 0, offline: 0, revoked: 0 };
    for (const f of facts) counts[f.view.lifecycle]++;
    const drifted = facts.filter((f) => f.view.drift && f.seen).map((f) => ({
      name: f.record.name,
      lifecycle: f.view.lifecycle,
      desired: f.desired,
      reported: f.seen!.status.applied,
    }));
    return c.json({ total: facts.length, counts, drifted }, 200);
  });
  return app;
}
