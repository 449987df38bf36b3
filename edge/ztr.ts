/**
 * Zero-touch registration: on first boot, exchange the registration token at Ground Control
 * (`POST <gc>/ztr`) for the device's identity, keep it in KV, retire the token. Retried with
 * jittered exponential backoff until it succeeds; a `401` means the token is dead, so the satellite
 * remembers that and waits for a new token instead of hammering Ground Control. A device that has an
 * identity never registers again.
 *
 * @example
 * ```ts
 * import { ensureRegistered } from "./ztr.ts";
 * declare const db: import("./db.ts").SatelliteDb;
 * declare const config: import("../schemas/satellite_config.ts").SatelliteConfig;
 * const identity = await ensureRegistered({ db, config, cmdlinePath: "/proc/cmdline" });
 * ```
 * @module
 */
import { z } from "zod";
import { type DeviceInfo, RegistrationToken, ZtrResponse } from "../schemas/registration.ts";
import type { SatelliteConfig } from "../schemas/satellite_config.ts";
import { parseJsonOrThrow } from "../schemas/validate.ts";
import { backoffDelay, type BackoffPolicy, sleep } from "../oci/retry.ts";
import { KEYS, type SatelliteDb } from "./db.ts";
import { EventLog } from "./events.ts";
import { findToken, isTokenSpent, rejectToken, retireToken } from "./token.ts";
import { SATELLITE_VERSION } from "./version.ts";
import { redact } from "../telemetry/log.ts";

/** What KV keeps about this device: the registration answer plus when it happened. */
export const Identity = ZtrResponse.extend({ registeredAt: z.iso.datetime({ offset: true }) });
/** The device identity. */
export type Identity = z.infer<typeof Identity>;

/**
 * Reads the stored identity (null before first registration).
 *
 * @example
 * ```ts
 * declare const db: SatelliteDb;
 * const identity = await loadIdentity(db);
 * ```
 */
export function loadIdentity(db: SatelliteDb): Promise<Identity | null> {
  return db.get(KEYS.identity, Identity);
}

/**
 * Stores the identity (also used when credentials rotate).
 *
 * @example
 * ```ts
 * declare const db: SatelliteDb;
 * declare const identity: Identity;
 * await saveIdentity(db, identity);
 * ```
 */
export async function saveIdentity(db: SatelliteDb, identity: Identity): Promise<void> {
  await db.set(KEYS.identity, Identity.parse(identity));
}

/**
 * Ground Control said the token is unknown, used or expired.
 *
 * @example
 * ```ts
 * new TokenRejectedError().name; // "TokenRejectedError"
 * ```
 */
export class TokenRejectedError extends Error {
  constructor() {
    super("Ground Control rejected the registration token (401): it is unknown, used or expired");
    this.name = "TokenRejectedError";
  }
}

/**
 * What the device says about itself.
 *
 * @example
 * ```ts
 * await deviceInfo();
 * ```
 */
export async function deviceInfo(): Promise<DeviceInfo> {
  let machineId: string | undefined;
  try {
    machineId = (await Deno.readTextFile("/etc/machine-id")).trim() || undefined;
  } catch { /* not every system has one */ }
  let hostname: string | undefined;
  try {
    hostname = Deno.hostname();
  } catch { /* sandboxed */ }
  return { hostname, machineId, arch: Deno.build.arch, os: Deno.build.os, version: SATELLITE_VERSION };
}

/**
 * One registration attempt. Throws {@linkcode TokenRejectedError} on 401 and a plain Error for
 * anything worth retrying (network, 5xx, a malformed answer).
 *
 * @example
 * ```ts
 * const answer = await exchangeToken("https://gc.example.com", { token: "t".repeat(43) });
 * ```
 */
export async function exchangeToken(
  groundControlUrl: string,
  request: { token: string; device?: DeviceInfo },
  options: { fetch?: typeof fetch; signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<ZtrResponse> {
  const doFetch = options.fetch ?? fetch;
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 30_000);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const res = await doFetch(new URL("/ztr", groundControlUrl), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(request),
    signal,
  });
  const text = await res.text();
  if (res.status === 401) throw new TokenRejectedError();
  if (!res.ok) throw new Error(`Ground Control answered ${res.status} to POST /ztr: ${text.slice(0, 300)}`);
  return parseJsonOrThrow(ZtrResponse, text, "registration answer from Ground Control");
}

