import { deepStrictEqual, equal, match, ok, rejects } from "node:assert/strict";
import { join } from "node:path";
import { RegistrationToken } from "../schemas/registration.ts";
import { SatelliteConfig } from "../schemas/satellite_config.ts";
import { parseJsonOrThrow, ValidationError } from "../schemas/validate.ts";
import { buildImage } from "./build.ts";
import { defaultApplianceConfig, LAYOUT } from "./layout.ts";
import { provisionImage } from "./provision.ts";
import { readTarGz, TarGzWriter, unpackImage } from "./tarball.ts";
import { bundledTestProgram, zotStandIn } from "./test_support.ts";

function newToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

async function entryNames(tar: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of readTarGz(tar)) {
    names.push(e.header.name);
    await e.body.cancel();
  }
  return names;
}

/** A small image with the appliance's config and boot directory (provisioning needs no more). */
async function smallImage(dir: string, name: string): Promise<string> {
  const path = join(dir, name);
  const w = await TarGzWriter.create(path);
  for (const d of ["etc/", "etc/satellite/", "boot/", "boot/firmware/"]) await w.directory(d);
  await w.directory(`${LAYOUT.bootDir}/`, 0o700);
  await w.file(LAYOUT.satelliteConfig, JSON.stringify(defaultApplianceConfig({ withZot: false })));
  await w.close();
  return path;
}

/** One real amd64 image shared by the tests in this file (built once). */
let imagePromise: Promise<{ dir: string; image: string }> | undefined;
function sharedImage(): Promise<{ dir: string; image: string }> {
  imagePromise ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "provision-" });
    const satelliteJs = await bundledTestProgram(dir);
    const { path } = await buildImage({
      arch: "amd64",
      zot: await zotStandIn("amd64", dir),
      outDir: dir,
      satelliteJs,
    });
    return { dir, image: path };
  })();
  return imagePromise;
}

Deno.test("provision then unpack: the token file (0600) and the config with groundControlUrl parse", async () => {
  const { dir, image } = await sharedImage();
  const token = newToken();
  const out = join(dir, "device-1.tar.gz");
  const result = await provisionImage({ image, token, groundControlUrl: "https://gc.example.com", out });
  equal(result.path, out);
  equal(result.replacedToken, false);

  const root = join(dir, "device-1");
  await unpackImage(out, root);
  const tokenPath = join(root, LAYOUT.token);
  equal((await Deno.stat(tokenPath)).mode! & 0o777, 0o600);
  equal(RegistrationToken.parse((await Deno.readTextFile(tokenPath)).trim()), token);
  const config = parseJsonOrThrow(
    SatelliteConfig,
    await Deno.readTextFile(join(root, LAYOUT.satelliteConfig)),
    "c",
  );
  equal(config.groundControlUrl, "https://gc.example.com");
  equal(config.localRegistry.mode, "external");
  ok(config.tokenFiles.includes(`/${LAYOUT.token}`));

  // Everything else is carried over unchanged, in order, with the token appended.
  const before = await entryNames(image);
  deepStrictEqual(await entryNames(out), [...before, LAYOUT.token]);
  deepStrictEqual(await Deno.readFile(join(root, LAYOUT.zot)), await Deno.readFile("/usr/bin/true"));
  equal((await Deno.stat(join(root, LAYOUT.deno))).mode! & 0o777, 0o755);
  // The source image is untouched (no token in it).
  ok(!before.includes(LAYOUT.token));
});

Deno.test("re-provisioning in place replaces the token and the URL", async () => {
  const { dir } = await sharedImage();
  const copy = await smallImage(dir, "device-2.tar.gz");
  await provisionImage({ image: copy, token: newToken(), groundControlUrl: "http://10.0.0.1:8080" });
  const second = newToken();
  const r = await provisionImage({ image: copy, token: second, groundControlUrl: "https://gc2.example.com" });
  equal(r.path, copy);
  equal(r.replacedToken, true);
  const names = await entryNames(copy);
  equal(names.filter((n) => n === LAYOUT.token).length, 1);
  const root = join(dir, "device-2");
  await unpackImage(copy, root);
  equal((await Deno.readTextFile(join(root, LAYOUT.token))).trim(), second);
  const config = JSON.parse(await Deno.readTextFile(join(root, LAYOUT.satelliteConfig)));
  equal(config.groundControlUrl, "https://gc2.example.com");
});

Deno.test("bad input is refused before the image is touched, naming the field", async () => {
  const { dir, image } = await sharedImage();
  const before = await Deno.readFile(image);
  const cases: [Record<string, string>, string, RegExp][] = [
    [{ token: "short" }, "token", /at least 22/],
    [{ token: "has spaces and is long enough!!" }, "token", /URL-safe base64/],
    [{ groundControlUrl: "ftp://gc.example.com" }, "groundControlUrl", /http\(s\) URL/],
    [{ groundControlUrl: "not a url" }, "groundControlUrl", /http\(s\) URL/],
    [{ image: "" }, "image", /--image/],
  ];
  for (const [override, field, message] of cases) {
    const input = { image, token: newToken(), groundControlUrl: "https://gc.example.com", ...override };
    await rejects(provisionImage(input), (e: unknown) => {
      ok(e instanceof ValidationError, String(e));
      equal(e.issues[0].path, field);
      match(e.issues[0].message, message);
      return true;
    });
  }
  deepStrictEqual(await Deno.readFile(image), before);
  await rejects(
    provisionImage({
      image: join(dir, "missing.tar.gz"),
      token: newToken(),
      groundControlUrl: "https://g.example",
    }),
    Deno.errors.NotFound,
  );
});

Deno.test("a tarball that is not an appliance image is refused and left as it was", async () => {
  const { dir } = await sharedImage();
  const other = join(dir, "other.tar.gz");
  const w = await TarGzWriter.create(other);
  await w.file("hello.txt", "hi\n");
  await w.close();
  const before = await Deno.readFile(other);
  await rejects(
    provisionImage({ image: other, token: newToken(), groundControlUrl: "https://gc.example.com" }),
    /not an appliance image: it has no etc\/satellite\/config\.json/,
  );
  deepStrictEqual(await Deno.readFile(other), before);
  const leftovers = [];
  for await (const e of Deno.readDir(dir)) if (e.name.includes(".partial")) leftovers.push(e.name);
  deepStrictEqual(leftovers, []);
});

Deno.test("deno task provision: CLI prints no token and exits 1 with the field on bad input", async () => {
  const { dir } = await sharedImage();
  const image = await smallImage(dir, "cli-source.tar.gz");
  const token = newToken();
  const script = new URL("./provision.ts", import.meta.url).pathname;
  const run = async (args: string[]) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", script, ...args],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const d = new TextDecoder();
    return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
  };
  const ok1 = await run([
    "--", // as `deno task provision -- ...` passes it

    "--image",
    image,
    "--token",
    token,
    "--ground-control",
    "https://gc.example.com",
    "--out",
    join(dir, "cli.tar.gz"),
  ]);
  equal(ok1.code, 0, ok1.stderr);
  match(ok1.stdout, /provisioned .*cli\.tar\.gz/);
  equal(ok1.stdout.includes(token), false);
  const bad = await run(["--image", image, "--token", "x", "--ground-control", "gc.example.com"]);
  equal(bad.code, 1);
  match(bad.stderr, /token: must be the registration token/);
  match(bad.stderr, /groundControlUrl: must be an http\(s\) URL/);
});

Deno.test("cleanup: remove the shared provisioning image", async () => {
  const { dir } = await sharedImage();
  await Deno.remove(dir, { recursive: true });
});
