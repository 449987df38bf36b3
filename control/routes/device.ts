/**
 * The routes a satellite calls: `POST /ztr` (exchange a registration token, once) and
 * `POST /api/device/status` (report status with the device secret; the answer holds the desired
 * state digests and, when due, rotated registry credentials).
 *
 * @example
 * ```ts
 * import { deviceRoutes } from "./device.ts";
 * declare const ctx: import("../context.ts").ControlContext;
 * const app = deviceRoutes(ctx);
 * ```
 * @module
 */
import { createRoute } from "@hono/zod-openapi";
import { ZtrRequest, ZtrResponse } from "../../schemas/registration.ts";
import { type StatusEvent, StatusReport, StatusResponse } from "../../schemas/status.ts";
import type { ControlContext } from "../context.ts";
import { deviceAuth, enforceRateLimit } from "../http/auth.ts";
import { ApiProblem } from "../http/errors.ts";
import { stateReference } from "../publisher.ts";
import { hashSecret, randomSecret } from "../secrets.ts";
import { desiredFor } from "../views.ts";
import { type ControlApp, DEVICE_SECURITY, errors, jsonBody, jsonContent, newRouter } from "./common.ts";

const ztr = createRoute({
  method: "post",
  path: "/ztr",
  tags: ["device"],
  summary: "Zero-touch registration: exchange a one-time token for identity, secret, credentials and keys",
  request: { body: jsonBody(ZtrRequest) },
  responses: { 200: jsonContent(ZtrResponse, "registered"), ...errors(400, 401, 413, 429) },
});

const status = createRoute({
  method: "post",
  path: "/api/device/status",
  tags: ["device"],
  summary: "Status report from a satellite; answers the desired state digests",
  security: DEVICE_SECURITY,
  request: { body: jsonBody(StatusReport) },
  responses: { 200: jsonContent(StatusResponse, "desired state"), ...errors(400, 401, 403, 413, 429) },
});

/** How long a registration waits for the satellite's first state push before answering anyway. */
const FIRST_PUSH_WAIT_MS = 5_000;

/** Waits (bounded) for the first push of a satellite state, so the device's first poll finds it. */
async function firstStatePushed(ctx: ControlContext, name: string): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const push = ctx.publisher.publish("satellite", name).catch(() => null);
  await Promise.race([push, new Promise((r) => timer = setTimeout(r, FIRST_PUSH_WAIT_MS))]);
  clearTimeout(timer);
}

/** Events logged per report; the rest are counted (a report may carry a long offline backlog). */
const MAX_EVENTS_LOGGED = 100;

/** Device events go to the log, where operators' log pipelines pick them up. */
function logEvents(ctx: ControlContext, satellite: string, events: StatusEvent[], dropped: number): void {
  for (const event of events.slice(0, MAX_EVENTS_LOGGED)) {
    ctx.log("info", `device event: ${event.kind}`, {
      satellite,
      at: event.at,
      event: event.message,
      data: event.data,
    });
  }
  if (events.length > MAX_EVENTS_LOGGED || dropped > 0) {
    ctx.log("warn", "device events not shown", {
      satellite,
      unlogged: Math.max(0, events.length - MAX_EVENTS_LOGGED),
      droppedOnDevice: dropped,
    });
  }
}

/** The one answer for every token that does not redeem: no hint whether unknown, used or expired. */
const BAD_TOKEN = "registration token is not valid (unknown, already used or expired)";

/**
 * The device routes.
 *
 * @example
 * ```ts
 * declare const ctx: ControlContext;
 * deviceRoutes(ctx);
 * ```
 */
export function deviceRoutes(ctx: ControlContext): ControlApp {
  const app = newRouter();

  app.openapi(ztr, async (c) => {
    const body = c.req.valid("json");
    const tokenHash = hashSecret(body.token);
    enforceRateLimit(ctx, ctx.limits.registration, `token:${tokenHash}`);
    const deviceSecret = randomSecret(32);
    const sat = await ctx.store.redeemToken({
      tokenHash,
      deviceSecretHash: hashSecret(deviceSecret),
      device: body.device ?? null,
      now: ctx.clock(),
    });
    if (!sat) {
      ctx.metrics.ztr.inc({ result: "rejected" });
      throw ApiProblem.unauthorized(BAD_TOKEN, "token");
    }
    ctx.metrics.ztr.inc({ result: "registered" });
    if (!sat.published.digest) await firstStatePushed(ctx, sat.name);
    const credentials = await ctx.credentials.issue(sat);
    ctx.log("info", "satellite registered", { satellite: sat.name, hostname: body.device?.hostname });
    return c.json({
      satellite: { name: sat.name },
      deviceSecret,
      registry: { url: ctx.registryPublicUrl, ...(credentials ? { credentials } : {}) },
      state: {
        reference: stateReference(
          ctx.registryPublicHost,
          ctx.config.registry.namespace,
          "satellite",
          sat.name,
        ),
      },
      stateSigningKey: { alg: "Ed25519" as const, publicKey: ctx.key.publicKeyBase64, keyId: ctx.key.keyId },
    }, 200);
  });

  app.use(status.getRoutingPath(), deviceAuth(ctx));
  app.openapi(status, async (c) => {
    const sat = c.get("satellite");
    const report = c.req.valid("json");
    if (report.satellite !== sat.name) {
      throw new ApiProblem(
        403,
        "wrong_satellite",
        "the report names another satellite than the device secret",
        [{
          path: "satellite",
          message: `this device secret belongs to "${sat.name}"`,
        }],
      );
    }
    const now = ctx.clock();
    const groups = await ctx.store.getGroupSummaries(sat.groups);
    await ctx.seen.record(sat.name, {
      lastSeenAt: now.toISOString(),
      status: {
        reportedAt: report.reportedAt,
        applied: report.applied,
        counts: report.counts,
        lastError: report.lastError,
        diskFree: report.diskFree,
        version: report.versions.satellite,
      },
    });
    ctx.metrics.statusReports.inc();
    ctx.metrics.fleet.record(sat.name, report);
    logEvents(ctx, sat.name, report.events, report.dropped);
    const credentials = await ctx.credentials.rotate(sat, now);
    return c.json({ desired: desiredFor(sat, groups), ...(credentials ? { credentials } : {}) }, 200);
  });

  return app;
}
