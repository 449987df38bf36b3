/**
 * Pieces shared by the route modules: JSON bodies and error responses for the OpenAPI description,
 * path parameters, and the app type.
 *
 * @example
 * ```ts
 * import { errors, jsonBody, jsonContent } from "./common.ts";
 * import { PutGroupRequest, GroupView } from "../../schemas/control.ts";
 * const request = { body: jsonBody(PutGroupRequest) };
 * const responses = { 200: jsonContent(GroupView, "the stored group"), ...errors(400, 401, 422) };
 * ```
 * @module
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import { ApiError, SatelliteName } from "../../schemas/control.ts";
import { GroupName } from "../../schemas/group_state.ts";
import type { ControlEnv } from "../http/auth.ts";
import { validationHook } from "../http/errors.ts";

/** Ground Control's router type. */
export type ControlApp = OpenAPIHono<ControlEnv>;

/**
 * A router whose validation failures become field-naming 400s.
 *
 * @example
 * ```ts
 * const app = newRouter();
 * ```
 */
export function newRouter(): ControlApp {
  return new OpenAPIHono<ControlEnv>({ defaultHook: validationHook });
}

/**
 * A required JSON request body.
 *
 * @example
 * ```ts
 * jsonBody(z.object({ a: z.string() }));
 * ```
 */
export function jsonBody<S extends z.ZodType>(schema: S) {
  return { content: { "application/json": { schema } }, required: true } as const;
}

/**
 * A JSON response.
 *
 * @example
 * ```ts
 * jsonContent(z.object({ ok: z.boolean() }), "fine");
 * ```
 */
export function jsonContent<S extends z.ZodType>(schema: S, description: string) {
  return { content: { "application/json": { schema } }, description } as const;
}

const ERROR_TEXT: Record<number, string> = {
  400: "invalid input: the issues name each field",
  401: "missing or invalid credential",
  403: "the credential may not do this",
  404: "no such thing",
  409: "conflicts with the current state",
  413: "request body too large",
  422: "refers to something that does not exist",
  429: "rate limited per credential; see Retry-After",
  502: "the central registry failed",
};

/**
 * Error responses for the OpenAPI description.
 *
 * @example
 * ```ts
 * errors(400, 404);
 * ```
 */
export function errors(...codes: number[]) {
  return Object.fromEntries(codes.map((code) => [code, jsonContent(ApiError, ERROR_TEXT[code] ?? "error")]));
}

/** `{name}` path parameter of a group. */
export const GroupParams = z.object({ name: GroupName });
/** `{name}` path parameter of a satellite. */
export const SatelliteParams = z.object({ name: SatelliteName });
/** Admin bearer security requirement. */
export const ADMIN_SECURITY = [{ adminToken: [] }];
/** Device secret security requirement. */
export const DEVICE_SECURITY = [{ deviceSecret: [] }];
