/**
 * The CPU architectures the appliance is built for, and what each means to every tool involved:
 * Debian/OCI name, Deno's target triple, the npm package carrying Deno for it, and the ELF machine.
 *
 * @example
 * ```ts
 * import { ARCHES, parseArch } from "./arch.ts";
 * ARCHES[parseArch("arm64")].elfMachine; // 183
 * ```
 * @module
 */
import { z } from "zod";

/** ELF `e_machine` values. */
export const ELF_MACHINE = { x86_64: 62, aarch64: 183 } as const;

/** An appliance architecture, named as Debian and OCI name it. */
export const Arch = z.enum(["amd64", "arm64"], { error: 'must be "amd64" or "arm64"' });
/** An appliance architecture. */
export type Arch = z.infer<typeof Arch>;

/** Everything one architecture maps to. */
export interface ArchInfo {
  arch: Arch;
  /** `deno compile --target` value. */
  denoTarget: "x86_64-unknown-linux-gnu" | "aarch64-unknown-linux-gnu";
  /** npm package with the Deno CLI for this architecture. */
  denoNpmPackage: "@deno/linux-x64-glibc" | "@deno/linux-arm64-glibc";
  /** ELF `e_machine` of this architecture's binaries. */
  elfMachine: number;
  /** Human name of the machine, for messages. */
  machineName: string;
}

/** The supported architectures. */
export const ARCHES: Record<Arch, ArchInfo> = {
  amd64: {
    arch: "amd64",
    denoTarget: "x86_64-unknown-linux-gnu",
    denoNpmPackage: "@deno/linux-x64-glibc",
    elfMachine: ELF_MACHINE.x86_64,
    machineName: "x86-64",
  },
  arm64: {
    arch: "arm64",
    denoTarget: "aarch64-unknown-linux-gnu",
    denoNpmPackage: "@deno/linux-arm64-glibc",
    elfMachine: ELF_MACHINE.aarch64,
    machineName: "AArch64",
  },
};

/**
 * Parses an architecture name (also accepting `x86_64`/`x64` and `aarch64`).
 *
 * @example
 * ```ts
 * parseArch("x86_64"); // "amd64"
 * ```
 */
export function parseArch(name: string): Arch {
  const aliases: Record<string, Arch> = { x86_64: "amd64", x64: "amd64", aarch64: "arm64" };
  const result = Arch.safeParse(aliases[name] ?? name);
  if (!result.success) throw new Error(`unknown architecture "${name}": must be amd64 or arm64`);
  return result.data;
}

/**
 * The architecture whose ELF machine is `machine`, if supported.
 *
 * @example
 * ```ts
 * archOfMachine(62); // "amd64"
 * ```
 */
export function archOfMachine(machine: number): Arch | undefined {
  return (Object.values(ARCHES).find((a) => a.elfMachine === machine))?.arch;
}
