import { TokenBuckets } from "./rate_limit.ts";

Deno.test("a bucket allows its burst, then refills at its rate", () => {
  const b = new TokenBuckets({ ratePerSecond: 2, burst: 3 });
  const first = [0, 0, 0, 0].map(() => b.take("a", 1000).allowed);
  if (first.join() !== "true,true,true,false") throw new Error(`burst: ${first}`);
  if (b.take("a", 1000).retryAfterSeconds !== 1) throw new Error("retry-after");
  if (!b.take("a", 1500).allowed) throw new Error("no refill after 0.5 s at 2/s");
  if (b.take("a", 1500).allowed) throw new Error("refilled too much");
});

Deno.test("buckets are per key: one exhausted credential does not throttle another", () => {
  const b = new TokenBuckets({ ratePerSecond: 1, burst: 1 });
  b.take("sat:a", 0);
  if (b.take("sat:a", 0).allowed) throw new Error("a not limited");
  if (!b.take("sat:b", 0).allowed) throw new Error("b limited by a");
});
