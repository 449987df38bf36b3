import { deepStrictEqual, equal, rejects, throws } from "node:assert/strict";
import { parseArch } from "./arch.ts";
import { denoRuntime } from "./deno_runtime.ts";
import { assertElfArch, parseElfHeader, readElfMachine } from "./elf.ts";

Deno.test("ELF machine of real binaries: host x86-64 and the arm64 deno from npm", async () => {
  deepStrictEqual(await readElfMachine("/usr/bin/true"), { machine: 62, is64: true, executable: true });
  const arm = await denoRuntime("arm64");
  deepStrictEqual(await readElfMachine(arm), { machine: 183, is64: true, executable: true });
  await assertElfArch(arm, "arm64", "deno runtime");
  await assertElfArch("/usr/bin/true", "amd64", "zot binary");
  await rejects(
    assertElfArch("/usr/bin/true", "arm64", "zot binary"),
    /zot binary \/usr\/bin\/true is for x86-64.*arm64/,
  );
  // A hand-made AArch64 header (e_machine 183, little endian, ET_DYN).
  const header = new Uint8Array(64);
  header.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  header[16] = 3;
  header[18] = 183;
  deepStrictEqual(parseElfHeader(header), { machine: 183, is64: true, executable: true });
  header[16] = 1; // ET_REL: an object file, not an executable
  equal(parseElfHeader(header).executable, false);
});

Deno.test("non-ELF files and unknown arch names get clear errors", async () => {
  await rejects(readElfMachine("/etc/hostname"), /not an ELF executable/);
  throws(() => parseElfHeader(new Uint8Array(3)), /not an ELF/);
  equal(parseArch("x86_64"), "amd64");
  equal(parseArch("aarch64"), "arm64");
  throws(() => parseArch("riscv64"), /must be amd64 or arm64/);
});
