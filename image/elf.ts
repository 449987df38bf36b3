/**
 * Reading an executable's ELF header to learn which CPU it is for, so a build never ships an x86-64
 * binary in an arm64 image (or the other way round).
 *
 * @example
 * ```ts
 * import { readElfMachine } from "./elf.ts";
 * const { machine } = await readElfMachine("/usr/bin/true"); // 62 on x86-64
 * ```
 * @module
 */
import { type Arch, ARCHES, archOfMachine } from "./arch.ts";

/** What the ELF header says. */
export interface ElfInfo {
  /** `e_machine` (62 = x86-64, 183 = AArch64). */
  machine: number;
  /** 64-bit (ELFCLASS64). */
  is64: boolean;
  /** `e_type` 2 (EXEC) or 3 (DYN, also PIE executables). */
  executable: boolean;
}

/**
 * Parses the ELF header at the start of `bytes`; throws when it is not ELF.
 *
 * @example
 * ```ts
 * parseElfHeader(await Deno.readFile("/usr/bin/true")).machine;
 * ```
 */
export function parseElfHeader(bytes: Uint8Array, what = "file"): ElfInfo {
  if (bytes.length < 20 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    throw new Error(`${what} is not an ELF executable (no \\x7fELF magic)`);
  }
  const littleEndian = bytes[5] === 1;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = view.getUint16(16, littleEndian);
  return {
    machine: view.getUint16(18, littleEndian),
    is64: bytes[4] === 2,
    executable: type === 2 || type === 3,
  };
}

/**
 * Reads the ELF header of a file.
 *
 * @example
 * ```ts
 * const info = await readElfMachine("/usr/bin/true");
 * ```
 */
export async function readElfMachine(path: string): Promise<ElfInfo> {
  using file = await Deno.open(path, { read: true });
  const header = new Uint8Array(64);
  let filled = 0;
  while (filled < header.length) {
    const n = await file.read(header.subarray(filled));
    if (n === null) break;
    filled += n;
  }
  return parseElfHeader(header.subarray(0, filled), path);
}

/**
 * Throws unless `path` is a 64-bit ELF executable for `arch`, naming what it actually is.
 *
 * @example
 * ```ts
 * await assertElfArch("/usr/bin/true", "amd64", "zot binary");
 * ```
 */
export async function assertElfArch(path: string, arch: Arch, what: string): Promise<void> {
  const info = await readElfMachine(path);
  const want = ARCHES[arch];
  if (info.machine !== want.elfMachine || !info.is64 || !info.executable) {
    const actual = archOfMachine(info.machine);
    throw new Error(
      `${what} ${path} is for ${actual ? ARCHES[actual].machineName : `ELF machine ${info.machine}`}` +
        `${info.executable ? "" : " (not an executable)"}, but the image is ${arch} ` +
        `(${want.machineName}, ELF machine ${want.elfMachine}): use the ${arch} build`,
    );
  }
}
