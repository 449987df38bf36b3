import { deepStrictEqual, equal } from "node:assert/strict";
import { BandwidthPolicy } from "../../schemas/bandwidth.ts";
import { evaluatePolicy, localTime, nextChange, policyForRate } from "./policy.ts";

const MiB = 1024 * 1024;
// 2025-01-06 is a Monday.
const at = (iso: string) => Date.parse(iso);

const officeHours = BandwidthPolicy.parse({
  defaultRate: "20MiB/s",
  windows: [
    { days: ["mon", "tue", "wed", "thu", "fri"], start: "08:00", end: "18:00", rate: "1MiB/s" },
    { days: ["mon", "tue", "wed", "thu", "fri"], start: "07:00", end: "19:00", rate: "2MiB/s" },
    { days: ["fri"], start: "22:00", end: "06:00", rate: "unlimited" },
  ],
  timeZone: "Europe/Berlin",
});

Deno.test("local time honours the time zone and daylight saving", () => {
  deepStrictEqual(localTime("Europe/Berlin", at("2025-01-06T07:30:00Z")), { day: 1, minute: 8 * 60 + 30 });
  deepStrictEqual(localTime("Europe/Berlin", at("2025-07-07T07:30:00Z")), { day: 1, minute: 9 * 60 + 30 });
  deepStrictEqual(localTime("UTC", at("2025-01-05T23:59:00Z")), { day: 0, minute: 1439 });
});

Deno.test("first matching window wins, else the default rate", () => {
  equal(evaluatePolicy(officeHours, at("2025-01-06T08:00:00Z")).rate, 1 * MiB); // 09:00 Berlin
  equal(evaluatePolicy(officeHours, at("2025-01-06T06:30:00Z")).rate, 2 * MiB); // 07:30 Berlin
  equal(evaluatePolicy(officeHours, at("2025-01-06T20:00:00Z")).rate, 20 * MiB); // 21:00 Berlin
  equal(evaluatePolicy(officeHours, at("2025-01-11T08:00:00Z")).rate, 20 * MiB); // Saturday 09:00
});

Deno.test("a window wraps past midnight and belongs to the day it starts on", () => {
  equal(evaluatePolicy(officeHours, at("2025-01-10T21:30:00Z")).rate, 0); // Fri 22:30
  equal(evaluatePolicy(officeHours, at("2025-01-11T04:00:00Z")).rate, 0); // Sat 05:00
  equal(evaluatePolicy(officeHours, at("2025-01-11T05:00:00Z")).rate, 20 * MiB); // Sat 06:00
  equal(evaluatePolicy(officeHours, at("2025-01-07T04:00:00Z")).rate, 20 * MiB); // Tue 05:00: Monday has no night window
});

Deno.test("sync windows gate fetching; none means always", () => {
  const p = BandwidthPolicy.parse({ syncWindows: [{ start: "23:00", end: "05:00" }] });
  equal(evaluatePolicy(p, at("2025-01-06T12:00:00Z")).allowed, false);
  equal(evaluatePolicy(p, at("2025-01-06T23:00:00Z")).allowed, true);
  equal(evaluatePolicy(p, at("2025-01-07T04:59:00Z")).allowed, true);
  equal(evaluatePolicy(p, at("2025-01-07T05:00:00Z")).allowed, false);
  equal(evaluatePolicy(policyForRate(5), 0).allowed, true);
});

Deno.test("nextChange finds the next boundary, across days and time zones", () => {
  equal(nextChange(officeHours, at("2025-01-06T08:00:00Z")), at("2025-01-06T17:00:00Z")); // 18:00 Berlin
  equal(nextChange(officeHours, at("2025-01-06T17:00:00Z")), at("2025-01-06T18:00:00Z")); // 19:00 Berlin
  // Saturday 12:00 Berlin: the next change is Monday 07:00 Berlin.
  equal(nextChange(officeHours, at("2025-01-11T11:00:00Z")), at("2025-01-13T06:00:00Z"));
  // Mid-minute "now" still finds the boundary exactly.
  equal(nextChange(officeHours, at("2025-01-06T16:59:30.500Z")), at("2025-01-06T17:00:00Z"));
  equal(nextChange(policyForRate(100), at("2025-01-06T00:00:00Z")), null);
});

Deno.test("nextChange skips boundaries where the answer stays the same", () => {
  const p = BandwidthPolicy.parse({
    defaultRate: 100,
    windows: [{ start: "10:00", end: "11:00", rate: 100 }, { start: "11:00", end: "12:00", rate: 5 }],
  });
  equal(nextChange(p, at("2025-01-06T09:00:00Z")), at("2025-01-06T11:00:00Z"));
});

Deno.test("nextChange across a daylight-saving jump lands on the first changed minute", () => {
  // 2025-03-30: Berlin jumps from 02:00 to 03:00. A window 02:30-04:00 starts at 03:00 local that day.
  const p = BandwidthPolicy.parse({
    windows: [{ start: "02:30", end: "04:00", rate: 7 }],
    timeZone: "Europe/Berlin",
  });
  equal(nextChange(p, at("2025-03-30T00:00:00Z")), at("2025-03-30T01:00:00Z")); // 03:00 CEST
  equal(evaluatePolicy(p, at("2025-03-30T01:00:00Z")).rate, 7);
});
