/**
 * Renders the JSON Schema files for {@linkcode catalog} (`deno task schemas` writes them;
 * `--check` exits 1 when the files on disk are stale).
 *
 * @example
 * ```ts
 * import { renderSchemas } from "./generate.ts";
 * const files = renderSchemas();
 * files.get("group-state.schema.json");
 * ```
 * @module
 */
import { z } from "zod";
import { catalog } from "./catalog.ts";

/** Where the generated files live. */
export const JSON_SCHEMA_DIR = new URL("./json/", import.meta.url);

/**
 * Renders every schema as formatted JSON text, keyed by file name. Input shapes are used (what a
 * person writes in a file), so defaults are optional and byte rates may be strings.
 *
 * @example
 * ```ts
 * renderSchemas().size > 0; // true
 * ```
 */
export function renderSchemas(): Map<string, string> {
  const files = new Map<string, string>();
  for (const [name, schema] of Object.entries(catalog)) {
    const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any", target: "draft-2020-12" });
    const doc = { $id: `https://edge-registry.dev/schemas/${name}.schema.json`, title: name, ...json };
    files.set(`${name}.schema.json`, JSON.stringify(doc, null, 2) + "\n");
  }
  return files;
}

/**
 * Lists files in `dir` whose content differs from what {@linkcode renderSchemas} produces.
 *
 * @example
 * ```ts
 * await staleSchemaFiles(); // [] when up to date
 * ```
 */
export async function staleSchemaFiles(dir: URL = JSON_SCHEMA_DIR): Promise<string[]> {
  const stale: string[] = [];
  for (const [file, text] of renderSchemas()) {
    const onDisk = await Deno.readTextFile(new URL(file, dir)).catch(() => null);
    if (onDisk !== text) stale.push(file);
  }
  return stale;
}

if (import.meta.main) {
  if (Deno.args.includes("--check")) {
    const stale = await staleSchemaFiles();
    if (stale.length) {
      console.error(`stale JSON Schema files: ${stale.join(", ")}; run: deno task schemas`);
      Deno.exit(1);
    }
  } else {
    await Deno.mkdir(JSON_SCHEMA_DIR, { recursive: true });
    for (const [file, text] of renderSchemas()) {
      await Deno.writeTextFile(new URL(file, JSON_SCHEMA_DIR), text);
    }
    console.log(`wrote ${renderSchemas().size} files to schemas/json/`);
  }
}
