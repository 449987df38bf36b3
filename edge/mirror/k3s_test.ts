import { deepStrictEqual, equal, ok, throws } from "node:assert/strict";
import { parse } from "yaml";
import { k3sWriter, rke2Writer } from "./k3s.ts";
import { resolveTarget } from "./target.ts";

const target = (upstreamHost: string, localUrl = "http://127.0.0.1:8585", skipVerify = false) =>
  resolveTarget({ upstreamHost, localUrl, skipVerify });

Deno.test("k3s/rke2: a new registries.yaml lists the local registry as the first endpoint", () => {
  const t = target("harbor.example.com");
  equal(k3sWriter.path(t), "/etc/rancher/k3s/registries.yaml");
  equal(rke2Writer.path(t), "/etc/rancher/rke2/registries.yaml");
  const text = k3sWriter.render(null, t);
  ok(text.startsWith("# Written by the edge satellite"));
  deepStrictEqual(parse(text), {
    mirrors: { "harbor.example.com": { endpoint: ["http://127.0.0.1:8585"] } },
  });
  equal(k3sWriter.render(text, t), text);
});

Deno.test("k3s: a plain-HTTP upstream is listed as the explicit fallback; skip-verify goes to configs", () => {
  const t = target("http://127.0.0.1:5000", "https://127.0.0.1:8585", true);
  deepStrictEqual(parse(k3sWriter.render(null, t)), {
    mirrors: { "127.0.0.1:5000": { endpoint: ["https://127.0.0.1:8585", "http://127.0.0.1:5000"] } },
    configs: { "127.0.0.1:8585": { tls: { insecure_skip_verify: true } } },
  });
});

Deno.test("k3s: merging keeps other mirrors, configs, endpoints and comments", () => {
  const existing = `# site registries
mirrors:
  docker.io:
    endpoint:
      - "https://mirror.gcr.io"
  harbor.example.com:
    endpoint: ["https://cache.site.lan", "http://127.0.0.1:8585/"]
configs:
  harbor.example.com:
    auth:
      username: robot # rotated by hand
      password: secret
`;
  const t = target("harbor.example.com");
  const merged = k3sWriter.render(existing, t);
  ok(merged.includes("# site registries") && merged.includes("# rotated by hand"));
  deepStrictEqual(parse(merged), {
    mirrors: {
      "docker.io": { endpoint: ["https://mirror.gcr.io"] },
      "harbor.example.com": { endpoint: ["http://127.0.0.1:8585", "https://cache.site.lan"] },
    },
    configs: { "harbor.example.com": { auth: { username: "robot", password: "secret" } } },
  });
  equal(k3sWriter.render(merged, t), merged);
});

Deno.test("k3s: invalid YAML or a non-list endpoint is an error", () => {
  throws(() => k3sWriter.render("mirrors: [unclosed", target("docker.io")), /not valid YAML/);
  throws(() => k3sWriter.render("- a\n- b\n", target("docker.io")), /YAML mapping/);
  throws(
    () => k3sWriter.render("mirrors:\n  docker.io:\n    endpoint: 5\n", target("docker.io")),
    /must be a list of URLs/,
  );
});
