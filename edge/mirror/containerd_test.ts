import { equal, ok } from "node:assert/strict";
import { containerdWriter } from "./containerd.ts";
import { resolveTarget } from "./target.ts";

const target = (upstreamHost: string, localUrl = "http://127.0.0.1:8585", skipVerify = false) =>
  resolveTarget({ upstreamHost, localUrl, skipVerify });

Deno.test("containerd: a new hosts.toml puts the local registry first and the upstream as server", () => {
  const t = target("harbor.example.com");
  equal(containerdWriter.path(t), "/etc/containerd/certs.d/harbor.example.com/hosts.toml");
  equal(
    containerdWriter.render(null, t),
    `# Written by the edge satellite (satellite mirror-config): pulls of harbor.example.com try the local registry first.
server = "https://harbor.example.com"

[host."http://127.0.0.1:8585"]
  capabilities = ["pull", "resolve"]
`,
  );
});

Deno.test("containerd: plain-HTTP upstream with a port, Docker Hub, and a self-signed https local registry", () => {
  const plain = target("http://127.0.0.1:5000");
  equal(containerdWriter.path(plain), "/etc/containerd/certs.d/127.0.0.1:5000/hosts.toml");
  ok(containerdWriter.render(null, plain).includes(`server = "http://127.0.0.1:5000"\n`));
  const hub = target("index.docker.io");
  equal(containerdWriter.path(hub), "/etc/containerd/certs.d/docker.io/hosts.toml");
  ok(containerdWriter.render(null, hub).includes(`server = "https://registry-1.docker.io"\n`));
  const tls = containerdWriter.render(null, target("harbor.example.com", "https://10.0.0.5:8585", true));
  ok(
    tls.includes(
      `[host."https://10.0.0.5:8585"]\n  capabilities = ["pull", "resolve"]\n  skip_verify = true\n`,
    ),
  );
});

Deno.test("containerd: merging keeps the operator's server, hosts, comments and subtables; ours goes first", () => {
  const existing = `# site mirror config
server = "https://harbor.example.com:443"
dial_timeout = "2s"

[host."https://cache.site.lan"]
  capabilities = ["pull"]
  ca = "/etc/certs/site.pem"

[host."https://cache.site.lan".header]
  x-site = "a"
`;
  const t = target("harbor.example.com");
  const merged = containerdWriter.render(existing, t);
  equal(
    merged,
    `# site mirror config
server = "https://harbor.example.com:443"
dial_timeout = "2s"

[host."http://127.0.0.1:8585"]
  capabilities = ["pull", "resolve"]

[host."https://cache.site.lan"]
  capabilities = ["pull"]
  ca = "/etc/certs/site.pem"

[host."https://cache.site.lan".header]
  x-site = "a"
`,
  );
  equal(containerdWriter.render(merged, t), merged, "a second render changes nothing");
});

Deno.test("containerd: our previous table is replaced, not duplicated", () => {
  const t = target("harbor.example.com", "https://127.0.0.1:8585", true);
  const first = containerdWriter.render(null, t);
  const second = containerdWriter.render(
    first,
    target("harbor.example.com", "https://127.0.0.1:8585/", false),
  );
  equal(second.match(/\[host\."https:\/\/127\.0\.0\.1:8585"\]/g)?.length, 1);
  ok(!second.includes("skip_verify"));
});
