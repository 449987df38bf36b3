/**
 * Registry pull credentials handed to satellites. A provider issues them at registration, may
 * rotate them through the status channel, and withdraws them on revocation. The static provider
 * hands every satellite the configured credentials (a plain registry); a Harbor provider (robot
 * accounts scoped to the groups' projects) implements the same interface.
 *
 * @example
 * ```ts
 * import { StaticCredentialsProvider } from "./credentials.ts";
 * const provider = new StaticCredentialsProvider({ username: "puller", password: "s3cret" });
 * await provider.issue({ name: "shop-001", groups: [] }); // { username: "puller", password: "s3cret" }
 * ```
 * @module
 */
import type { RegistryCredentials } from "../schemas/registration.ts";
import type { RotatedCredentials } from "../schemas/status.ts";

/** What a provider knows about the satellite it serves. */
export interface CredentialSubject {
  name: string;
  groups: readonly string[];
}

/** Issues, rotates and withdraws registry pull credentials. */
export interface CredentialsProvider {
  /** Credentials for a satellite that just registered (undefined: the registry needs none). */
  issue(subject: CredentialSubject): Promise<RegistryCredentials | undefined>;
  /** New credentials when the current ones are due to expire at `now` (undefined: keep them). */
  rotate(subject: CredentialSubject, now: Date): Promise<RotatedCredentials | undefined>;
  /** Withdraws whatever was issued to the satellite. */
  revoke(name: string): Promise<void>;
}

/**
 * The same static credentials for every satellite; they never expire, so they never rotate, and
 * revoking one satellite cannot withdraw shared credentials (its device secret and state die instead).
 *
 * @example
 * ```ts
 * await new StaticCredentialsProvider(undefined).issue({ name: "s", groups: [] }); // undefined
 * ```
 */
export class StaticCredentialsProvider implements CredentialsProvider {
  readonly #credentials: { username: string; password: string } | undefined;

  constructor(credentials: { username: string; password: string } | undefined) {
    this.#credentials = credentials;
  }

  issue(_subject: CredentialSubject): Promise<RegistryCredentials | undefined> {
    return Promise.resolve(this.#credentials ? { ...this.#credentials } : undefined);
  }

  rotate(_subject: CredentialSubject, _now: Date): Promise<RotatedCredentials | undefined> {
    return Promise.resolve(undefined);
  }

  revoke(_name: string): Promise<void> {
    return Promise.resolve();
  }
}
