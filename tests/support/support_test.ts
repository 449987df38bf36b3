import { startDistribution } from "./distribution.ts";
import { buildImage, buildIndex, pushImages, skopeoInspectRaw } from "./images.ts";

Deno.test("fixture images push to a real docker-registry and come back byte-identical", async () => {
  await using reg = await startDistribution({ auth: { username: "alice", password: "s3cret" } });
  const amd = await buildImage({
    seed: "s1",
    layers: [{ files: { "etc/hello": "hi" } }, { randomBytes: 4096 }],
  });
  const arm = await buildImage({
    seed: "s2",
    layers: [{ randomBytes: 2048 }],
    platform: { os: "linux", architecture: "arm64" },
  });
  const index = buildIndex([[amd, { os: "linux", architecture: "amd64" }], [arm, {
    os: "linux",
    architecture: "arm64",
  }]]);
  await pushImages(reg.host, [{ repository: "demo/multi", tag: "v1", image: index }], {
    destCreds: "alice:s3cret",
  });
  const raw = await skopeoInspectRaw(`docker://${reg.host}/demo/multi:v1`, "alice:s3cret");
  if (new TextDecoder().decode(raw) !== new TextDecoder().decode(index.manifest)) {
    throw new Error("manifest changed");
  }
});
