/**
 * Bandwidth policy delivered over the air: a default byte-rate cap, calendar windows with their own
 * caps, and sync windows outside which nothing is fetched.
 *
 * @example
 * ```ts
 * import { BandwidthPolicy } from "./bandwidth.ts";
 * BandwidthPolicy.parse({
 *   defaultRate: "20MiB/s",
 *   windows: [{ days: ["mon", "tue", "wed", "thu", "fri"], start: "08:00", end: "18:00", rate: "1MiB/s" }],
 *   timeZone: "Europe/Berlin",
 * });
 * ```
 * @module
 */
import { z } from "zod";

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1000,
  kb: 1000,
  m: 1000 ** 2,
  mb: 1000 ** 2,
  g: 1000 ** 3,
  gb: 1000 ** 3,
  ki: 1024,
  kib: 1024,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
};

/**
 * Parses a byte rate such as `"1MiB/s"`, `"500kB/s"`, `1048576` or `"unlimited"` (0 = unlimited).
 *
 * @example
 * ```ts
 * parseRate("1MiB/s"); // 1048576
 * ```
 */
export function parseRate(value: string | number): number | null {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? Math.floor(value) : null;
  const text = value.trim().toLowerCase();
  if (text === "unlimited" || text === "0") return 0;
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)(?:\/s)?$/.exec(text);
  if (!match) return null;
  const factor = UNITS[match[2]];
  if (factor === undefined) return null;
  return Math.floor(Number(match[1]) * factor);
}

/**
 * A byte rate: a number of bytes per second or a string like `"1MiB/s"`; 0 or `"unlimited"` for none.
 *
 * @example
 * ```ts
 * ByteRate.parse("2MiB/s"); // 2097152
 * ```
 */
export const ByteRate = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const rate = parseRate(value);
  if (rate === null) {
    ctx.addIssue({
      code: "custom",
      message: `"${value}" is not a byte rate: use e.g. 1048576, "1MiB/s", "500kB/s" or "unlimited"`,
    });
    return z.NEVER;
  }
  return rate;
});

/** Day names accepted in windows. */
export const Weekday = z.enum(["sun", "mon", "tue", "wed", "thu", "fri", "sat"]);
/** A day of the week. */
export type Weekday = z.infer<typeof Weekday>;

const ClockTime = z.string().regex(/^([01]\d|2[0-4]):[0-5]\d$/, "must be a time HH:MM (00:00 to 24:00)");

/**
 * A recurring calendar window; `end` before `start` wraps past midnight.
 *
 * @example
 * ```ts
 * TimeWindow.parse({ days: ["sat", "sun"], start: "00:00", end: "24:00" });
 * ```
 */
export const TimeWindow = z.object({
  days: z.array(Weekday).min(1).default(["sun", "mon", "tue", "wed", "thu", "fri", "sat"]).describe(
    "days the window starts on",
  ),
  start: ClockTime.describe("local start time `HH:MM`"),
  end: ClockTime.describe("local end time `HH:MM`; not after `start` = wraps past midnight"),
});
/** A calendar window. */
export type TimeWindow = z.infer<typeof TimeWindow>;

/**
 * A calendar window with its own cap.
 *
 * @example
 * ```ts
 * RateWindow.parse({ days: ["mon"], start: "08:00", end: "18:00", rate: "1MiB/s" });
 * ```
 */
export const RateWindow = TimeWindow.extend({
  rate: ByteRate.describe('the cap inside the window, e.g. `"1MiB/s"`; 0 or `"unlimited"` for none'),
});
/** A window with a cap. */
export type RateWindow = z.infer<typeof RateWindow>;

/**
 * The whole policy. Empty `syncWindows` means fetching is allowed at any time.
 *
 * @example
 * ```ts
 * BandwidthPolicy.parse({});
 * ```
 */
export const BandwidthPolicy = z.object({
  defaultRate: ByteRate.default(0).describe(
    'cap outside every rate window: bytes per second or a string like `"20MiB/s"`, `"500kB/s"`; 0 = unlimited',
  ),
  windows: z.array(RateWindow).default([]).describe(
    "calendar windows with their own cap (the first matching window wins)",
  ),
  syncWindows: z.array(TimeWindow).default([]).describe(
    "when set, image data is fetched only inside these windows (transfers pause outside); empty = any time",
  ),
  timeZone: z.string().default("UTC").describe("IANA time zone the windows are in, e.g. `Europe/Berlin`")
    .refine((tz) => {
      try {
        new Intl.DateTimeFormat("en-US", { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    }, "must be an IANA time zone such as UTC or Europe/Berlin"),
});
/** A bandwidth policy. */
export type BandwidthPolicy = z.infer<typeof BandwidthPolicy>;
