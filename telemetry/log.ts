/**
 * Structured logs: one JSON object per line (`time`, `level`, `msg`, then the fields), a level
 * filter, and secret redaction. Values registered with {@linkcode Redactor.add} (passwords, device
 * secrets, tokens) are replaced by `[redacted]` wherever they appear in a line, and fields whose key
 * looks like a credential (`password`, `token`, `secret`, `authorization`, ...) are always redacted.
 *
 * @example
 * ```ts
 * import { createLogger, redact } from "./log.ts";
 * redact.add("s3cr3t-pa55");
 * const log = createLogger({ level: "info" });
 * log.info("logged in", { user: "robot", url: "https://robot:s3cr3t-pa55@harbor.example.com" });
 * // {"time":"...","level":"info","msg":"logged in","user":"robot","url":"https://robot:[redacted]@harbor.example.com"}
 * log.debug("not printed at info");
 * ```
 * @module
 */
import { Buffer } from "node:buffer";
import type { LogLevel } from "../schemas/satellite_state.ts";

/** The replacement text. */
export const REDACTED = "[redacted]";

/** Words that make a key sensitive (`clientSecret`, `api_key`, `Authorization`, `x-auth-token`). */
const SENSITIVE_WORDS = new Set([
  "password",
  "passwd",
  "passphrase",
  "pwd",
  "secret",
  "token",
  "auth",
  "authorization",
  "authorisation",
  "credential",
  "credentials",
  "cookie",
  "apikey",
  "privatekey",
]);

/**
 * Whether a field with this key is never logged, whatever it holds: its camelCase / snake_case /
 * kebab-case words (or two adjacent ones, as in `api_key`) include a credential word.
 *
 * @example
 * ```ts
 * isSensitiveKey("clientSecret"); // true
 * isSensitiveKey("bytesPassed"); // false
 * isSensitiveKey("tokenSource"); // false: it says where a token came from
 * ```
 */
export function isSensitiveKey(key: string): boolean {
  const words = key.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
  // `tokenSource`, `tokenFile`, `passwordDigest`, `tokenExpiresAt` describe a credential without
  // holding it; registered secret values are still scrubbed from them like from any text.
  const last = words.at(-1) ?? "";
  if (words.length > 1 && (DESCRIPTOR_WORDS.has(last) || words.slice(-2).join(" ") === "expires at")) {
    return false;
  }
  return words.some((w, i) => SENSITIVE_WORDS.has(w) || SENSITIVE_WORDS.has(w + (words[i + 1] ?? "")));
}

/** Last words that make a credential-named key a description of it, not the credential itself. */
const DESCRIPTOR_WORDS = new Set(["source", "file", "path", "kind", "type", "digest", "count", "length"]);

/** Secrets shorter than this are not registered: replacing them would shred unrelated text. */
export const MIN_SECRET_LENGTH = 4;

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const RESERVED = new Set(["time", "level", "msg"]);

/**
 * A registry of secret values to scrub from log lines.
 *
 * @example
 * ```ts
 * const r = new Redactor();
 * r.add("hunter22");
 * r.redactText("password is hunter22"); // "password is [redacted]"
 * ```
 */
export class Redactor {
  #secrets = new Set<string>();
  #ordered: string[] = [];

  /** Registers a secret (and its JSON-escaped form); returns false when too short to register. */
  add(secret: string): boolean {
    if (secret.length < MIN_SECRET_LENGTH) return false;
    for (const form of [secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)]) {
      this.#secrets.add(form);
    }
    // Longest first, so a secret containing another is replaced whole.
    this.#ordered = [...this.#secrets].sort((a, b) => b.length - a.length);
    return true;
  }

  /**
   * Registers basic credentials: the password and the `Authorization: Basic` token built from them.
   *
   * @example
   * ```ts
   * new Redactor().addBasic("robot$shop", "pw-1234");
   * ```
   */
  addBasic(username: string, password: string): void {
    this.add(password);
    this.add(Buffer.from(`${username}:${password}`).toString("base64"));
  }

  /** Forgets a secret (e.g. rotated credentials that are no longer valid). */
  remove(secret: string): void {
    for (const form of [secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)]) {
      this.#secrets.delete(form);
    }
    this.#ordered = [...this.#secrets].sort((a, b) => b.length - a.length);
  }

  /** Number of registered forms. */
  get size(): number {
    return this.#secrets.size;
  }

  /** `text` with every registered secret replaced. */
  redactText(text: string): string {
    let out = text;
    for (const secret of this.#ordered) {
      if (out.includes(secret)) out = out.replaceAll(secret, REDACTED);
    }
    return out;
  }
}

