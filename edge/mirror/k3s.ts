/**
 * k3s and RKE2: `/etc/rancher/k3s/registries.yaml` (RKE2: `/etc/rancher/rke2/registries.yaml`).
 * `mirrors.<host>.endpoint` lists the local registry first; the upstream's default endpoint
 * (`https://<host>`) is always tried last by k3s, so a plain-HTTP upstream is listed explicitly.
 * An https local registry with a self-signed certificate gets `configs.<local>.tls.insecure_skip_verify`.
 *
 * Existing files are merged through the `yaml` document model: other mirrors, `configs`, other
 * endpoints and comments stay. k3s reads the file at start (restart k3s / rke2-server / rke2-agent).
 *
 * @example
 * ```ts
 * import { k3sWriter } from "./k3s.ts";
 * import { resolveTarget } from "./target.ts";
 * const t = resolveTarget({ localUrl: "http://127.0.0.1:8585", upstreamHost: "harbor.example.com", skipVerify: false });
 * console.log(k3sWriter.render(null, t));
 * ```
 * @module
 */
import { isDeepStrictEqual } from "node:util";
import { parseDocument, Scalar } from "yaml";
import { GENERATED_BY, type MirrorTarget } from "./target.ts";
import type { MirrorWriter } from "./writer.ts";

/** Host keys contain `:` and dots; quoting them reads unambiguously in every YAML parser. */
function quotedKey(host: string): Scalar {
  const key = new Scalar(host);
  key.type = Scalar.QUOTE_DOUBLE;
  return key;
}

function render(existing: string | null, target: MirrorTarget, file: string): string {
  const doc = parseDocument(existing ?? "");
  if (existing === null) doc.commentBefore = ` ${GENERATED_BY}`;
  if (doc.errors.length > 0) {
    throw new Error(`${file} is not valid YAML (${doc.errors[0].message}); fix or remove it first`);
  }
  const before = doc.toJS() ?? {};
  if (typeof before !== "object" || Array.isArray(before)) {
    throw new Error(`${file} must be a YAML mapping; fix or remove it first`);
  }
  const current = doc.getIn(["mirrors", target.host, "endpoint"]);
  const endpoints: unknown = current && typeof current === "object" && "toJSON" in current
    ? (current as { toJSON(): unknown }).toJSON()
    : current ?? [];
  if (!Array.isArray(endpoints) || endpoints.some((e) => typeof e !== "string")) {
    throw new Error(`${file}: mirrors."${target.host}".endpoint must be a list of URLs; fix it first`);
  }
  const list = [
    target.localUrl,
    ...(endpoints as string[]).filter((e) => e.replace(/\/+$/, "") !== target.localUrl),
  ];
  if (target.upstreamPlainHttp && !list.includes(target.upstreamUrl)) list.push(target.upstreamUrl);
  doc.setIn(["mirrors", quotedKey(target.host), "endpoint"], doc.createNode(list, { flow: false }));
  if (target.skipVerify) {
    doc.setIn(["configs", quotedKey(target.localHost), "tls", "insecure_skip_verify"], true);
  }
  if (existing !== null && isDeepStrictEqual(before, doc.toJS())) return existing;
  return doc.toString({ lineWidth: 0 });
}

function writer(distribution: "k3s" | "rke2"): MirrorWriter {
  const path = `/etc/rancher/${distribution}/registries.yaml`;
  return {
    path: () => path,
    render: (existing, target) => render(existing, target, path),
    notes: () => [
      `${distribution} reads registries.yaml at start: systemctl restart ${
        distribution === "k3s" ? "k3s (or k3s-agent)" : "rke2-server (or rke2-agent)"
      }.`,
    ],
  };
}

/**
 * The k3s writer.
 *
 * @example
 * ```ts
 * k3sWriter.path(t); // "/etc/rancher/k3s/registries.yaml"
 * ```
 */
export const k3sWriter: MirrorWriter = writer("k3s");

/**
 * The RKE2 writer.
 *
 * @example
 * ```ts
 * rke2Writer.path(t); // "/etc/rancher/rke2/registries.yaml"
 * ```
 */
export const rke2Writer: MirrorWriter = writer("rke2");
