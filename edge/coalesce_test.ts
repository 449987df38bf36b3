import assert from "node:assert/strict";
import { CoalescedRun } from "./coalesce.ts";

Deno.test("CoalescedRun: requests during a run join it and make it run once more; never overlapping", async () => {
  let active = 0, runs = 0, maxActive = 0;
  const gates: PromiseWithResolvers<void>[] = [];
  const job = new CoalescedRun(async () => {
    active++;
    maxActive = Math.max(maxActive, active);
    const gate = Promise.withResolvers<void>();
    gates.push(gate);
    await gate.promise;
    active--;
    return ++runs;
  });
  const first = job.request();
  await Promise.resolve();
  const second = job.request();
  const third = job.request();
  gates[0].resolve();
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(gates.length, 2, "one extra round for two requests");
  gates[1].resolve();
  assert.deepEqual(await Promise.all([first, second, third]), [2, 2, 2]);
  assert.equal(maxActive, 1);
  assert.equal(job.running, undefined);
  const later = job.request();
  gates[2].resolve();
  assert.equal(await later, 3);
});
