/**
 * Starts a private containerd (its own root, state dir and socket; CRI and the snapshotters that need
 * special filesystems disabled) and runs `ctr` against it. Pulls unpack with the `native` snapshotter,
 * which works anywhere as root.
 *
 * @example
 * ```ts
 * import { startContainerd } from "./containerd.ts";
 * await using containerd = await startContainerd();
 * await containerd.ctr(["images", "pull", "--plain-http", "127.0.0.1:5000/a/b:v1"]);
 * ```
 * @module
 */

/** A running containerd. */
export interface Containerd extends AsyncDisposable {
  /** The gRPC socket path. */
  socket: string;
  /** Runs `ctr -a <socket> ...args` (with `--snapshotter native` added to pulls); throws with stderr on failure. */
  ctr(args: string[]): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts containerd in a temporary directory and waits until `ctr version` answers.
 *
 * @example
 * ```ts
 * const containerd = await startContainerd();
 * await containerd.stop();
 * ```
 */
export async function startContainerd(): Promise<Containerd> {
  const dir = await Deno.makeTempDir({ prefix: "containerd-" });
  const socket = `${dir}/containerd.sock`;
  await Deno.writeTextFile(
    `${dir}/config.toml`,
    `version = 2
root = "${dir}/root"
state = "${dir}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing"]
[grpc]
  address = "${socket}"
[ttrpc]
  address = "${socket}.ttrpc"
[debug]
  address = "${dir}/debug.sock"
  level = "warn"
[metrics]
  address = ""
`,
  );
  const child = new Deno.Command("containerd", {
    args: ["--config", `${dir}/config.toml`],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const ctr = async (args: string[]) => {
    const full = args[0] === "images" && args[1] === "pull"
      ? [...args.slice(0, 2), "--snapshotter", "native", ...args.slice(2)]
      : args;
    const out = await new Deno.Command("ctr", {
      args: ["-a", socket, ...full],
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    const text = new TextDecoder().decode(out.stdout);
    if (!out.success) {
      throw new Error(`ctr ${full.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}${text}`);
    }
    return text;
  };
  const stop = async () => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
    // Unpacked native snapshots are plain directories; remove everything.
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await ctr(["version"]);
      break;
    } catch (e) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`containerd did not start: ${e}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { socket, ctr, stop, [Symbol.asyncDispose]: stop };
}
