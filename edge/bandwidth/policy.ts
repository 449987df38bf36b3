/**
 * Evaluating a {@linkcode BandwidthPolicy} at an instant: the byte-rate cap in force, whether fetching
 * is allowed at all, and when that answer next changes (so a limiter can sleep exactly until then).
 *
 * Windows are local wall-clock times in the policy's time zone (resolved with `Intl`, so daylight
 * saving is honoured). A window whose `end` is not after its `start` wraps past midnight and belongs
 * to the day it starts on: `fri 22:00-06:00` covers Friday night into Saturday morning.
 *
 * @example
 * ```ts
 * import { BandwidthPolicy } from "../../schemas/bandwidth.ts";
 * import { evaluatePolicy, nextChange } from "./policy.ts";
 * const policy = BandwidthPolicy.parse({
 *   windows: [{ days: ["mon"], start: "08:00", end: "18:00", rate: "1MiB/s" }],
 * });
 * const monday9 = Date.parse("2025-01-06T09:00:00Z");
 * evaluatePolicy(policy, monday9); // { rate: 1048576, allowed: true }
 * nextChange(policy, monday9); // Date.parse("2025-01-06T18:00:00Z")
 * ```
 * @module
 */
import type { BandwidthPolicy, TimeWindow } from "../../schemas/bandwidth.ts";

/** What a policy says at one instant. */
export interface PolicyState {
  /** Bytes per second; 0 = unlimited. */
  rate: number;
  /** False outside every sync window: nothing may be fetched. */
  allowed: boolean;
}

const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
const MINUTE = 60_000;
const DAY_MINUTES = 1440;
/** How far ahead {@linkcode nextChange} looks: a week plus a day covers every weekly pattern. */
const HORIZON_MS = 8 * DAY_MINUTES * MINUTE;

/**
 * A policy that caps at `rate` bytes per second around the clock (0 = unlimited).
 *
 * @example
 * ```ts
 * policyForRate(1024 * 1024).defaultRate; // 1048576
 * ```
 */
export function policyForRate(rate: number): BandwidthPolicy {
  return { defaultRate: rate, windows: [], syncWindows: [], timeZone: "UTC" };
}

/** Wall-clock position in a time zone. */
export interface LocalTime {
  /** 0 = Sunday. */
  day: number;
  /** Minutes since local midnight, 0..1439. */
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/**
 * The local weekday and minute of day of `time` in `timeZone`.
 *
 * @example
 * ```ts
 * localTime("Europe/Berlin", Date.parse("2025-01-06T07:30:00Z")); // { day: 1, minute: 510 }
 * ```
 */
export function localTime(timeZone: string, time: number): LocalTime {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      weekday: "short",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    formatters.set(timeZone, format);
  }
  let day = 0, hour = 0, minute = 0;
  for (const part of format.formatToParts(time)) {
    if (part.type === "weekday") {
      day = DAYS.indexOf(part.value.toLowerCase().slice(0, 3) as typeof DAYS[number]);
    } else if (part.type === "hour") hour = Number(part.value) % 24;
    else if (part.type === "minute") minute = Number(part.value);
  }
  return { day, minute: hour * 60 + minute };
}

function clockMinutes(hhmm: string): number {
  const [h, m] = hhmm.split(":").map(Number);
  return h * 60 + m;
}

/**
 * Whether a window covers a local time. `end <= start` wraps past midnight (equal = a full day).
 *
 * @example
 * ```ts
 * windowContains({ days: ["fri"], start: "22:00", end: "06:00" }, { day: 6, minute: 60 }); // true
 * ```
 */
export function windowContains(window: TimeWindow, local: LocalTime): boolean {
  const start = clockMinutes(window.start);
  const end = clockMinutes(window.end);
  const today = window.days.includes(DAYS[local.day]);
  if (start < end) return today && local.minute >= start && local.minute < end;
  const yesterday = window.days.includes(DAYS[(local.day + 6) % 7]);
  // Wrapping window: the evening part belongs to today, the early-morning part to yesterday's window.
  return (today && local.minute >= start) || (yesterday && local.minute < end % DAY_MINUTES);
}

/**
 * The cap and sync permission in force at `time`: the first matching rate window wins, else
 * `defaultRate`; empty `syncWindows` means fetching is always allowed.
 *
 * @example
 * ```ts
 * import { BandwidthPolicy } from "../../schemas/bandwidth.ts";
 * evaluatePolicy(BandwidthPolicy.parse({ defaultRate: "2MiB/s" }), Date.now()); // { rate: 2097152, allowed: true }
 * ```
 */
export function evaluatePolicy(policy: BandwidthPolicy, time: number): PolicyState {
  const local = localTime(policy.timeZone, time);
  const window = policy.windows.find((w) => windowContains(w, local));
  const allowed = policy.syncWindows.length === 0 || policy.syncWindows.some((w) => windowContains(w, local));
  return { rate: window ? window.rate : policy.defaultRate, allowed };
}

function sameState(a: PolicyState, b: PolicyState): boolean {
  return a.rate === b.rate && a.allowed === b.allowed;
}

/** Minutes of day at which some window starts or ends (plus midnight, where day lists apply). */
function boundaryMinutes(policy: BandwidthPolicy): number[] {
  const set = new Set<number>([0]);
  for (const w of [...policy.windows, ...policy.syncWindows]) {
    set.add(clockMinutes(w.start) % DAY_MINUTES);
    set.add(clockMinutes(w.end) % DAY_MINUTES);
  }
  return [...set].sort((a, b) => a - b);
}

/**
 * The first instant after `now` at which {@linkcode evaluatePolicy} gives a different answer, or
 * `null` when it never changes (within a week). Resolution is one minute, as windows are HH:MM.
 *
 * @example
 * ```ts
 * import { BandwidthPolicy } from "../../schemas/bandwidth.ts";
 * const p = BandwidthPolicy.parse({ syncWindows: [{ start: "01:00", end: "05:00" }] });
 * nextChange(p, Date.parse("2025-01-06T00:00:00Z")); // Date.parse("2025-01-06T01:00:00Z")
 * ```
 */
export function nextChange(policy: BandwidthPolicy, now: number): number | null {
  const current = evaluatePolicy(policy, now);
  const boundaries = boundaryMinutes(policy);
  const differs = (t: number) => !sameState(evaluatePolicy(policy, t), current);
  let known = Math.floor(now / MINUTE) * MINUTE; // same local minute as `now`, so same answer
  // Each step jumps to the next boundary minute in local time; the loop bound covers 8 days of them.
  for (let step = 0; step < 8 * (boundaries.length + 1) + 4; step++) {
    const local = localTime(policy.timeZone, known);
    const next = boundaries.find((b) => b > local.minute) ?? boundaries[0] + DAY_MINUTES;
    const candidate = known + (next - local.minute) * MINUTE;
    if (candidate - now > HORIZON_MS) return null;
    if (differs(candidate)) return firstDifferingMinute(known, candidate, differs);
    known = candidate;
  }
  return null;
}

/**
 * Binary search (minute resolution) between an instant with the current answer and one without.
 * Without a daylight-saving shift in between, `hi` already is the answer.
 */
function firstDifferingMinute(lo: number, hi: number, differs: (t: number) => boolean): number {
  while (hi - lo > MINUTE) {
    const mid = lo + Math.floor((hi - lo) / 2 / MINUTE) * MINUTE;
    if (differs(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}
