import { GroupState } from "./group_state.ts";
import { RepositoryName } from "./oci.ts";
import { parseJsonOrThrow, ValidationError } from "./validate.ts";

const fixtures = new URL("../../shared/fixtures/", import.meta.url);

Deno.test("both seed state files from shared/fixtures parse as group state", async () => {
  for await (const entry of Deno.readDir(fixtures)) {
    if (!entry.name.endsWith(".json")) continue;
    const text = await Deno.readTextFile(new URL(entry.name, fixtures));
    const state = parseJsonOrThrow(GroupState, text, entry.name);
    if (state.artifacts.length === 0) throw new Error(`${entry.name}: no artifacts`);
    for (const a of state.artifacts) {
      if (!Array.isArray(a.tag) || a.type !== "IMAGE") {
        throw new Error(`${entry.name}: bad artifact ${a.repository}`);
      }
    }
  }
});

Deno.test("labels: null and a missing tag list are accepted", () => {
  const s = GroupState.parse({
    registry: "r",
    artifacts: [{ repository: "a/b", digest: "sha256:" + "a".repeat(64), labels: null, tag: null }],
  });
  if (s.artifacts[0].tag.length !== 0 || s.artifacts[0].deleted !== false) {
    throw new Error("defaults not applied");
  }
});

Deno.test("bad repository names and digests are rejected naming the field", () => {
  for (const name of ["../x", "Library/busybox", "a//b", "/a", "a/", "a..b", ""]) {
    if (RepositoryName.safeParse(name).success) throw new Error(`accepted ${name}`);
  }
  const bad = JSON.stringify({
    registry: "r",
    artifacts: [{
      repository: "Upper/Case",
      tag: ["ok"],
      digest: "sha256:xyz",
      type: "IMAGE",
      deleted: false,
    }],
  });
  try {
    parseJsonOrThrow(GroupState, bad, "group state");
    throw new Error("accepted");
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    const paths = e.issues.map((i) => i.path);
    if (!paths.includes("artifacts[0].repository") || !paths.includes("artifacts[0].digest")) {
      throw new Error(`paths: ${paths}`);
    }
  }
});
