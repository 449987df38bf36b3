/**
 * The response of a registry token server (the Docker/distribution "token authentication" flow
 * that Harbor and Docker Hub use): a bearer token under `token` or the OAuth2 name `access_token`.
 *
 * @example
 * ```ts
 * import { TokenResponse } from "./registry_token.ts";
 * TokenResponse.parse({ token: "abc", expires_in: 300 }).token; // "abc"
 * ```
 * @module
 */
import { z } from "zod";

/**
 * A token server's JSON answer, normalised: `token` is always set (from `token` or `access_token`),
 * `expires_in` defaults to the spec's 60 seconds.
 *
 * @example
 * ```ts
 * TokenResponse.parse({ access_token: "t" }); // { token: "t", expires_in: 60, issued_at: undefined }
 * ```
 */
export const TokenResponse = z.object({
  token: z.string().min(1).optional(),
  access_token: z.string().min(1).optional(),
  expires_in: z.number().int().positive().optional(),
  issued_at: z.string().optional(),
}).refine((t) => t.token !== undefined || t.access_token !== undefined, {
  message: "token server answered without `token` or `access_token`",
  path: ["token"],
}).transform((t) => ({
  token: (t.token ?? t.access_token) as string,
  expires_in: t.expires_in ?? 60,
  issued_at: t.issued_at,
}));
/** A normalised token response. */
export type TokenResponse = z.output<typeof TokenResponse>;
