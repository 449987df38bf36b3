import { equal } from "node:assert/strict";
import { nextLink } from "./pagination.ts";

Deno.test("nextLink finds rel=next among several links and parameters", () => {
  equal(nextLink('</v2/_catalog?last=b&n=2>; rel="next"'), "/v2/_catalog?last=b&n=2");
  equal(nextLink("<https://r/v2/a/tags/list?n=1&last=x>;rel=next"), "https://r/v2/a/tags/list?n=1&last=x");
  equal(nextLink('</prev>; rel="prev", </next?a=1>; title="x"; rel="next"'), "/next?a=1");
  equal(nextLink('</a>; rel="prev nextish"'), undefined);
  equal(nextLink('</a>; rel="first next"'), "/a");
  equal(nextLink(null), undefined);
  equal(nextLink("garbage"), undefined);
});
