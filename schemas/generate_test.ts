import { renderSchemas, staleSchemaFiles } from "./generate.ts";

Deno.test("schemas/json/ is up to date with the zod schemas (run `deno task schemas` when this fails)", async () => {
  const stale = await staleSchemaFiles();
  if (stale.length) throw new Error(`stale: ${stale.join(", ")}; run: deno task schemas`);
});

Deno.test("generated schemas carry the grammar: repository pattern and required fields", () => {
  const group = JSON.parse(renderSchemas().get("group-state.schema.json")!);
  const artifact = group.properties.artifacts.items;
  if (!artifact.properties.repository.pattern?.includes("[a-z0-9]")) throw new Error("no repository pattern");
  if (!artifact.required.includes("digest") || !group.required.includes("artifacts")) {
    throw new Error("required lost");
  }
});
