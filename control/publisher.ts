/**
 * Publishes group and satellite states as signed OCI artifacts (`state/artifact.ts`) into the
 * central registry, and removes them. Publication is coalesced per name: calls that arrive while a
 * push of that name runs share one follow-up push carrying everything up to then, so a burst of
 * edits costs at most two pushes. Pushes run with bounded concurrency; a failed push is retried in
 * the background with backoff, and names whose record is ahead of their last push are picked up
 * again after a restart ({@linkcode StatePublisher.resumeDirty}).
 *
 * @example
 * ```ts
 * import { StatePublisher } from "./publisher.ts";
 * declare const options: import("./publisher.ts").PublisherOptions;
 * const publisher = new StatePublisher(options);
 * await publisher.publish("group", "stores-eu");
 * await publisher.close();
 * ```
 * @module
 */
import { packState, publishState, stateRepository } from "../state/artifact.ts";
import type { SigningKey } from "../state/keys.ts";
import type { StateEnvelope } from "../schemas/satellite_state.ts";
import type { DeletableImageTarget } from "../oci/types.ts";
import type { ControlStore, PublishRecord, StateKind } from "./store/types.ts";

/** What the publisher needs from a registry (RegistryClient provides it). */
export interface StateRegistry extends DeletableImageTarget {
  headManifest(repository: string, reference: string): Promise<{ digest: string } | null>;
}

/** Options of {@linkcode StatePublisher}. */
export interface PublisherOptions {
  store: ControlStore;
  registry: StateRegistry;
  key: SigningKey;
  namespace: string;
  /** `host[:port]` of the registry as satellites reach it (goes into group references). */
  publicHost: string;
  clock: () => Date;
  concurrency: number;
  log: (level: "info" | "warn" | "error", message: string, fields?: Record<string, unknown>) => void;
  /** First retry delay after a failed push (doubles up to 60 s). Default 1000 ms. */
  retryBaseMs?: number;
}

interface Slot {
  running: Promise<PublishRecord | null>;
  queued: Promise<PublishRecord | null> | null;
}

/**
 * The state reference a satellite follows: `<host>/<ns>/<kind>-state/<name>:latest`.
 *
 * @example
 * ```ts
 * stateReference("127.0.0.1:5000", "satellite", "group", "g"); // "127.0.0.1:5000/satellite/group-state/g:latest"
 * ```
 */
export function stateReference(host: string, namespace: string, kind: StateKind, name: string): string {
  return `${host}/${stateRepository(namespace, kind, name)}:latest`;
}

/**
 * Coalescing, bounded, retrying publisher of state artifacts.
 *
 * @example
 * ```ts
 * declare const publisher: StatePublisher;
 * await publisher.remove("satellite", "shop-001");
 * ```
 */
export class StatePublisher {
  readonly #o: PublisherOptions;
  readonly #slots = new Map<string, Slot>();
  readonly #retries = new Map<string, ReturnType<typeof setTimeout>>();
  /** Consecutive failures per name (reset by a successful push). */
  readonly #failures = new Map<string, number>();
  #active = 0;
  readonly #waiting: (() => void)[] = [];
  #closed = false;
  /** A state repository known to hold the empty config blob (mount source). */
  #mountSource: string | undefined;

  constructor(options: PublisherOptions) {
    this.#o = options;
  }

