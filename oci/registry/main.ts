/**
 * Runs the built-in registry as its own process (tests, benchmarks, or a standalone central registry):
 *
 *     deno run -A oci/registry/main.ts --root DIR [--port 5000] [--hostname 127.0.0.1] [--mode edge|writable]
 *       [--tls-cert FILE --tls-key FILE]   (basic auth from REGISTRY_USERNAME / REGISTRY_PASSWORD)
 *
 * Prints `listening <url>` on stdout once it accepts connections; SIGTERM/SIGINT stop it.
 *
 * @example
 * ```ts
 * const child = new Deno.Command("deno", { args: ["run", "-A", "oci/registry/main.ts", "--root", "/tmp/r"] }).spawn();
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import { parseOrThrow } from "../../schemas/validate.ts";
import { openLocalRegistry } from "./local.ts";
import { startRegistryServer } from "./server.ts";

const Args = z.object({
  root: z.string().min(1, "--root DIR is required"),
  port: z.coerce.number().int().min(0).max(65535).default(5000),
  hostname: z.string().default("127.0.0.1"),
  mode: z.enum(["edge", "writable"]).default("edge"),
  "tls-cert": z.string().optional(),
  "tls-key": z.string().optional(),
}).refine((a) => !a["tls-cert"] === !a["tls-key"], "--tls-cert and --tls-key go together");

const Env = z.object({
  REGISTRY_USERNAME: z.string().min(1).optional(),
  REGISTRY_PASSWORD: z.string().min(1).optional(),
}).refine(
  (e) => !e.REGISTRY_USERNAME === !e.REGISTRY_PASSWORD,
  "set both REGISTRY_USERNAME and REGISTRY_PASSWORD",
);

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      root: { type: "string" },
      port: { type: "string" },
      hostname: { type: "string" },
      mode: { type: "string" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
    },
  });
  const args = parseOrThrow(Args, values, "command line");
  const env = parseOrThrow(Env, {
    REGISTRY_USERNAME: Deno.env.get("REGISTRY_USERNAME"),
    REGISTRY_PASSWORD: Deno.env.get("REGISTRY_PASSWORD"),
  }, "environment");
  const registry = await openLocalRegistry(args.root);
  const stop = new AbortController();
  const server = await startRegistryServer({
    registry,
    hostname: args.hostname,
    port: args.port,
    mode: args.mode,
    signal: stop.signal,
    ...(env.REGISTRY_USERNAME
      ? { auth: { username: env.REGISTRY_USERNAME, password: env.REGISTRY_PASSWORD! } }
      : {}),
    ...(args["tls-cert"]
      ? {
        tls: {
          cert: await Deno.readTextFile(args["tls-cert"]),
          key: await Deno.readTextFile(args["tls-key"]!),
        },
      }
      : {}),
  });
  for (const signal of ["SIGTERM", "SIGINT"] as const) Deno.addSignalListener(signal, () => stop.abort());
  console.log(`listening ${server.url}`);
}
