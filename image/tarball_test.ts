import { deepStrictEqual, equal, rejects, throws } from "node:assert/strict";
import { createTarPacker } from "modern-tar";
import { join } from "node:path";
import { imageMtime, readTarGz, readTarGzFile, safeEntryPath, TarGzWriter, unpackImage } from "./tarball.ts";

Deno.test("TarGzWriter -> unpackImage keeps contents, modes, directories and symlinks", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tarball-" });
  try {
    const tar = join(dir, "img.tar.gz");
    const w = await TarGzWriter.create(tar, new Date(0));
    await w.directory("opt/");
    await w.directory("opt/app/bin");
    await w.fileFromPath("opt/app/bin/tool", "/usr/bin/true", 0o755);
    await w.directory("etc/", 0o755);
    await w.file("etc/secret", "s\n", 0o600);
    await w.directory("etc/app.wants");
    await w.symlink("etc/app.wants/tool.service", "../tool.service");
    await w.close();

    const names: string[] = [];
    for await (const e of readTarGz(tar)) {
      names.push(e.header.name);
      equal(e.header.mtime?.getTime(), 0);
      await e.body.cancel();
    }
    deepStrictEqual(names, [
      "opt/",
      "opt/app/bin/",
      "opt/app/bin/tool",
      "etc/",
      "etc/secret",
      "etc/app.wants/",
      "etc/app.wants/tool.service",
    ]);
    equal(new TextDecoder().decode(await readTarGzFile(tar, "etc/secret")), "s\n");
    equal(await readTarGzFile(tar, "etc/none"), undefined);

    const root = join(dir, "root");
    await unpackImage(tar, root);
    equal((await Deno.stat(join(root, "opt/app/bin/tool"))).mode! & 0o777, 0o755);
    equal((await Deno.stat(join(root, "etc/secret"))).mode! & 0o777, 0o600);
    deepStrictEqual(
      await Deno.readFile(join(root, "opt/app/bin/tool")),
      await Deno.readFile("/usr/bin/true"),
    );
    equal(await Deno.readLink(join(root, "etc/app.wants/tool.service")), "../tool.service");
    const run = await new Deno.Command(join(root, "opt/app/bin/tool")).output();
    equal(run.success, true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("unpackImage refuses entries that escape the target directory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tarball-evil-" });
  try {
    const { readable, controller } = createTarPacker();
    const done = new Response(readable.pipeThrough(new CompressionStream("gzip"))).arrayBuffer();
    const sink = controller.add({ name: "../evil", size: 1, type: "file" }).getWriter();
    await sink.write(new Uint8Array([1]));
    await sink.close();
    controller.finalize();
    await Deno.writeFile(join(dir, "evil.tar.gz"), new Uint8Array(await done));
    await rejects(
      unpackImage(join(dir, "evil.tar.gz"), join(dir, "root")),
      /unsafe tar entry name "..\/evil"/,
    );
    equal(await Deno.stat(join(dir, "evil")).then(() => true, () => false), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("safeEntryPath and imageMtime", () => {
  equal(safeEntryPath("./etc/x/"), "etc/x");
  equal(safeEntryPath("a/../b"), "b");
  throws(() => safeEntryPath("/etc/passwd"), /unsafe/);
  throws(() => safeEntryPath("a/../../b"), /unsafe/);
  equal(imageMtime({ SOURCE_DATE_EPOCH: "1700000000" }).getTime(), 1_700_000_000_000);
});
