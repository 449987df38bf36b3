/**
 * The Ground Control HTTP app: body limits, JSON-only bodies, admin auth on `/api` (the device
 * status route uses the device secret instead), the route modules, `/openapi.json` generated from
 * the same zod schemas, `/healthz` and `/metrics`.
 *
 * @example
 * ```ts
 * import { createApp } from "./app.ts";
 * declare const ctx: import("./context.ts").ControlContext;
 * Deno.serve(createApp(ctx).fetch);
 * ```
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { ControlContext } from "./context.ts";
import { adminAuth, type ControlEnv } from "./http/auth.ts";
import { ApiProblem, onApiError, onNotFound } from "./http/errors.ts";
import { type ControlApp, newRouter } from "./routes/common.ts";
import { deviceRoutes } from "./routes/device.ts";
import { fleetRoutes } from "./routes/fleet.ts";
import { groupRoutes } from "./routes/groups.ts";
import { satelliteRoutes } from "./routes/satellites.ts";

const JSON_TYPE = /^application\/([\w.-]+\+)?json$/i;

/** Bodies must be JSON: anything else is a 415 rather than a confusing field error. */
const jsonOnly: MiddlewareHandler<ControlEnv> = async (c, next) => {
  const hasBody = c.req.raw.body !== null && c.req.header("content-length") !== "0";
  const type = (c.req.header("content-type") ?? "").split(";")[0].trim();
  if (hasBody && ["POST", "PUT", "PATCH"].includes(c.req.method) && !JSON_TYPE.test(type)) {
    throw new ApiProblem(415, "unsupported_media_type", "request bodies must be JSON", [{
      path: "header.content-type",
      message: `is "${type || "(missing)"}"; send Content-Type: application/json`,
    }]);
  }
  await next();
};

function countRequests(ctx: ControlContext): MiddlewareHandler<ControlEnv> {
  return async (c, next) => {
    await next();
    ctx.metrics.requests.inc({
      method: c.req.method,
      route: c.req.routePath || "unmatched",
      status: `${Math.floor(c.res.status / 100)}xx`,
    });
  };
}

/**
 * Builds the app over a context.
 *
 * @example
 * ```ts
 * declare const ctx: ControlContext;
 * const res = await createApp(ctx).request("/healthz");
 * ```
 */
export function createApp(ctx: ControlContext): ControlApp {
  const app = newRouter();
  app.onError(
    onApiError((error, c) =>
      ctx.log("error", "request failed", { method: c.req.method, path: c.req.path, error: String(error) })
    ),
  );
  app.notFound(onNotFound);
  app.use("*", countRequests(ctx));
  app.use(
    "*",
    bodyLimit({
      maxSize: ctx.config.maxBodyBytes,
      onError: () => {
        throw new ApiProblem(413, "body_too_large", `request body is over ${ctx.config.maxBodyBytes} bytes`, [
          {
            path: "",
            message: `send at most ${ctx.config.maxBodyBytes} bytes`,
          },
        ]);
      },
    }),
  );
  app.use("*", jsonOnly);
  const admin = adminAuth(ctx);
  app.use("/api/*", async (c, next) => {
    if (c.req.path.startsWith("/api/device/")) return await next();
    return await admin(c, next);
  });

  app.route("/", groupRoutes(ctx));
  app.route("/", satelliteRoutes(ctx));
  app.route("/", fleetRoutes(ctx));
  app.route("/", deviceRoutes(ctx));

  app.get("/healthz", (c) => c.json({ status: "ok", pendingStatePushes: ctx.publisher.pending }));
  app.get("/metrics", ctx.metrics.registry.handler());
  app.openAPIRegistry.registerComponent("securitySchemes", "adminToken", {
    type: "http",
    scheme: "bearer",
    description: "an admin token (GROUND_CONTROL_ADMIN_TOKEN, or the one printed on first start)",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "deviceSecret", {
    type: "http",
    scheme: "bearer",
    description: "the deviceSecret from POST /ztr",
  });
  app.doc("/openapi.json", {
    openapi: "3.0.3",
    info: {
      title: "Ground Control",
      version: "0.1.0",
      description:
        "Groups, satellites, zero-touch registration and signed state artifacts for edge registries.",
    },
  });
  return app;
}
