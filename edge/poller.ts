/**
 * Polling the satellite's state from the central registry. A steady-state poll is one `HEAD` for the
 * satellite state plus one per group state; a body is fetched only when a digest changed. Every new
 * state is verified ({@linkcode openState}: signature, key, kind, name, sequence) or, for groups in the
 * upstream Harbor format, parsed with {@linkcode openHarborGroupState}. Refused or unreachable state
 * leaves the previous state in force; a refused digest is remembered so it is not fetched again.
 *
 * @example
 * ```ts
 * import { StatePoller } from "./poller.ts";
 * declare const options: import("./poller.ts").StatePollerOptions;
 * const poller = new StatePoller(options);
 * await poller.init();
 * const outcome = await poller.poll();
 * outcome.changed;
 * ```
 * @module
 */
import type { GroupRef } from "../schemas/satellite_state.ts";
import { readVerifiedBlob } from "../state/artifact.ts";
import { openState, StateRefusedError } from "../state/artifact.ts";
import { openHarborGroupState } from "../state/harbor.ts";
import { parseReference } from "../oci/reference.ts";
import type { ImageSource } from "../oci/types.ts";
import type { AppliedGroup, AppliedSatelliteRecord, AppliedStore } from "./applied.ts";
import type { EventLog } from "./events.ts";

/** A registry that can answer `HEAD` for manifests (the central registry client). */
export interface StateRegistry extends ImageSource {
  headManifest(
    repository: string,
    reference: string,
    signal?: AbortSignal,
  ): Promise<{ digest: string; mediaType: string; size: number } | null>;
}

/** A refused state. */
export interface Refusal {
  kind: "satellite" | "group";
  name: string;
  digest: string;
  reason: string;
  message: string;
}

/** What one poll found. */
export interface PollOutcome {
  /** True when a new satellite or group state was accepted (or a group left). */
  changed: boolean;
  satellite: AppliedSatelliteRecord | null;
  /** Group states in force, by name. */
  groups: Map<string, AppliedGroup>;
  /** True when every group the satellite state names has a state in force (safe to remove). */
  complete: boolean;
  refused: Refusal[];
  /** Requests sent to the registry during this poll. */
  requests: number;
  /** Transport or registry failures (the previous state stays in force). */
  errors: string[];
}

/** Options for {@linkcode StatePoller}. */
export interface StatePollerOptions {
  registry: StateRegistry;
  /** `<host>/<ns>/satellite-state/<name>:latest`, from registration. */
  stateReference: string;
  satelliteName: string;
  /** The state-signing public key (raw, base64), from registration. */
  publicKeyBase64: string;
  store: AppliedStore;
  events: EventLog;
}

/**
 * Polls and verifies state; keeps the states in force in memory and in the {@linkcode AppliedStore}.
 *
 * @example
 * ```ts
 * declare const poller: StatePoller;
 * const { groups } = await poller.poll();
 * ```
 */
export class StatePoller {
  #options: StatePollerOptions;
  #satellite: AppliedSatelliteRecord | null = null;
  #groups = new Map<string, AppliedGroup>();
  /** Highest signed seq ever accepted per group name, including groups left since (rollback guard). */
  #highestSeq = new Map<string, number>();
  /** Digests refused before, by repository: not fetched again. */
  #refused = new Map<string, string>();

  constructor(options: StatePollerOptions) {
    this.#options = options;
  }

  /**
   * Loads the states in force from the local database.
   *
   * @example
   * ```ts
   * await poller.init();
   * ```
   */
  async init(): Promise<void> {
    const applied = await this.#options.store.load();
    this.#satellite = applied.satellite;
    this.#groups = applied.groups;
    this.#highestSeq = applied.highestSeq;
  }

  /**
   * Replaces the registry client (after the registry credentials rotated).
   *
   * @example
   * ```ts
   * declare const client: StateRegistry;
   * poller.setRegistry(client);
   * ```
   */
  setRegistry(registry: StateRegistry): void {
    this.#options = { ...this.#options, registry };
  }

  /** The satellite state in force. */
  get satellite(): AppliedSatelliteRecord | null {
    return this.#satellite;
  }

  /** The group states in force. */
  get groups(): ReadonlyMap<string, AppliedGroup> {
    return this.#groups;
  }

