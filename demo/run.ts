/**
 * The demo's steps: a central registry seeded with real images, Ground Control, a group and a
 * satellite created through the admin API, the satellite registering with its token and syncing,
 * the fleet status, and a pull from the satellite. Everything it starts is registered on the given
 * stack, so the caller stops and removes it all (also on Ctrl-C).
 *
 * @example
 * ```ts
 * import { runDemo } from "./run.ts";
 * await using stack = new AsyncDisposableStack();
 * const world = await runDemo({ pullWith: "auto" }, stack);
 * console.log(world.groundControlUrl);
 * ```
 * @module
 */
import { startGroundControl } from "../control/main.ts";
import { RegistryClient } from "../oci/client.ts";
import { openLocalRegistry } from "../oci/registry/local.ts";
import { startRegistryServer } from "../oci/registry/server.ts";
import type { FleetOverview, RegistrationTokenResponse, SatelliteView } from "../schemas/control.ts";
import { freePort } from "../tests/support/ports.ts";
import { ControlApi } from "./control_api.ts";
import { formatBytes, shortDigest, StepPrinter, type WriteLine } from "./format.ts";
import { ctrAvailable, pullWithClient, pullWithCtr } from "./pull.ts";
import { buildDemoImages, seedRegistry } from "./seed.ts";
import { startSatelliteProcess, tailOf } from "./satellite_process.ts";

/** How the pull proof is made: `auto` uses ctr when containerd is usable, else the OCI client. */
export type PullMethod = "auto" | "ctr" | "client";

/** Options of {@linkcode runDemo}. */
export interface DemoOptions {
  pullWith?: PullMethod;
  write?: WriteLine;
  /** Aborts waits (Ctrl-C). */
  signal?: AbortSignal;
  /** Longest wait for the satellite to converge. */
  convergeTimeoutMs?: number;
}

/** What is running when the demo's steps are done (for `--keep`). */
export interface DemoWorld {
  dir: string;
  registryUrl: string;
  groundControlUrl: string;
  adminToken: string;
  satelliteName: string;
  satelliteRegistryUrl: string;
  satelliteCli: string;
  logs: string[];
  /** Seconds from start to the end of the pull proof. */
  seconds: number;
}

const SATELLITE = "shop-001";
const GROUPS = {
  stores: [{ repository: "demo/web", tags: ["1.0"] }, { repository: "demo/api", tags: ["2.3"] }],
  agents: [{ repository: "demo/agent", tags: ["stable"] }],
};

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Polls `check` every 200 ms until it returns a value (not undefined), or throws naming `what`.
 *
 * @example
 * ```ts
 * await waitFor("a second", async () => Date.now() > t0 + 1000 || undefined, 5000);
 * ```
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
}

/**
 * Runs the demo's steps; everything started is deferred onto `stack` for the caller to dispose.
 *
 * @example
 * ```ts
 * await using stack = new AsyncDisposableStack();
 * await runDemo({}, stack);
 * ```
 */
