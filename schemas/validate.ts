/**
 * Turning zod failures into errors a person can act on: every issue names its field path.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { parseOrThrow } from "./validate.ts";
 * parseOrThrow(z.object({ port: z.number() }), { port: 1 }, "config file");
 * ```
 * @module
 */
import type { z } from "zod";

/** One problem with one field. */
export interface FieldIssue {
  /** Dotted path to the field, e.g. `artifacts[0].digest`; empty for the whole document. */
  path: string;
  /** What is wrong and, where possible, how to fix it. */
  message: string;
}

/**
 * Thrown when input from outside fails its schema.
 *
 * @example
 * ```ts
 * try { throw new ValidationError("config", [{ path: "port", message: "expected number" }]); }
 * catch (e) { console.log((e as ValidationError).issues[0].path); }
 * ```
 */
export class ValidationError extends Error {
  /** The problems, one per field. */
  readonly issues: FieldIssue[];
  /** What was being parsed (`group state`, `request body`, ...). */
  readonly subject: string;
  constructor(subject: string, issues: FieldIssue[]) {
    super(`invalid ${subject}: ${issues.map((i) => `${i.path || "(root)"}: ${i.message}`).join("; ")}`);
    this.name = "ValidationError";
    this.subject = subject;
    this.issues = issues;
  }
}

/**
 * Formats a zod issue path as `a.b[0].c`.
 *
 * @example
 * ```ts
 * formatPath(["artifacts", 0, "digest"]); // "artifacts[0].digest"
 * ```
 */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

/**
 * Converts a zod error into field issues.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * const r = z.object({ a: z.string() }).safeParse({});
 * if (!r.success) toFieldIssues(r.error); // [{ path: "a", message: ... }]
 * ```
 */
export function toFieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
}

/**
 * Parses `value` with `schema` or throws a {@linkcode ValidationError} naming each bad field.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * const n = parseOrThrow(z.number(), 3, "count");
 * ```
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, subject: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError(subject, toFieldIssues(result.error));
  return result.data;
}

/**
 * Parses JSON text then validates it; malformed JSON becomes a ValidationError too.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * parseJsonOrThrow(z.object({ a: z.number() }), '{"a":1}', "body");
 * ```
 */
export function parseJsonOrThrow<S extends z.ZodType>(schema: S, text: string, subject: string): z.output<S> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ValidationError(subject, [{ path: "", message: `not valid JSON (${(e as Error).message})` }]);
  }
  return parseOrThrow(schema, value, subject);
}