/** Options for {@linkcode ensureRegistered}. */
export interface EnsureRegisteredOptions {
  db: SatelliteDb;
  config: SatelliteConfig;
  /** Kernel command line (injectable for tests). */
  cmdlinePath: string;
  events?: EventLog;
  fetch?: typeof fetch;
  signal?: AbortSignal;
  /** Backoff between failed attempts (default 1 s doubling to 5 min). */
  retry?: BackoffPolicy;
  /** How often to look for a (new) token while none is usable (default 10 s). */
  tokenWaitMs?: number;
  /**
   * Give up instead of waiting (one-shot commands): with no usable token or a rejected one throw
   * {@linkcode NotRegisteredError}; after this many failed exchanges throw the last error.
   */
  attempts?: number;
}

/**
 * The device is not registered and cannot register now (no token, or the token was refused).
 *
 * @example
 * ```ts
 * throw new NotRegisteredError("no registration token");
 * ```
 */
export class NotRegisteredError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NotRegisteredError";
  }
}

/**
 * Returns the stored identity, or registers (retrying until it works) and stores it.
 *
 * @example
 * ```ts
 * declare const options: EnsureRegisteredOptions;
 * const identity = await ensureRegistered(options);
 * identity.satellite.name;
 * ```
 */
export async function ensureRegistered(options: EnsureRegisteredOptions): Promise<Identity> {
  const { db, config } = options;
  const events = options.events ?? new EventLog();
  const retry = options.retry ?? { baseDelayMs: 1_000, maxDelayMs: 300_000 };
  const tokenWaitMs = options.tokenWaitMs ?? 10_000;
  const existing = await loadIdentity(db);
  if (existing) return existing;
  let attempt = 0;
  let waitingSaid = false;
  for (;;) {
    options.signal?.throwIfAborted();
    const found = await findToken({
      configToken: config.token,
      tokenFiles: config.tokenFiles,
      cmdlinePath: options.cmdlinePath,
      isSpent: (hash) => isTokenSpent(db, hash),
    });
    if (!found || !config.groundControlUrl) {
      if (!waitingSaid) {
        events.emit(
          "warn",
          "ztr.waiting",
          !config.groundControlUrl
            ? "not registered and no groundControlUrl configured: set it in the config file or SATELLITE_GROUND_CONTROL_URL"
            : `not registered and no unused registration token: provide one with --token, SATELLITE_TOKEN, ` +
              `the config file, ${
                config.tokenFiles.join(" or ")
              }, or satellite.token= on the kernel command line`,
        );
        waitingSaid = true;
      }
      if (options.attempts !== undefined) {
        throw new NotRegisteredError(
          !config.groundControlUrl ? "no groundControlUrl configured" : "no unused registration token found",
        );
      }
      await sleep(tokenWaitMs, options.signal);
      continue;
    }
    waitingSaid = false;
    redact.add(found.token);
    if (!RegistrationToken.safeParse(found.token).success) {
      await rejectToken(db, found);
      events.emit(
        "error",
        "ztr.token-invalid",
        `the registration token from ${found.path ?? found.source} is malformed`,
      );
      if (options.attempts !== undefined) throw new NotRegisteredError("the registration token is malformed");
      continue;
    }
    try {
      const answer = await exchangeToken(
        config.groundControlUrl,
        { token: found.token, device: await deviceInfo() },
        { fetch: options.fetch, signal: options.signal },
      );
      const identity: Identity = { ...answer, registeredAt: new Date().toISOString() };
      await saveIdentity(db, identity);
      const file = await retireToken(db, found);
      events.emit("info", "ztr.registered", `registered as ${identity.satellite.name}`, {
        satellite: identity.satellite.name,
        tokenSource: found.source,
        tokenFile: file,
      });
      return identity;
    } catch (e) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (e instanceof TokenRejectedError) {
        await rejectToken(db, found);
        events.emit(
          "error",
          "ztr.token-rejected",
          `${e.message}; token from ${
            found.path ?? found.source
          } will not be tried again, waiting for a new token`,
        );
        if (options.attempts !== undefined) throw new NotRegisteredError(e.message);
        attempt = 0;
        continue;
      }
      if (options.attempts !== undefined && attempt + 1 >= options.attempts) throw e;
      const delay = backoffDelay(attempt++, retry);
      events.emit(
        "warn",
        "ztr.retry",
        `registration failed, retrying in ${delay} ms: ${(e as Error).message}`,
        {
          attempt,
        },
      );
      await sleep(delay, options.signal);
    }
  }
}
