import { equal, ok, rejects } from "node:assert/strict";
import {
  backoffDelay,
  DEFAULT_BACKOFF,
  isRefusedStatus,
  isRetryableStatus,
  parseRetryAfter,
  retryDelay,
  sleep,
} from "./retry.ts";

Deno.test("backoff doubles its ceiling per attempt and stays under the cap", () => {
  const policy = { baseDelayMs: 100, maxDelayMs: 1000 };
  equal(backoffDelay(0, policy, () => 0.999), 99);
  equal(backoffDelay(3, policy, () => 0.999), 799);
  equal(backoffDelay(10, policy, () => 0.999), 999);
  equal(backoffDelay(1000, policy, () => 0), 0);
  for (let i = 0; i < 50; i++) ok(backoffDelay(5, DEFAULT_BACKOFF) < DEFAULT_BACKOFF.maxDelayMs);
});

Deno.test("Retry-After accepts seconds and HTTP dates, and is capped by the policy", () => {
  equal(parseRetryAfter("7"), 7000);
  equal(parseRetryAfter(null), undefined);
  equal(parseRetryAfter("soon"), undefined);
  const now = Date.parse("Wed, 21 Oct 2015 07:28:00 GMT");
  equal(parseRetryAfter("Wed, 21 Oct 2015 07:28:05 GMT", now), 5000);
  equal(parseRetryAfter("Wed, 21 Oct 2015 07:27:00 GMT", now), 0);
  equal(retryDelay(0, "3600", { baseDelayMs: 1, maxDelayMs: 2000 }), 2000);
  equal(retryDelay(0, "1", DEFAULT_BACKOFF), 1000);
});

Deno.test("only transient statuses are retried; only refusals make POST safe to repeat", () => {
  for (const s of [408, 429, 500, 502, 503, 504]) ok(isRetryableStatus(s), String(s));
  for (const s of [200, 400, 401, 404, 416, 501]) ok(!isRetryableStatus(s), String(s));
  ok(isRefusedStatus(429) && isRefusedStatus(503) && !isRefusedStatus(500));
});

Deno.test("sleep is abortable and leaves no timer", async () => {
  const controller = new AbortController();
  const pending = sleep(60_000, controller.signal);
  controller.abort(new Error("stop"));
  await rejects(pending, /stop/);
  await sleep(1);
});
