/**
 * A parser for the HTTP `WWW-Authenticate` header (RFC 9110 section 11.6.1): one or more
 * challenges, each a scheme followed by either a token68 or comma-separated `name=value` params,
 * where values may be quoted strings holding commas, `=` and backslash escapes.
 *
 * @example
 * ```ts
 * import { parseWwwAuthenticate } from "./www_authenticate.ts";
 * parseWwwAuthenticate('Bearer realm="https://auth.example/token",service="registry",scope="repository:a:pull,push"');
 * // [{ scheme: "bearer", params: { realm: "https://auth.example/token", service: "registry", scope: "repository:a:pull,push" } }]
 * ```
 * @module
 */

/** One challenge: a lower-cased scheme and its lower-cased parameter names. */
export interface AuthChallenge {
  /** Lower case, e.g. `bearer`, `basic`. */
  scheme: string;
  /** Parameters by lower-cased name; values unquoted and unescaped. */
  params: Record<string, string>;
  /** The token68 form (`Negotiate abc==`), when the challenge carries one instead of params. */
  token68?: string;
}

const TCHAR = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;
const TOKEN68 = /^[A-Za-z0-9._~+/-]+=*/;

/** Cursor-based scanner: small, explicit, and bounded by the header length. */
class Scanner {
  pos = 0;
  constructor(readonly text: string) {}
  get done(): boolean {
    return this.pos >= this.text.length;
  }
  peek(): string {
    return this.text[this.pos] ?? "";
  }
  skipSpaces(): void {
    while (this.peek() === " " || this.peek() === "\t") this.pos++;
  }
  skipSpacesAndCommas(): void {
    while (this.peek() === " " || this.peek() === "\t" || this.peek() === ",") this.pos++;
  }
  token(): string {
    const start = this.pos;
    while (!this.done && TCHAR.test(this.peek())) this.pos++;
    return this.text.slice(start, this.pos);
  }
  /** Reads a quoted string starting at `"`; an unterminated one runs to the end (lenient). */
  quoted(): string {
    this.pos++; // opening quote
    let out = "";
    while (!this.done) {
      const c = this.text[this.pos++];
      if (c === "\\" && !this.done) out += this.text[this.pos++];
      else if (c === '"') return out;
      else out += c;
    }
    return out;
  }
}

/**
 * Parses every challenge in a `WWW-Authenticate` header value. Unknown or malformed trailing
 * parts are skipped rather than thrown on, since a registry's header is outside our control;
 * callers check for the scheme and params they need.
 *
 * @example
 * ```ts
 * parseWwwAuthenticate('Basic realm="a, b", charset="UTF-8", Bearer realm="https://t"');
 * // two challenges: basic (realm "a, b") and bearer
 * ```
 */
export function parseWwwAuthenticate(header: string): AuthChallenge[] {
  const s = new Scanner(header);
  const challenges: AuthChallenge[] = [];
  // Each iteration consumes at least one character or stops, so the loop is bounded by the length.
  while (!s.done) {
    s.skipSpacesAndCommas();
    const scheme = s.token();
    if (!scheme) {
      if (s.done) break;
      s.pos++; // skip a stray character
      continue;
    }
    const challenge: AuthChallenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    s.skipSpaces();
    const rest = header.slice(s.pos);
    const t68 = TOKEN68.exec(rest);
    if (t68) {
      const after = rest.slice(t68[0].length).trimStart();
      // token68 only when nothing but a comma or the end follows; `realm=x` is a param instead.
      if ((after === "" || after.startsWith(",")) && !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+=[^=]/.test(rest)) {
        challenge.token68 = t68[0];
        s.pos += t68[0].length;
        continue;
      }
    }
    parseParams(s, challenge);
  }
  return challenges;
}

/** Reads `name=value` pairs until the next token that is not followed by `=` (a new scheme). */
function parseParams(s: Scanner, challenge: AuthChallenge): void {
  while (!s.done) {
    const mark = s.pos;
    s.skipSpacesAndCommas();
    const name = s.token();
    s.skipSpaces();
    if (!name || s.peek() !== "=") {
      s.pos = name ? mark : s.pos; // a bare token starts the next challenge
      if (!name && !s.done && s.pos === mark) s.pos++;
      return;
    }
    s.pos++; // '='
    s.skipSpaces();
    const value = s.peek() === '"' ? s.quoted() : s.token();
    challenge.params[name.toLowerCase()] = value;
  }
}

/**
 * Picks the first challenge with `scheme` (case-insensitive).
 *
 * @example
 * ```ts
 * findChallenge(parseWwwAuthenticate('Basic realm="r"'), "basic")?.params.realm; // "r"
 * ```
 */
export function findChallenge(challenges: AuthChallenge[], scheme: string): AuthChallenge | undefined {
  return challenges.find((c) => c.scheme === scheme.toLowerCase());
}
