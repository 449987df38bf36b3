/**
 * Starts Debian's `docker-registry` (distribution 2.8) on a free loopback port, optionally with
 * htpasswd basic auth, in a temporary root; `stop()` kills it and removes the root.
 *
 * @example
 * ```ts
 * import { startDistribution } from "./distribution.ts";
 * await using reg = await startDistribution();
 * console.log(reg.url); // http://127.0.0.1:NNNN
 * ```
 * @module
 */
import bcrypt from "bcryptjs";
import { freePort, waitForHttp } from "./ports.ts";

/** A running distribution instance. */
export interface Distribution extends AsyncDisposable {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `127.0.0.1:PORT` */
  host: string;
  port: number;
  /** Storage root on disk. */
  root: string;
  /** Basic credentials when started with auth. */
  credentials?: { username: string; password: string };
  /** Stops the process and removes its storage (unless `keepRoot`). */
  stop(): Promise<void>;
  /** Stops the process but keeps its storage, so `restart()` can bring it back with the same content. */
  kill(): Promise<void>;
  /** Starts it again on the same port and root. */
  restart(): Promise<void>;
}

/** Options for {@linkcode startDistribution}. */
export interface DistributionOptions {
  /** Enable htpasswd basic auth with these credentials. */
  auth?: { username: string; password: string };
  /** Reuse a storage root (content survives across instances). */
  root?: string;
}

/**
 * Starts `docker-registry serve` with deletes enabled on 127.0.0.1 and a free port.
 *
 * @example
 * ```ts
 * const reg = await startDistribution({ auth: { username: "u", password: "p" } });
 * await reg.stop();
 * ```
 */
export async function startDistribution(options: DistributionOptions = {}): Promise<Distribution> {
  const port = freePort();
  const root = options.root ?? await Deno.makeTempDir({ prefix: "distribution-" });
  const dir = await Deno.makeTempDir({ prefix: "distribution-cfg-" });
  let authBlock = "";
  if (options.auth) {
    const hash = bcrypt.hashSync(options.auth.password, 5);
    await Deno.writeTextFile(`${dir}/htpasswd`, `${options.auth.username}:${hash}\n`);
    authBlock = `auth:\n  htpasswd:\n    realm: test-realm\n    path: ${dir}/htpasswd\n`;
  }
  const config = `version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${root}/data
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:${port}
${authBlock}`;
  await Deno.writeTextFile(`${dir}/config.yml`, config);
  let child: Deno.ChildProcess | undefined;
  const start = async () => {
    child = new Deno.Command("docker-registry", {
      args: ["serve", `${dir}/config.yml`],
      stdout: "null",
      stderr: "null",
    }).spawn();
    await waitForHttp(`http://127.0.0.1:${port}/v2/`);
  };
  const kill = async () => {
    if (!child) return;
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
    child = undefined;
  };
  await start();
  const stop = async () => {
    await kill();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    if (!options.root) await Deno.remove(root, { recursive: true }).catch(() => {});
  };
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    port,
    root,
    credentials: options.auth,
    stop,
    kill,
    restart: start,
    [Symbol.asyncDispose]: stop,
  };
}
