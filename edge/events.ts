/**
 * Progress and problem events from the satellite core. The core never prints: it emits events, and
 * the CLI logs them, the status reporter queues the ones Ground Control should see, and tests
 * assert on them.
 *
 * @example
 * ```ts
 * import { EventLog } from "./events.ts";
 * const events = new EventLog();
 * events.on((e) => console.log(e.kind, e.message));
 * events.emit("info", "poll.done", "nothing changed");
 * ```
 * @module
 */
import type { LogLevel } from "../schemas/satellite_state.ts";

/** One event. */
export interface SatelliteEvent {
  at: string;
  level: LogLevel;
  /** Short machine-readable name, e.g. `state.refused`, `sync.progress`. */
  kind: string;
  message: string;
  data?: Record<string, unknown>;
}

/** A listener. */
export type EventListener = (event: SatelliteEvent) => void;

/**
 * A tiny synchronous event bus (listeners must not throw; a throwing listener is dropped from the
 * call, not from the bus).
 *
 * @example
 * ```ts
 * const log = new EventLog();
 * const off = log.on(() => {});
 * off();
 * ```
 */
export class EventLog {
  #listeners = new Set<EventListener>();

  /**
   * Adds a listener; returns a function that removes it.
   *
   * @example
   * ```ts
   * new EventLog().on((e) => console.log(e));
   * ```
   */
  on(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Emits an event to every listener.
   *
   * @example
   * ```ts
   * new EventLog().emit("warn", "ztr.retry", "Ground Control unreachable", { attempt: 2 });
   * ```
   */
  emit(level: LogLevel, kind: string, message: string, data?: Record<string, unknown>): SatelliteEvent {
    const event: SatelliteEvent = { at: new Date().toISOString(), level, kind, message, data };
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch { /* a listener's bug must not stop the satellite */ }
    }
    return event;
  }
}
