import { equal, ok } from "node:assert/strict";
import { containersWriter } from "./containers.ts";
import { resolveTarget } from "./target.ts";

const target = (upstreamHost: string, localUrl = "http://127.0.0.1:8585") =>
  resolveTarget({ upstreamHost, localUrl, skipVerify: false });

Deno.test("crio/podman: a drop-in with the upstream as location and the local registry as insecure mirror", () => {
  const t = target("harbor.example.com");
  equal(containersWriter.path(t), "/etc/containers/registries.conf.d/50-satellite.conf");
  equal(
    containersWriter.render(null, t),
    `# Written by the edge satellite (satellite mirror-config): the local registry mirrors these registries.

[[registry]]
prefix = "harbor.example.com"
location = "harbor.example.com"

[[registry.mirror]]
location = "127.0.0.1:8585"
insecure = true
`,
  );
});

Deno.test("crio/podman: a plain-HTTP upstream is insecure too; an https local mirror is not", () => {
  const text = containersWriter.render(null, target("http://127.0.0.1:5000", "https://edge.lan:8585"));
  ok(
    text.includes(`[[registry]]\nprefix = "127.0.0.1:5000"\nlocation = "127.0.0.1:5000"\ninsecure = true\n`),
  );
  ok(text.endsWith(`[[registry.mirror]]\nlocation = "edge.lan:8585"\n`));
});

Deno.test("crio/podman: blocks for other upstreams are kept, ours is replaced in place, and it is a fixed point", () => {
  const a = target("harbor.example.com");
  const b = target("docker.io");
  const withA = containersWriter.render(null, a);
  const withBoth = containersWriter.render(withA, b);
  equal(withBoth.match(/\[\[registry\]\]/g)?.length, 2);
  ok(withBoth.includes(`prefix = "harbor.example.com"`) && withBoth.includes(`prefix = "docker.io"`));
  const movedLocal = containersWriter.render(withBoth, target("harbor.example.com", "http://127.0.0.1:9000"));
  equal(movedLocal.match(/\[\[registry\]\]/g)?.length, 2);
  ok(movedLocal.indexOf("127.0.0.1:9000") < movedLocal.indexOf(`prefix = "docker.io"`), "order kept");
  equal(containersWriter.render(movedLocal, b), movedLocal);
  equal(containersWriter.render(withBoth, a), withBoth);
});
