/**
 * Finding the zero-touch registration token on first boot and retiring it after use.
 *
 * Sources, first match wins: the config's `token` (already layered flag > `SATELLITE_TOKEN` > file by
 * {@linkcode loadConfig}), the token files (boot partition first), then `satellite.token=` on the
 * kernel command line. A token the satellite already used, or that Ground Control rejected, is
 * remembered in KV by its hash and skipped, so a read-only boot partition cannot make a device
 * present a dead token forever.
 *
 * @example
 * ```ts
 * import { findToken, parseCmdlineToken } from "./token.ts";
 * parseCmdlineToken("quiet satellite.token=abc root=/dev/sda1"); // "abc"
 * const found = await findToken({ tokenFiles: [], cmdlinePath: "/proc/cmdline", isSpent: async () => false });
 * ```
 * @module
 */
import { sha256Digest } from "../oci/digest.ts";
import { KEYS, type SatelliteDb } from "./db.ts";

/** The default kernel command line path. */
export const DEFAULT_CMDLINE_PATH = "/proc/cmdline";

/** A token and where it came from. */
export interface FoundToken {
  token: string;
  source: "config" | "file" | "cmdline";
  /** The token file, for `source: "file"`. */
  path?: string;
  /** sha256 of the token: what KV remembers (never the token itself). */
  hash: string;
}

/** Where to look. */
export interface FindTokenOptions {
  /** Token from flag, env or config file. */
  configToken?: string;
  tokenFiles: string[];
  cmdlinePath: string;
  /** True when this token hash was used or rejected before. */
  isSpent: (hash: string) => Promise<boolean>;
}

/**
 * Extracts `satellite.token=...` from a kernel command line (quotes allowed).
 *
 * @example
 * ```ts
 * parseCmdlineToken('a "satellite.token=xyz" b'); // "xyz"
 * ```
 */
export function parseCmdlineToken(cmdline: string): string | undefined {
  const match = cmdline.match(/(?:^|\s)"?satellite\.token=([^\s"]+)"?/);
  return match?.[1];
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.PermissionDenied) return undefined;
    if (e instanceof Deno.errors.IsADirectory) return undefined;
    throw e;
  }
}

/**
 * The first usable token, or null when none is available (yet).
 *
 * @example
 * ```ts
 * await findToken({ configToken: "t", tokenFiles: [], cmdlinePath: "/proc/cmdline", isSpent: async () => false });
 * ```
 */
export async function findToken(options: FindTokenOptions): Promise<FoundToken | null> {
  const candidates: Omit<FoundToken, "hash">[] = [];
  if (options.configToken) candidates.push({ token: options.configToken.trim(), source: "config" });
  for (const path of options.tokenFiles) {
    const text = (await readOptional(path))?.trim();
    if (text) candidates.push({ token: text, source: "file", path });
  }
  const fromCmdline = parseCmdlineToken((await readOptional(options.cmdlinePath)) ?? "");
  if (fromCmdline) candidates.push({ token: fromCmdline, source: "cmdline" });
  for (const candidate of candidates) {
    const hash = sha256Digest(candidate.token);
    if (!(await options.isSpent(hash))) return { ...candidate, hash };
  }
  return null;
}

/**
 * True when KV remembers this token hash as used or rejected.
 *
 * @example
 * ```ts
 * declare const db: SatelliteDb;
 * await isTokenSpent(db, "sha256:" + "a".repeat(64));
 * ```
 */
export async function isTokenSpent(db: SatelliteDb, hash: string): Promise<boolean> {
  const [used, rejected] = await db.kv.getMany([KEYS.usedToken(hash), KEYS.rejectedToken(hash)]);
  return used.value !== null || rejected.value !== null;
}

/**
 * Remembers that Ground Control refused a token, so it is not presented again.
 *
 * @example
 * ```ts
 * declare const db: SatelliteDb;
 * declare const found: FoundToken;
 * await rejectToken(db, found);
 * ```
 */
export async function rejectToken(db: SatelliteDb, found: FoundToken): Promise<void> {
  await db.set(KEYS.rejectedToken(found.hash), { at: new Date().toISOString(), source: found.source });
}

/**
 * Retires a used token: remembers it in KV and renames its file to `<file>.used` (falling back to
 * deleting it; a read-only boot partition leaves the file, and KV alone remembers). Returns what
 * happened to the file.
 *
 * @example
 * ```ts
 * declare const db: SatelliteDb;
 * declare const found: FoundToken;
 * await retireToken(db, found); // "renamed" | "deleted" | "kept" | "no-file"
 * ```
 */
export async function retireToken(
  db: SatelliteDb,
  found: FoundToken,
): Promise<"renamed" | "deleted" | "kept" | "no-file"> {
  await db.set(KEYS.usedToken(found.hash), { at: new Date().toISOString(), source: found.source });
  if (found.source !== "file" || !found.path) return "no-file";
  try {
    await Deno.rename(found.path, `${found.path}.used`);
    return "renamed";
  } catch {
    try {
      await Deno.remove(found.path);
      return "deleted";
    } catch {
      return "kept";
    }
  }
}
