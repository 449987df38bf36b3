/**
 * Every error Ground Control answers is JSON in one shape,
 * `{ error: { code, message, issues: [{ path, message }] } }`, so a client (or a person) learns
 * which field is wrong and why. Handlers throw {@linkcode ApiProblem}; {@linkcode onApiError} maps
 * it and everything else (malformed JSON, validation, registry failures) to a response. Bad input
 * never becomes a 500.
 *
 * @example
 * ```ts
 * import { ApiProblem } from "./errors.ts";
 * throw ApiProblem.notFound("group", "stores-eu");
 * ```
 * @module
 */
import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";
import type { ApiError } from "../../schemas/control.ts";
import { type FieldIssue, toFieldIssues, ValidationError } from "../../schemas/validate.ts";
import { OciError } from "../../oci/errors.ts";

/**
 * An error with an HTTP status, a machine code and field issues.
 *
 * @example
 * ```ts
 * new ApiProblem(409, "conflict", "satellite shop-001 exists", [{ path: "name", message: "taken" }]);
 * ```
 */
export class ApiProblem extends Error {
  readonly status: ContentfulStatusCode;
  readonly code: string;
  readonly issues: FieldIssue[];
  readonly headers: Record<string, string>;
  constructor(
    status: ContentfulStatusCode,
    code: string,
    message: string,
    issues: FieldIssue[] = [],
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ApiProblem";
    this.status = status;
    this.code = code;
    this.issues = issues;
    this.headers = headers;
  }

  /** 404 for a named thing. */
  static notFound(what: string, name: string, path = "name"): ApiProblem {
    return new ApiProblem(404, "not_found", `${what} "${name}" does not exist`, [{
      path,
      message: `no ${what} named "${name}"`,
    }]);
  }

  /** 401 with one fixed body per credential kind (no hint why). */
  static unauthorized(message: string, path = "authorization"): ApiProblem {
    return new ApiProblem(401, "unauthorized", message, [{ path, message }], {
      "www-authenticate": 'Bearer realm="ground-control"',
    });
  }
}

/**
 * The JSON body for a problem.
 *
 * @example
 * ```ts
 * problemBody("not_found", "no such group", []).error.code; // "not_found"
 * ```
 */
export function problemBody(code: string, message: string, issues: FieldIssue[]): ApiError {
  return { error: { code, message, issues } };
}

function respond(c: Context, problem: ApiProblem): Response {
  for (const [k, v] of Object.entries(problem.headers)) c.header(k, v);
  return c.json(problemBody(problem.code, problem.message, problem.issues), problem.status);
}

/**
 * Hono `onError`: known errors become their 4xx/502; anything else is logged and a 500.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * new Hono().onError(onApiError((e) => console.error(e)));
 * ```
 */
export function onApiError(log: (error: unknown, c: Context) => void): ErrorHandler {
  return (error, c) => {
    if (error instanceof ApiProblem) return respond(c, error);
    if (error instanceof ValidationError) {
      return respond(c, new ApiProblem(400, "invalid_request", error.message, error.issues));
    }
    if (error instanceof HTTPException) {
      const status = error.status as ContentfulStatusCode;
      const code = status === 413 ? "body_too_large" : status === 400 ? "malformed_json" : "http_error";
      const message = status === 400 ? "request body is not valid JSON" : error.message || `HTTP ${status}`;
      return respond(c, new ApiProblem(status, code, message, [{ path: "", message }]));
    }
    if (error instanceof OciError) {
      log(error, c);
      return respond(
        c,
        new ApiProblem(502, "registry_error", `the central registry failed: ${error.message}`),
      );
    }
    log(error, c);
    return respond(c, new ApiProblem(500, "internal", "internal error; see the server log"));
  };
}

/**
 * Hono `notFound`: a JSON 404 naming the path.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * new Hono().notFound(onNotFound);
 * ```
 */
export const onNotFound: NotFoundHandler = (c) =>
  respond(
    c,
    new ApiProblem(404, "no_route", `no route for ${c.req.method} ${c.req.path}`, [{
      path: "",
      message: "see /openapi.json for the routes",
    }]),
  );

const TARGET_PREFIX: Record<string, string> = { param: "path.", query: "query.", header: "header." };

/**
 * The zod-openapi validation hook: a failed parse becomes a 400 whose issues name each field
 * (`name`, `artifacts[0].digest`; path and query parameters prefixed `path.` / `query.`).
 *
 * @example
 * ```ts
 * import { OpenAPIHono } from "@hono/zod-openapi";
 * new OpenAPIHono({ defaultHook: validationHook });
 * ```
 */
export function validationHook(
  result: { success: true; data: unknown; target: string } | {
    success: false;
    error: z.ZodError;
    target: string;
  },
  c: Context,
): Response | undefined {
  if (result.success) return undefined;
  const prefix = TARGET_PREFIX[result.target] ?? "";
  const issues = toFieldIssues(result.error).map((i) => ({ path: prefix + i.path, message: i.message }));
  const where = result.target === "json" ? "request body" : `${result.target} parameters`;
  return respond(
    c,
    new ApiProblem(
      400,
      "invalid_request",
      `invalid ${where}: ${issues.map((i) => i.path || "(root)").join(", ")}`,
      issues,
    ),
  );
}
