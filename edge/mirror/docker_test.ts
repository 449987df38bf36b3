import { deepStrictEqual, equal, ok, throws } from "node:assert/strict";
import { dockerWriter } from "./docker.ts";
import { resolveTarget } from "./target.ts";

const target = (upstreamHost: string, localUrl = "http://127.0.0.1:8585") =>
  resolveTarget({ upstreamHost, localUrl, skipVerify: false });

Deno.test("docker: Docker Hub gets the local registry as first mirror; other keys and mirrors are kept", () => {
  const existing = JSON.stringify({
    "log-driver": "journald",
    "registry-mirrors": ["https://mirror.gcr.io"],
  });
  const t = target("docker.io");
  const text = dockerWriter.render(existing, t);
  deepStrictEqual(JSON.parse(text), {
    "log-driver": "journald",
    "registry-mirrors": ["http://127.0.0.1:8585", "https://mirror.gcr.io"],
    "insecure-registries": ["127.0.0.1:8585"],
  });
  equal(dockerWriter.render(text, t), text);
  equal(dockerWriter.notes(t).length, 1);
});

Deno.test("docker: another central registry gets no mirror, an explanation, and insecure entries", () => {
  const t = target("http://10.0.0.9:5000");
  const config = JSON.parse(dockerWriter.render(null, t));
  deepStrictEqual(config, { "insecure-registries": ["127.0.0.1:8585", "10.0.0.9:5000"] });
  ok(dockerWriter.notes(t).some((n) => n.includes("Docker Hub only")));
});

Deno.test("docker: a file that already says everything is left byte for byte", () => {
  const existing = `{"registry-mirrors":["http://127.0.0.1:8585"],"insecure-registries":["127.0.0.1:8585"]}`;
  equal(dockerWriter.render(existing, target("docker.io")), existing);
});

Deno.test("docker: invalid JSON or wrong types are errors, never overwritten", () => {
  throws(() => dockerWriter.render("{ nope", target("docker.io")), /not valid JSON/);
  throws(() => dockerWriter.render("[]", target("docker.io")), /JSON object/);
  throws(
    () => dockerWriter.render(`{"registry-mirrors": "x"}`, target("docker.io")),
    /"registry-mirrors" must be/,
  );
});
