/**
 * Line-level TOML surgery for small config files (containerd `hosts.toml`, containers
 * `registries.conf`): split a file into its root part and its tables, replace ours, keep everything
 * else byte for byte. Values are never reinterpreted, so comments and unknown keys survive.
 *
 * @example
 * ```ts
 * import { joinSections, splitSections } from "./toml_sections.ts";
 * const doc = splitSections('server = "https://r"\n\n[host."http://m"]\n  capabilities = ["pull"]\n');
 * doc.sections[0].path; // ["host", "http://m"]
 * joinSections(doc);
 * ```
 * @module
 */

/** One table (`[a."b"]` or `[[a]]`) and the lines under it, header included. */
export interface TomlSection {
  /** Header keys, unquoted: `[host."http://m"]` => `["host", "http://m"]`. */
  path: string[];
  /** True for an array-of-tables header `[[...]]`. */
  array: boolean;
  /** The header and body lines, without trailing blank lines. */
  lines: string[];
}

/** A file as root lines plus tables. */
export interface TomlDocument {
  root: string[];
  sections: TomlSection[];
}

const KEY = String.raw`(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')`;
const HEADER = new RegExp(String.raw`^\s*(\[\[?)\s*(${KEY}(?:\s*\.\s*${KEY})*)\s*(\]\]?)\s*(?:#.*)?$`);
const KEY_PART = new RegExp(KEY, "g");

/**
 * Parses a table header line, or returns null for any other line.
 *
 * @example
 * ```ts
 * parseHeader('[[registry.mirror]]'); // { path: ["registry", "mirror"], array: true }
 * ```
 */
export function parseHeader(line: string): { path: string[]; array: boolean } | null {
  const match = HEADER.exec(line);
  if (!match || match[1].length !== match[3].length) return null;
  const path = [...match[2].matchAll(KEY_PART)].map(([part]) =>
    part.startsWith('"') ? JSON.parse(part) as string : part.startsWith("'") ? part.slice(1, -1) : part
  );
  return { path, array: match[1] === "[[" };
}

function trimTrailingBlank(lines: string[]): string[] {
  let end = lines.length;
  while (end > 0 && lines[end - 1].trim() === "") end--;
  return lines.slice(0, end);
}

/**
 * Splits TOML text into root lines and tables.
 *
 * @example
 * ```ts
 * splitSections("a = 1\n[t]\nb = 2\n").sections.length; // 1
 * ```
 */
export function splitSections(text: string): TomlDocument {
  const doc: TomlDocument = { root: [], sections: [] };
  let current: string[] = doc.root;
  for (const line of text.replace(/\r\n/g, "\n").split("\n")) {
    const header = parseHeader(line);
    if (header) {
      const section: TomlSection = { ...header, lines: [line] };
      doc.sections.push(section);
      current = section.lines;
    } else {
      current.push(line);
    }
  }
  doc.root = trimTrailingBlank(doc.root);
  for (const s of doc.sections) s.lines = trimTrailingBlank(s.lines);
  return doc;
}

/**
 * Renders a document: root, then each table, separated by one blank line, ending in a newline.
 *
 * @example
 * ```ts
 * joinSections({ root: ["a = 1"], sections: [] }); // "a = 1\n"
 * ```
 */
export function joinSections(doc: TomlDocument): string {
  const blocks = [doc.root, ...doc.sections.map((s) => s.lines)].filter((b) => b.length > 0);
  return blocks.map((b) => b.join("\n")).join("\n\n") + "\n";
}

/**
 * A TOML basic string literal.
 *
 * @example
 * ```ts
 * tomlString('a"b'); // "\"a\\\"b\""
 * ```
 */
export function tomlString(value: string): string {
  return JSON.stringify(value);
}
