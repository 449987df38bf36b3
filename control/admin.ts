/**
 * The first admin token: taken from `GROUND_CONTROL_ADMIN_TOKEN` (config `adminToken`) when set,
 * else generated on the first start and shown once. Only its sha256 is stored.
 *
 * @example
 * ```ts
 * import { ensureAdminToken } from "./admin.ts";
 * import { KvStore } from "./store/kv.ts";
 * const store = await KvStore.open(":memory:");
 * const shown = await ensureAdminToken(store, undefined, new Date());
 * console.log(shown); // a fresh token, printed once
 * await store.close();
 * ```
 * @module
 */
import { hashSecret, randomSecret } from "./secrets.ts";
import type { ControlStore } from "./store/types.ts";

/**
 * Makes sure an admin token exists. Returns a generated token (to show once) or null when the
 * configured token was used or tokens already existed.
 *
 * @example
 * ```ts
 * declare const store: ControlStore;
 * await ensureAdminToken(store, "a-token-from-the-environment", new Date()); // null
 * ```
 */
export async function ensureAdminToken(
  store: ControlStore,
  configured: string | undefined,
  now: Date,
): Promise<string | null> {
  // Only the hash is stored; its first hex digits serve as a non-secret id for logs and listings.
  const add = (token: string, label: string) => {
    const hash = hashSecret(token);
    return store.addAdminToken({ hash, id: hash.slice(7, 19), label, createdAt: now.toISOString() });
  };
  if (configured) {
    if (!(await store.findAdminToken(hashSecret(configured)))) await add(configured, "environment");
    return null;
  }
  if ((await store.countAdminTokens()) > 0) return null;
  const token = randomSecret(32);
  await add(token, "generated");
  return token;
}
