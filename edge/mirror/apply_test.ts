import { deepStrictEqual, equal, ok, rejects } from "node:assert/strict";
import type { MirrorRuntime } from "../../schemas/mirror.ts";
import { ValidationError } from "../../schemas/validate.ts";
import { applyMirrorConfig, BACKUP_SUFFIX } from "./apply.ts";

async function tempRoot(): Promise<{ root: string } & AsyncDisposable> {
  const root = await Deno.makeTempDir({ prefix: "mirror-root-" });
  return { root, [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }) };
}

const ALL: MirrorRuntime[] = ["containerd", "nerdctl", "crio", "podman", "docker", "k3s", "rke2"];

Deno.test("apply writes each runtime's file under root; a second apply changes nothing", async () => {
  await using tmp = await tempRoot();
  for (const runtime of ALL) {
    const request = { runtime, root: tmp.root, localUrl: "http://127.0.0.1:8585", upstreamHost: "docker.io" };
    const first = await applyMirrorConfig({ ...request, apply: true });
    const [file] = first.files;
    ok(file.fullPath.startsWith(tmp.root + "/etc/"), file.fullPath);
    equal(await Deno.readTextFile(file.fullPath), file.content);
    const again = await applyMirrorConfig({ ...request, apply: true });
    // nerdctl and podman share containerd's and CRI-O's files, which the earlier runtime already wrote.
    equal(again.files[0].changed, false, `${runtime}: second apply`);
    equal(again.files[0].written, false);
    equal(again.files[0].backup, undefined, `${runtime}: no backup for a file the satellite created`);
  }
});

Deno.test("apply backs up an existing file once, keeping its content and mode", async () => {
  await using tmp = await tempRoot();
  const path = `${tmp.root}/etc/rancher/k3s/registries.yaml`;
  await Deno.mkdir(`${tmp.root}/etc/rancher/k3s`, { recursive: true });
  const original = "configs:\n  harbor.example.com:\n    auth: { username: u, password: p }\n";
  await Deno.writeTextFile(path, original, { mode: 0o600 });
  await Deno.chmod(path, 0o600);
  const request = {
    runtime: "k3s" as const,
    root: tmp.root,
    localUrl: "http://127.0.0.1:8585",
    upstreamHost: "harbor.example.com",
  };
  const plan = await applyMirrorConfig({ ...request, apply: true });
  equal(plan.files[0].backup, path + BACKUP_SUFFIX);
  equal(await Deno.readTextFile(path + BACKUP_SUFFIX), original);
  equal((await Deno.stat(path + BACKUP_SUFFIX)).mode! & 0o777, 0o600);
  equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  const backupTime = (await Deno.stat(path + BACKUP_SUFFIX)).mtime;

  // A later change (another local URL) rewrites the file but keeps the first backup untouched.
  const moved = await applyMirrorConfig({ ...request, localUrl: "http://127.0.0.1:9000", apply: true });
  equal(moved.files[0].written, true);
  equal(await Deno.readTextFile(path + BACKUP_SUFFIX), original);
  deepStrictEqual((await Deno.stat(path + BACKUP_SUFFIX)).mtime, backupTime);
  const entries = [];
  for await (const e of Deno.readDir(`${tmp.root}/etc/rancher/k3s`)) entries.push(e.name);
  deepStrictEqual(
    entries.sort(),
    ["registries.yaml", "registries.yaml.satellite-backup"],
    "no temp files left",
  );
});

Deno.test("without apply nothing is written", async () => {
  await using tmp = await tempRoot();
  const plan = await applyMirrorConfig({
    runtime: "containerd",
    root: tmp.root,
    localUrl: "http://127.0.0.1:8585",
    upstreamHost: "127.0.0.1:5000",
  });
  equal(plan.files[0].changed, true);
  equal(plan.files[0].written, false);
  await rejects(Deno.stat(plan.files[0].fullPath), Deno.errors.NotFound);
});

Deno.test("a bad request names the field; an unmergeable file is left untouched", async () => {
  await using tmp = await tempRoot();
  await rejects(
    applyMirrorConfig({ runtime: "docker", root: tmp.root, localUrl: "ftp://x", upstreamHost: "docker.io" }),
    (e: unknown) => e instanceof ValidationError && e.issues[0].path === "localUrl",
  );
  await rejects(
    applyMirrorConfig({
      runtime: "docker",
      root: tmp.root,
      localUrl: "http://a:1",
      upstreamHost: "h/with/path",
    }),
    (e: unknown) => e instanceof ValidationError && e.issues[0].path === "upstreamHost",
  );
  await Deno.mkdir(`${tmp.root}/etc/docker`, { recursive: true });
  await Deno.writeTextFile(`${tmp.root}/etc/docker/daemon.json`, "{ broken");
  await rejects(
    applyMirrorConfig({
      runtime: "docker",
      root: tmp.root,
      localUrl: "http://127.0.0.1:8585",
      upstreamHost: "docker.io",
      apply: true,
    }),
    /not valid JSON/,
  );
  equal(await Deno.readTextFile(`${tmp.root}/etc/docker/daemon.json`), "{ broken");
  await rejects(Deno.stat(`${tmp.root}/etc/docker/daemon.json${BACKUP_SUFFIX}`), Deno.errors.NotFound);
});
