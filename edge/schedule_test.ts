import assert from "node:assert/strict";
import { cronProblem, nextPollDelay, PollLoop } from "./schedule.ts";

Deno.test("nextPollDelay: interval from the last start plus jitter; cron via croner", () => {
  assert.equal(nextPollDelay({ intervalSeconds: 30, jitterSeconds: 0 }, 1_000, 11_000), 20_000);
  assert.equal(nextPollDelay({ intervalSeconds: 30, jitterSeconds: 10 }, 0, 0, () => 0.5), 35_000);
  const now = Date.parse("2025-01-06T08:00:10Z");
  assert.equal(nextPollDelay({ cron: "* * * * *", intervalSeconds: 30, jitterSeconds: 0 }, now, now), 50_000);
  assert.ok(cronProblem("not a cron"));
  assert.equal(cronProblem("*/5 * * * *"), undefined);
});

Deno.test("PollLoop: polls at once, then on schedule; a new schedule applies live; never overlaps", async () => {
  let running = 0, overlap = false;
  const starts: number[] = [];
  const loop = new PollLoop(async () => {
    overlap ||= running > 0;
    running++;
    starts.push(Date.now());
    await new Promise((r) => setTimeout(r, 20));
    running--;
  }, { intervalSeconds: 3600, jitterSeconds: 0 });
  loop.start();
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(starts.length, 1, "first poll at once, next one an hour away");
  loop.setSchedule({ intervalSeconds: 1, jitterSeconds: 0 });
  await new Promise((r) => setTimeout(r, 1_300));
  assert.ok(starts.length >= 2, "the shorter interval applied without a restart");
  loop.trigger();
  await new Promise((r) => setTimeout(r, 100));
  await loop.stop();
  assert.ok(starts.length >= 3);
  assert.equal(overlap, false);
});