  /**
   * One poll.
   *
   * @example
   * ```ts
   * const outcome = await poller.poll(AbortSignal.timeout(30_000));
   * ```
   */
  async poll(signal?: AbortSignal): Promise<PollOutcome> {
    const outcome: PollOutcome = {
      changed: false,
      satellite: null,
      groups: this.#groups,
      complete: false,
      refused: [],
      requests: 0,
      errors: [],
    };
    await this.#pollSatellite(outcome, signal);
    const refs = this.#satellite?.state.groups ?? [];
    await Promise.all(refs.map((ref) => this.#pollGroup(ref, outcome, signal)));
    const wanted = new Set(refs.map((r) => r.name));
    for (const [name, group] of [...this.#groups]) {
      if (wanted.has(name)) continue;
      this.#groups.delete(name);
      await this.#options.store.removeGroup(name, group.digest);
      outcome.changed = true;
    }
    outcome.satellite = this.#satellite;
    outcome.complete = this.#satellite !== null && refs.every((r) => this.#groups.has(r.name));
    return outcome;
  }

  #readLayer(repository: string, outcome: PollOutcome, signal?: AbortSignal) {
    return (digest: string, size: number) => {
      outcome.requests++;
      signal?.throwIfAborted();
      return readVerifiedBlob(this.#options.registry, repository, digest, size);
    };
  }

  /** HEAD, and when the digest is new and not refused before, GET: null when nothing new. */
  async #fetchIfChanged(
    repository: string,
    reference: string,
    appliedDigest: string | undefined,
    outcome: PollOutcome,
    signal?: AbortSignal,
  ) {
    outcome.requests++;
    const head = await this.#options.registry.headManifest(repository, reference, signal);
    if (!head || head.digest === appliedDigest || this.#refused.get(repository) === head.digest) return null;
    outcome.requests++;
    return await this.#options.registry.getManifest(repository, head.digest, signal);
  }

  #refuse(outcome: PollOutcome, refusal: Refusal, repository: string) {
    this.#refused.set(repository, refusal.digest);
    outcome.refused.push(refusal);
    this.#options.events.emit(
      "error",
      "state.refused",
      `${refusal.kind} state ${refusal.name} (${refusal.digest}) refused: ${refusal.message}; the previous state stays in force`,
      { ...refusal },
    );
  }

  async #pollSatellite(outcome: PollOutcome, signal?: AbortSignal): Promise<void> {
    const { repository, reference } = parseReference(this.#options.stateReference, "state.reference");
    try {
      const manifest = await this.#fetchIfChanged(
        repository,
        reference,
        this.#satellite?.digest,
        outcome,
        signal,
      );
      if (!manifest) return;
      try {
        const envelope = await openState(manifest, this.#readLayer(repository, outcome, signal), {
          publicKeyBase64: this.#options.publicKeyBase64,
          kind: "satellite",
          name: this.#options.satelliteName,
          appliedSeq: this.#satellite?.seq,
        });
        if (envelope.kind !== "satellite") return;
        this.#satellite = { digest: manifest.digest, seq: envelope.seq, state: envelope.state };
        await this.#options.store.saveSatellite(this.#satellite);
        outcome.changed = true;
        this.#options.events.emit("info", "state.accepted", `satellite state seq ${envelope.seq} accepted`, {
          digest: manifest.digest,
          seq: envelope.seq,
        });
      } catch (e) {
        if (!(e instanceof StateRefusedError)) throw e;
        this.#refuse(outcome, {
          kind: "satellite",
          name: this.#options.satelliteName,
          digest: manifest.digest,
          reason: e.reason,
          message: e.message,
        }, repository);
      }
    } catch (e) {
      if (signal?.aborted) throw e;
      outcome.errors.push(`satellite state: ${(e as Error).message}`);
    }
  }

  async #pollGroup(ref: GroupRef, outcome: PollOutcome, signal?: AbortSignal): Promise<void> {
    const previous = this.#groups.get(ref.name);
    try {
      const { repository, reference } = parseReference(ref.reference, `groups.${ref.name}.reference`);
      const manifest = await this.#fetchIfChanged(repository, reference, previous?.digest, outcome, signal);
      if (!manifest) return;
      const read = this.#readLayer(repository, outcome, signal);
      try {
        let group: AppliedGroup;
        if (ref.format === "harbor") {
          const state = await openHarborGroupState(manifest, read);
          group = { name: ref.name, digest: manifest.digest, seq: 0, format: "harbor", state };
        } else {
          const envelope = await openState(manifest, read, {
            publicKeyBase64: this.#options.publicKeyBase64,
            kind: "group",
            name: ref.name,
            appliedSeq: this.#highestSeq.get(ref.name),
          });
          if (envelope.kind !== "group") return;
          group = {
            name: ref.name,
            digest: manifest.digest,
            seq: envelope.seq,
            format: "edge",
            state: envelope.state,
          };
        }
        await this.#options.store.saveGroup(group, previous?.digest);
        this.#groups.set(ref.name, group);
        if (group.format === "edge") {
          this.#highestSeq.set(ref.name, Math.max(group.seq, this.#highestSeq.get(ref.name) ?? -1));
        }
        outcome.changed = true;
        this.#options.events.emit(
          "info",
          "state.accepted",
          `group state ${ref.name} seq ${group.seq} accepted`,
          {
            group: ref.name,
            digest: group.digest,
            seq: group.seq,
          },
        );
      } catch (e) {
        if (!(e instanceof StateRefusedError)) throw e;
        this.#refuse(outcome, {
          kind: "group",
          name: ref.name,
          digest: manifest.digest,
          reason: e.reason,
          message: e.message,
        }, repository);
      }
    } catch (e) {
      if (signal?.aborted) throw e;
      outcome.errors.push(`group ${ref.name}: ${(e as Error).message}`);
    }
  }
}
