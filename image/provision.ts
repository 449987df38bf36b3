/**
 * Per-device provisioning: `deno task provision -- --image TAR --token T --ground-control URL
 * [--out TAR]` writes one device's registration token (`/boot/firmware/satellite/token`, mode 0600)
 * and Ground Control URL (`groundControlUrl` in `/etc/satellite/config.json`) into an appliance image
 * built by `image/build.ts`. The tarball is rewritten entry by entry (streamed, so the 90 MB runtime
 * never sits in memory), into `--out` or in place; a failure leaves the input untouched.
 *
 * @example
 * ```ts
 * import { provisionImage } from "./provision.ts";
 * await provisionImage({
 *   image: "dist/satellite-arm64.tar.gz",
 *   token: "q0dWm3Yw2b5Vq8aYl1Xz9rTt4uJkLpOs",
 *   groundControlUrl: "https://gc.example.com",
 *   out: "/tmp/shop-001.tar.gz",
 * });
 * ```
 * @module
 */
import { dirname } from "node:path";
import { parseCliFlags } from "./cli_args.ts";
import { z } from "zod";
import { RegistrationToken } from "../schemas/registration.ts";
import { SatelliteConfig } from "../schemas/satellite_config.ts";
import { parseJsonOrThrow, parseOrThrow } from "../schemas/validate.ts";
import { sha256Digest } from "../oci/digest.ts";
import { LAYOUT } from "./layout.ts";
import { readTarGz, safeEntryPath, TarGzWriter } from "./tarball.ts";

/**
 * What provisioning needs, validated before the image is touched.
 *
 * @example
 * ```ts
 * ProvisionInput.parse({ image: "a.tar.gz", token: "t".repeat(32), groundControlUrl: "https://gc.example.com" });
 * ```
 */
export const ProvisionInput = z.object({
  image: z.string().min(1, "give the image tarball, e.g. --image dist/satellite-arm64.tar.gz"),
  token: RegistrationToken,
  groundControlUrl: SatelliteConfig.shape.groundControlUrl.unwrap(),
  out: z.string().min(1).optional(),
});
/** Provisioning input. */
export type ProvisionInput = z.infer<typeof ProvisionInput>;

/** What {@linkcode provisionImage} wrote. */
export interface ProvisionedImage {
  /** The provisioned tarball. */
  path: string;
  /** sha256 of the token (the token itself is never printed). */
  tokenDigest: string;
  /** True when the image already carried a token, now replaced. */
  replacedToken: boolean;
}

/** The config with `groundControlUrl` set, validated against {@linkcode SatelliteConfig}. */
function withGroundControl(configText: string, url: string): string {
  const document = parseJsonOrThrow(z.record(z.string(), z.unknown()), configText, LAYOUT.satelliteConfig);
  const next = { ...document, groundControlUrl: url };
  parseOrThrow(SatelliteConfig, next, `${LAYOUT.satelliteConfig} after provisioning`);
  return JSON.stringify(next, null, 2) + "\n";
}

/**
 * Writes a device's token and Ground Control URL into an appliance image.
 *
 * @example
 * ```ts
 * const r = await provisionImage({
 *   image: "img.tar.gz", token: "t".repeat(32), groundControlUrl: "http://127.0.0.1:8080",
 * });
 * ```
 */
export async function provisionImage(input: ProvisionInput): Promise<ProvisionedImage> {
  const { image, token, groundControlUrl, out } = parseOrThrow(ProvisionInput, input, "provisioning input");
  const path = out ?? image;
  await Deno.mkdir(dirname(path) || ".", { recursive: true });
  const tokenBytes = new TextEncoder().encode(`${token}\n`);
  let sawConfig = false;
  let sawBootDir = false;
  let replacedToken = false;
  await TarGzWriter.writeAtomically(path, async (writer) => {
    for await (const entry of readTarGz(image)) {
      const name = safeEntryPath(entry.header.name);
      if (name === LAYOUT.satelliteConfig) {
        const text = await new Response(entry.body).text();
        const content = new TextEncoder().encode(withGroundControl(text, groundControlUrl));
        await writer.entry({ ...entry.header, size: content.byteLength }, content);
        sawConfig = true;
      } else if (name === LAYOUT.token) {
        await entry.body.cancel();
        await writer.entry(
          { ...entry.header, type: "file", size: tokenBytes.byteLength, mode: 0o600 },
          tokenBytes,
        );
        replacedToken = true;
      } else {
        if (name === LAYOUT.bootDir && entry.header.type === "directory") sawBootDir = true;
        await writer.entry(entry.header, entry.body);
      }
    }
    if (!sawConfig) {
      throw new Error(
        `${image} is not an appliance image: it has no ${LAYOUT.satelliteConfig} (build it with deno task image)`,
      );
    }
    if (!replacedToken) {
      if (!sawBootDir) {
        for (const dir of ["boot/", "boot/firmware/", `${LAYOUT.bootDir}/`]) {
          await writer.directory(dir, 0o700);
        }
      }
      await writer.file(LAYOUT.token, tokenBytes, 0o600);
    }
  });
  return { path, tokenDigest: sha256Digest(token), replacedToken };
}

if (import.meta.main) {
  const values = parseCliFlags(
    Deno.args,
    {
      image: { type: "string" },
      token: { type: "string" },
      "token-file": { type: "string" },
      "ground-control": { type: "string" },
      out: { type: "string" },
    },
    "usage: deno task provision -- --image TAR (--token T | --token-file FILE) --ground-control URL [--out TAR]",
  );
  try {
    // A token file keeps the token out of shell history and process listings.
    const token = values["token-file"]
      ? (await Deno.readTextFile(values["token-file"])).trim()
      : values.token;
    const result = await provisionImage(parseOrThrow(ProvisionInput, {
      image: values.image ?? "",
      token: token ?? "",
      groundControlUrl: values["ground-control"] ?? "",
      ...(values.out ? { out: values.out } : {}),
    }, "provisioning input (--image, --token, --ground-control, --out)"));
    console.log(
      `provisioned ${result.path}: token ${result.tokenDigest.slice(0, 19)}… ` +
        `${result.replacedToken ? "(replaced the previous one) " : ""}-> /${LAYOUT.token}, ` +
        `groundControlUrl -> /${LAYOUT.satelliteConfig}`,
    );
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
