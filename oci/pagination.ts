/**
 * Listings that span pages (`/tags/list`, `/_catalog`): follows `Link: <...>; rel="next"` headers,
 * validating every page with its schema, with bounds on page count and page size.
 *
 * @example
 * ```ts
 * import { nextLink } from "./pagination.ts";
 * nextLink('</v2/_catalog?last=b&n=2>; rel="next"'); // "/v2/_catalog?last=b&n=2"
 * ```
 * @module
 */
import type { z } from "zod";
import { parseJsonOrThrow } from "../schemas/validate.ts";
import { OciError } from "./errors.ts";
import { expectStatus, readBody, type RegistryHttp } from "./http.ts";

/** Cap for one JSON page. */
const MAX_PAGE_BYTES = 16 * 1024 * 1024;
/** Bound on followed pages. */
const MAX_PAGES = 10_000;

/**
 * The `rel="next"` target of a `Link` header, if any.
 *
 * @example
 * ```ts
 * nextLink('<https://r/v2/a/tags/list?n=1&last=x>; rel="next"'); // "https://r/v2/a/tags/list?n=1&last=x"
 * ```
 */
export function nextLink(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const match of header.matchAll(/<([^>]*)>\s*((?:;\s*[^;,]+)*)/g)) {
    if (/;\s*rel\s*=\s*"?(?:[^";]*\s)?next(?:\s[^";]*)?"?\s*(?:;|$)/i.test(match[2])) return match[1];
  }
  return undefined;
}

/**
 * Fetches `first` and (unless `onePage`) every following page. Returns null when the first page
 * is a 404 (the repository does not exist).
 *
 * @example
 * ```ts
 * import { TagList } from "../schemas/oci.ts";
 * declare const http: RegistryHttp;
 * const pages = await fetchPages(http, new URL("http://r/v2/a/tags/list"), ["repository:a:pull"], { schema: TagList, subject: "tags" });
 * ```
 */
export async function fetchPages<S extends z.ZodType>(
  http: RegistryHttp,
  first: URL,
  scopes: string[],
  options: { schema: S; subject: string; onePage?: boolean },
): Promise<z.output<S>[] | null> {
  const pages: z.output<S>[] = [];
  let url: URL | undefined = first;
  for (let page = 0; url && page < MAX_PAGES; page++) {
    const res = await http.request({ method: "GET", url, scopes });
    if (res.status === 404 && page === 0) {
      await res.body?.cancel();
      return null;
    }
    await expectStatus(res, `GET ${url.origin}${url.pathname}`, [200]);
    const bytes = await readBody(
      res,
      MAX_PAGE_BYTES,
      (n) => new OciError("SIZE_INVALID", `${options.subject}: a page over ${n} bytes`),
    );
    pages.push(parseJsonOrThrow(options.schema, new TextDecoder().decode(bytes), options.subject));
    if (options.onePage) break;
    const next = nextLink(res.headers.get("link"));
    url = next ? new URL(next, res.url) : undefined;
  }
  return pages;
}