  /** Pushes the current state of `name` (resolves with the push; null when the record is gone). */
  publish(kind: StateKind, name: string): Promise<PublishRecord | null> {
    const id = `${kind}/${name}`;
    const slot = this.#slots.get(id);
    if (slot) {
      slot.queued ??= slot.running.catch(() => null).then(() => {
        slot.running = slot.queued!;
        slot.queued = null;
        return this.#guarded(kind, name);
      });
      return slot.queued;
    }
    const fresh: Slot = { running: this.#guarded(kind, name), queued: null };
    this.#slots.set(id, fresh);
    const settle = (): void => {
      if (fresh.queued) fresh.queued.finally(settle).catch(() => {});
      else if (this.#slots.get(id) === fresh) this.#slots.delete(id);
    };
    fresh.running.finally(settle).catch(() => {});
    return fresh.running;
  }

  /** Deletes every version of a state artifact (manifests by digest; their tags go with them). */
  async remove(kind: StateKind, name: string): Promise<void> {
    this.#cancelRetry(`${kind}/${name}`);
    await this.#slots.get(`${kind}/${name}`)?.running.catch(() => null);
    const repository = stateRepository(this.#o.namespace, kind, name);
    const tags = await this.#o.registry.listTags(repository);
    const digests = new Set<string>();
    for (const tag of tags) {
      const head = await this.#o.registry.headManifest(repository, tag);
      if (head) digests.add(head.digest);
    }
    for (const digest of digests) await this.#o.registry.deleteManifest(repository, digest);
  }

  /** Queues every name whose record is ahead of its last push (after a restart or failures). */
  async resumeDirty(): Promise<number> {
    let n = 0;
    for (const kind of ["group", "satellite"] as const) {
      for (const name of await this.#o.store.listDirty(kind)) {
        n++;
        this.publish(kind, name).catch(() => {/* retried in the background */});
      }
    }
    return n;
  }

  /** Resolves once nothing is being pushed or queued (retries waiting on a timer do not count). */
  async idle(): Promise<void> {
    while (this.#slots.size > 0) {
      await Promise.allSettled([...this.#slots.values()].flatMap((s) => [s.running, s.queued ?? s.running]));
    }
  }

  /** Names being pushed or queued. */
  get pending(): number {
    return this.#slots.size;
  }

  /** Pushes waiting on a retry timer. */
  get pendingRetries(): number {
    return this.#retries.size;
  }

  /** Stops retries and waits for running pushes. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const id of [...this.#retries.keys()]) this.#cancelRetry(id);
    await this.idle();
  }

  async #guarded(kind: StateKind, name: string): Promise<PublishRecord | null> {
    await this.#acquire();
    try {
      const result = await this.#push(kind, name);
      this.#cancelRetry(`${kind}/${name}`);
      this.#failures.delete(`${kind}/${name}`);
      return result;
    } catch (e) {
      this.#scheduleRetry(kind, name, e);
      throw e;
    } finally {
      this.#release();
    }
  }

  async #push(kind: StateKind, name: string): Promise<PublishRecord | null> {
    const { store, key, namespace, clock } = this.#o;
    const record = kind === "group" ? await store.getGroup(name) : await store.getSatellite(name);
    if (!record) return null;
    if ("revokedAt" in record && record.revokedAt) return null;
    if (record.published.digest && record.published.revision >= record.revision) return record.published;
    const seq = await store.nextSeq(kind, name);
    const issuedAt = clock().toISOString();
    const envelope: StateEnvelope = "revokedAt" in record
      ? {
        kind: "satellite",
        name,
        seq,
        issuedAt,
        state: {
          satellite: name,
          groups: record.groups.map((g) => ({
            name: g,
            reference: stateReference(this.#o.publicHost, namespace, "group", g),
            format: "edge",
          })),
          config: record.config,
        },
      }
      : { kind: "group", name, seq, issuedAt, state: { ...record.state, group: name } };
    const packed = await packState(envelope, key);
    const repository = stateRepository(namespace, kind, name);
    await publishState(this.#o.registry, repository, packed, { mountFrom: this.#mountSource });
    this.#mountSource = repository;
    const push = { seq, digest: packed.manifest.digest, revision: record.revision };
    await store.markPublished(kind, name, push);
    return push;
  }

  #scheduleRetry(kind: StateKind, name: string, error: unknown): void {
    const id = `${kind}/${name}`;
    if (this.#closed) return;
    const attempt = (this.#failures.get(id) ?? 0) + 1;
    this.#failures.set(id, attempt);
    this.#cancelRetry(id);
    const delay = Math.min(60_000, (this.#o.retryBaseMs ?? 1000) * 2 ** (attempt - 1));
    this.#o.log("warn", `publishing ${kind} state ${name} failed; retrying in ${delay} ms`, {
      error: String(error),
      attempt,
    });
    const timer = setTimeout(() => {
      this.#retries.delete(id);
      this.publish(kind, name).catch(() => {/* scheduled again by #guarded */});
    }, delay);
    this.#retries.set(id, timer);
  }

  #cancelRetry(id: string): void {
    const timer = this.#retries.get(id);
    if (timer !== undefined) clearTimeout(timer);
    this.#retries.delete(id);
  }

  async #acquire(): Promise<void> {
    if (this.#active < this.#o.concurrency) {
      this.#active++;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#active--;
  }
}