/**
 * The process-wide registry the default loggers use.
 *
 * @example
 * ```ts
 * redact.add(Deno.env.get("REGISTRY_PASSWORD") ?? "");
 * ```
 */
export const redact: Redactor = new Redactor();

/** Options for {@linkcode createLogger}. */
export interface LoggerOptions {
  level?: LogLevel;
  /** Receives each finished line (default: stderr, keeping stdout for command output). */
  write?: (line: string) => void;
  redactor?: Redactor;
  /** Time source (default `Date.now`). */
  now?: () => number;
  /** Fields on every line. */
  fields?: Record<string, unknown>;
}

/** A structured logger. */
export interface Logger {
  level: LogLevel;
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every line and shares this one's level and output. */
  child(fields: Record<string, unknown>): Logger;
  /** Whether `level` would be written. */
  enabled(level: LogLevel): boolean;
}

const encoder = new TextEncoder();
const toStderr = (line: string) => {
  Deno.stderr.writeSync(encoder.encode(line + "\n"));
};

/** JSON-safe copy with sensitive keys redacted, errors unfolded and cycles cut. */
function sanitize(value: unknown, seen: WeakSet<object>, depth: number): unknown {
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "function" || typeof value === "symbol") return String(value);
  if (value === null || typeof value !== "object") return value;
  if (seen.has(value)) return "[circular]";
  if (depth > 8) return "[too deep]";
  seen.add(value);
  try {
    if (value instanceof Error) {
      const out: Record<string, unknown> = { name: value.name, message: value.message };
      if (value.cause !== undefined) out.cause = sanitize(value.cause, seen, depth + 1);
      return out;
    }
    if (value instanceof Date) return value.toISOString();
    if (value instanceof URL) return value.href;
    if (ArrayBuffer.isView(value)) return `[${value.constructor.name} ${value.byteLength} bytes]`;
    if (value instanceof Headers) return sanitize(Object.fromEntries(value), seen, depth + 1);
    if (value instanceof Map) return sanitize(Object.fromEntries(value), seen, depth + 1);
    if (Array.isArray(value)) return value.map((v) => sanitize(v, seen, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      out[key] = isSensitiveKey(key) && v !== undefined && v !== null
        ? REDACTED
        : sanitize(v, seen, depth + 1);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

/**
 * Renders one log line (without newline); exported for tests and other sinks.
 *
 * @example
 * ```ts
 * formatLine("info", "hi", { n: 1 }, 0, new Redactor()); // {"time":"1970-01-01T00:00:00.000Z","level":"info","msg":"hi","n":1}
 * ```
 */
export function formatLine(
  level: LogLevel,
  msg: string,
  fields: Record<string, unknown>,
  time: number,
  redactor: Redactor,
): string {
  const record: Record<string, unknown> = { time: new Date(time).toISOString(), level, msg };
  const clean = sanitize(fields, new WeakSet(), 0) as Record<string, unknown>;
  for (const [key, value] of Object.entries(clean)) record[RESERVED.has(key) ? `field.${key}` : key] = value;
  return redactor.redactText(JSON.stringify(record));
}

/**
 * Creates a logger.
 *
 * @example
 * ```ts
 * const lines: string[] = [];
 * const log = createLogger({ level: "debug", write: (l) => lines.push(l) });
 * log.child({ component: "sync" }).warn("retrying", { attempt: 2 });
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const state = {
    level: options.level ?? "info",
    write: options.write ?? toStderr,
    redactor: options.redactor ?? redact,
    now: options.now ?? Date.now,
  };
  const make = (base: Record<string, unknown>): Logger => {
    const emit = (level: LogLevel) => (msg: string, fields: Record<string, unknown> = {}) => {
      if (LEVELS[level] < LEVELS[state.level]) return;
      state.write(formatLine(level, msg, { ...base, ...fields }, state.now(), state.redactor));
    };
    return {
      get level() {
        return state.level;
      },
      set level(level: LogLevel) {
        state.level = level;
      },
      debug: emit("debug"),
      info: emit("info"),
      warn: emit("warn"),
      error: emit("error"),
      child: (fields) => make({ ...base, ...fields }),
      enabled: (level) => LEVELS[level] >= LEVELS[state.level],
    };
  };
  return make(options.fields ?? {});
}