export async function runDemo(options: DemoOptions, stack: AsyncDisposableStack): Promise<DemoWorld> {
  const out = new StepPrinter(6, options.write);
  // Something started after an interrupt already cleaned up is stopped at once instead of leaking.
  const own = (stop: () => Promise<unknown> | unknown) => {
    if (stack.disposed) void Promise.resolve(stop()).catch(() => {});
    else stack.defer(async () => void await stop());
    options.signal?.throwIfAborted();
  };
  const dir = await Deno.makeTempDir({ prefix: "edge-demo-" });
  own(() => Deno.remove(dir, { recursive: true }).catch(() => {}));
  out.write(`Edge registry demo (everything lives in ${dir} and on 127.0.0.1)`);

  out.step("Building demo images (real tar+gzip layers, deterministic)");
  const images = await buildDemoImages();
  for (const { repository, tag, image, about } of images) {
    out.detail(
      `${`${repository}:${tag}`.padEnd(18)} ${shortDigest(image.digest)}  ${
        formatBytes(image.layerBytes).padStart(9)
      }  ${about}`,
    );
  }

  out.step("Central registry (the built-in registry, writable mode)");
  const central = await openLocalRegistry(`${dir}/central`);
  const server = await startRegistryServer({ registry: central, mode: "writable", port: 0 });
  own(() => server.close());
  out.detail(`listening on ${server.url}`);
  const seeded = await seedRegistry(new RegistryClient({ baseUrl: server.url }), images);
  for (const { image, bytes, blobs, skipped } of seeded) {
    out.detail(
      `pushed ${`${image.repository}:${image.tag}`.padEnd(18)} ${blobs} blob(s), ${formatBytes(bytes)}${
        skipped ? `; ${skipped} already there (shared base layer)` : ""
      }`,
    );
  }

  out.step("Ground Control (in-process, Deno KV in the demo directory)");
  const controlLog = `${dir}/control.log`;
  const logFile = await Deno.open(controlLog, { create: true, append: true });
  own(() => logFile.close());
  const encoder = new TextEncoder();
  const gc = await startGroundControl({
    listen: "127.0.0.1:0",
    dataPath: `${dir}/control/control.kv`,
    registry: { url: server.url },
    reportIntervalSeconds: 5,
  }, {
    log: (level, message, fields) =>
      logFile.writeSync(encoder.encode(`${JSON.stringify({ level, message, ...fields })}\n`)),
  });
  own(() => gc.close());
  const adminToken = gc.generatedAdminToken!;
  const api = new ControlApi(gc.url, adminToken);
  out.detail(`listening on ${gc.url}  (API description: ${gc.url}/openapi.json)`);
  out.detail(`generated admin token: ${adminToken}`);
  for (const [name, artifacts] of Object.entries(GROUPS)) {
    const group = await api.call<{ state: { artifacts: { repository: string; digest: string }[] } }>(
      "PUT",
      `/api/groups/${name}`,
      { artifacts },
    );
    const list = group.state.artifacts.map((a) => `${a.repository}@${shortDigest(a.digest)}`).join(", ");
    out.detail(`PUT /api/groups/${name}: tags resolved to ${list}`);
  }
  await gc.publisher.idle();
  for (const name of Object.keys(GROUPS)) {
    const { published } = await api.call<{ published: { reference: string; seq: number } }>(
      "GET",
      `/api/groups/${name}`,
    );
    out.detail(`  signed state artifact ${published.reference} (seq ${published.seq})`);
  }
  const created = await api.call<RegistrationTokenResponse>("POST", "/api/satellites", {
    name: SATELLITE,
    groups: Object.keys(GROUPS),
    config: { poll: { intervalSeconds: 2, jitterSeconds: 0 }, reportIntervalSeconds: 5 },
  });
  out.detail(
    `POST /api/satellites: "${created.satellite}" in groups ${
      Object.keys(GROUPS).join(", ")
    }; one-time registration token (expires ${created.expiresAt})`,
  );

  out.step(`Satellite ${SATELLITE} (child process: deno run -A edge/main.ts ... run)`);
  const listen = `127.0.0.1:${freePort()}`;
  const tokenPath = `${dir}/satellite/token`;
  const sat = await startSatelliteProcess({
    dir: `${dir}/satellite`,
    groundControlUrl: gc.url,
    token: created.token,
    listen,
    onEvent: (event) => {
      const d = event.data ?? {};
      if (event.kind === "ztr.registered") {
        out.detail(
          exists(`${tokenPath}.used`)
            ? `registered; its one-time token file is now ${tokenPath}.used (a token works once)`
            : `registered: ${event.message}`,
        );
      } else if (event.kind === "state.accepted") out.detail(`${event.message}, signature verified`);
      else if (event.kind === "sync.start") out.detail(event.message);
      else if (event.kind === "sync.artifact") {
        out.detail(
          `synced ${d.repository}@${shortDigest(String(d.digest))}  ${
            formatBytes(Number(d.bytes))
          } in ${d.ms} ms`,
        );
      } else if (event.level === "error" || event.level === "warn") {
        out.detail(`${event.level}: ${event.message}`);
      }
    },
  });
  own(() => sat.stop());
  out.detail(`config ${sat.configPath}, token file ${sat.tokenPath}, built-in registry on ${listen}`);
  const view = await waitFor(
    `${SATELLITE} to sync and report to Ground Control (see ${sat.logPath})`,
    async () => {
      const exited = await Promise.race([sat.exited, Promise.resolve(undefined)]);
      if (exited !== undefined) {
        throw new Error(
          `the satellite exited with code ${exited}; its log ends:\n${await tailOf(sat.logPath, 15)}`,
        );
      }
      const v = await api.call<SatelliteView>("GET", `/api/satellites/${SATELLITE}`);
      const counts = v.status?.counts;
      return counts && counts.desired > 0 && counts.synced === counts.desired && !v.drift ? v : undefined;
    },
    options.convergeTimeoutMs ?? 45_000,
    options.signal,
  );

  out.step("Fleet status");
  const fleet = await api.call<FleetOverview>("GET", "/api/fleet");
  const counts = Object.entries(fleet.counts).map(([k, n]) => `${k} ${n}`).join(", ");
  out.detail(
    `GET /api/fleet: ${fleet.total} satellite(s): ${counts}; drifted: ${fleet.drifted.length || "none"}`,
  );
  out.detail(
    `GET /api/satellites/${SATELLITE}: ${view.lifecycle}, ${view.status!.counts.synced}/${
      view.status!.counts.desired
    } artifacts synced, device ${view.device?.hostname ?? "?"} (${view.device?.arch ?? "?"}), ` +
      `satellite v${view.status!.version}`,
  );
  out.detail(`on the device, \`satellite status\` says:`);
  out.detail((await sat.cli(["status"])).trimEnd().split("\n").map((l) => `  ${l}`).join("\n"));

  out.step("Pulling from the satellite's local registry");
  const satelliteUrl = `http://${listen}`;
  const method = options.pullWith === "client"
    ? "client"
    : options.pullWith === "ctr" || await ctrAvailable()
    ? "ctr"
    : "client";
  const [web] = images;
  if (method === "ctr") {
    const pulled = await pullWithCtr(listen, web.repository, web.tag);
    out.detail(`$ ${pulled.command}`);
    out.detail(pulled.listing);
    out.detail(
      `pull proof: containerd pulled and unpacked ${listen}/${web.repository}:${web.tag} from the satellite`,
    );
  } else {
    if (options.pullWith !== "client") {
      out.detail("(containerd is not usable here: not installed, or not root; pulling with the OCI client)");
    }
    const client = new RegistryClient({ baseUrl: satelliteUrl });
    for (const { repository, tag } of images) {
      const r = await pullWithClient(client, repository, tag);
      out.detail(
        `pull proof: ${repository}:${tag} ${
          shortDigest(r.digest)
        }: ${r.manifests} manifest(s), ${r.blobs} blob(s), ${formatBytes(r.bytes)}, every digest verified${
          r.platforms.length ? ` (platforms ${r.platforms.join(", ")})` : ""
        }`,
      );
    }
  }

  return {
    dir,
    registryUrl: server.url,
    groundControlUrl: gc.url,
    adminToken,
    satelliteName: SATELLITE,
    satelliteRegistryUrl: satelliteUrl,
    satelliteCli: `deno task satellite ${sat.cliArgs.join(" ")}`,
    logs: [controlLog, sat.logPath],
    seconds: out.elapsed(),
  };
}
