import assert from "node:assert/strict";
import { GroupState } from "../schemas/group_state.ts";
import { artifactKey, desiredSet } from "./desired.ts";

const d = (c: string) => "sha256:" + c.repeat(64);
const group = (name: string, artifacts: unknown[]) => ({
  name,
  state: GroupState.parse({ registry: "r", artifacts }),
});

Deno.test("desiredSet: union of groups, tags merged, deleted artifacts contribute nothing", () => {
  const set = desiredSet([
    group("b", [{ repository: "app/web", tag: ["2"], digest: d("a") }, {
      repository: "app/db",
      digest: d("c"),
      deleted: true,
    }]),
    group("a", [{ repository: "app/web", tag: ["1"], digest: d("a") }, {
      repository: "app/api",
      tag: null,
      digest: d("b"),
    }]),
  ]);
  assert.deepEqual([...set.artifacts.keys()].sort(), [
    artifactKey("app/api", d("b")),
    artifactKey("app/web", d("a")),
  ]);
  assert.deepEqual(set.artifacts.get(artifactKey("app/web", d("a"))), {
    repository: "app/web",
    digest: d("a"),
    tags: ["1", "2"],
    groups: ["a", "b"],
  });
});

Deno.test("desiredSet: an artifact deleted in one group stays while another group wants it", () => {
  const set = desiredSet([
    group("a", [{ repository: "app/web", tag: ["1"], digest: d("a"), deleted: true }]),
    group("b", [{ repository: "app/web", tag: ["1"], digest: d("a") }]),
  ]);
  assert.deepEqual(set.artifacts.get(artifactKey("app/web", d("a")))?.groups, ["b"]);
});

Deno.test("desiredSet: a tag claimed by two digests goes to the first group by name and is reported", () => {
  const set = desiredSet([
    group("z", [{ repository: "app/web", tag: ["latest"], digest: d("b") }]),
    group("a", [{ repository: "app/web", tag: ["latest"], digest: d("a") }]),
  ]);
  assert.deepEqual(set.artifacts.get(artifactKey("app/web", d("a")))?.tags, ["latest"]);
  assert.deepEqual(set.artifacts.get(artifactKey("app/web", d("b")))?.tags, []);
  assert.deepEqual(set.conflicts, [{ repository: "app/web", tag: "latest", kept: d("a"), dropped: d("b") }]);
});
