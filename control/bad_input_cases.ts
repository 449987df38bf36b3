/**
 * The bad requests of `bad_input_test.ts`, one row per route and mistake: what is sent and which
 * status and issue path it must get.
 *
 * @example
 * ```ts
 * import { badInputRows } from "./bad_input_cases.ts";
 * badInputRows({ v2: "sha256:" + "a".repeat(64), deviceSecret: "s" }).length > 40; // true
 * ```
 * @module
 */
import { ADMIN_TOKEN, statusReport } from "./testing.ts";

/** One bad request and what it must get: a 4xx whose issues name `issue`. */
export interface Row {
  name: string;
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  status: number;
  /** An issue path that must appear ("" = the whole body). */
  issue: string;
}

const bigBody = JSON.stringify({
  artifacts: Array.from({ length: 30_000 }, (_, i) => ({ repository: `library/app-${i}`, tags: ["v1"] })),
});

/**
 * The rows, given a digest that exists under another tag (`v2`) and a registered device's secret.
 *
 * @example
 * ```ts
 * badInputRows({ v2: "sha256:" + "a".repeat(64), deviceSecret: "s" })[0].status; // 400
 * ```
 */
export function badInputRows({ v2, deviceSecret }: { v2: string; deviceSecret: string }): Row[] {
  const device = { authorization: `Bearer ${deviceSecret}` };
  return [
    {
      name: "group name grammar",
      method: "PUT",
      path: "/api/groups/Bad_Name",
      body: { artifacts: [] },
      status: 400,
      issue: "path.name",
    },
    {
      name: "artifacts not a list",
      method: "PUT",
      path: "/api/groups/g",
      body: { artifacts: "x" },
      status: 400,
      issue: "artifacts",
    },
    {
      name: "bad repository name",
      method: "PUT",
      path: "/api/groups/g",
      body: { artifacts: [{ repository: "../etc/passwd", tags: ["v1"] }] },
      status: 400,
      issue: "artifacts[0].repository",
    },
    {
      name: "neither tags nor digest",
      method: "PUT",
      path: "/api/groups/g",
      body: { artifacts: [{ repository: "library/app" }] },
      status: 400,
      issue: "artifacts[0].tags",
    },
    {
      name: "malformed digest",
      method: "PUT",
      path: "/api/groups/g",
      body: { artifacts: [{ repository: "library/app", digest: "sha256:xyz" }] },
      status: 400,
      issue: "artifacts[0].digest",
    },
    {
      name: "bad tag grammar",
      method: "PUT",
      path: "/api/groups/g",
      body: { artifacts: [{ repository: "library/app", tags: [".hidden"] }] },
      status: 400,
      issue: "artifacts[0].tags[0]",
    },
    {
      name: "unknown image",
      method: "PUT",
      path: "/api/groups/g",
      body: {
        artifacts: [{ repository: "library/app", tags: ["v1"] }, {
          repository: "library/nothing",
          tags: ["v1"],
        }],
      },
      status: 422,
      issue: "artifacts[1].tags[0]",
    },
    {
      name: "unknown digest",
      method: "PUT",
      path: "/api/groups/g",
      body: { artifacts: [{ repository: "library/app", digest: "sha256:" + "0".repeat(64) }] },
      status: 422,
      issue: "artifacts[0].digest",
    },
    {
      name: "tag and digest disagree",
      method: "PUT",
      path: "/api/groups/g",
      body: { artifacts: [{ repository: "library/app", tags: ["v1"], digest: v2 }] },
      status: 422,
      issue: "artifacts[0].tags[0]",
    },
    {
      name: "reserved group name",
      method: "PUT",
      path: "/api/groups/sync",
      body: { artifacts: [] },
      status: 400,
      issue: "path.name",
    },
    {
      name: "malformed JSON",
      method: "PUT",
      path: "/api/groups/g",
      body: '{"artifacts": [',
      status: 400,
      issue: "",
    },
    { name: "JSON null body", method: "PUT", path: "/api/groups/g", body: "null", status: 400, issue: "" },
    { name: "oversized body", method: "PUT", path: "/api/groups/g", body: bigBody, status: 413, issue: "" },
    {
      name: "not JSON",
      method: "PUT",
      path: "/api/groups/g",
      body: "artifacts=1",
      headers: { "content-type": "text/plain" },
      status: 415,
      issue: "header.content-type",
    },
    {
      name: "sync without group",
      method: "POST",
      path: "/api/groups/sync",
      body: { registry: "r", artifacts: [] },
      status: 400,
      issue: "group",
    },
    {
      name: "sync with a bad repository",
      method: "POST",
      path: "/api/groups/sync",
      body: { group: "g", registry: "r", artifacts: [{ repository: "Upper/Case", digest: v2 }] },
      status: 400,
      issue: "artifacts[0].repository",
    },
    { name: "get unknown group", method: "GET", path: "/api/groups/nope", status: 404, issue: "path.name" },
    {
      name: "delete unknown group",
      method: "DELETE",
      path: "/api/groups/nope",
      status: 404,
      issue: "path.name",
    },
    {
      name: "delete group in use",
      method: "DELETE",
      path: "/api/groups/stores",
      status: 409,
      issue: "path.name",
    },
    {
      name: "satellite name type",
      method: "POST",
      path: "/api/satellites",
      body: { name: 5 },
      status: 400,
      issue: "name",
    },
    {
      name: "satellite name grammar",
      method: "POST",
      path: "/api/satellites",
      body: { name: "Shop 1" },
      status: 400,
      issue: "name",
    },
    {
      name: "unknown group for satellite",
      method: "POST",
      path: "/api/satellites",
      body: { name: "s2", groups: ["stores", "ghost"] },
      status: 422,
      issue: "groups[1]",
    },
    {
      name: "groups not a list",
      method: "POST",
      path: "/api/satellites",
      body: { name: "s2", groups: "stores" },
      status: 400,
      issue: "groups",
    },
    {
      name: "bad OTA config",
      method: "POST",
      path: "/api/satellites",
      body: { name: "s2", config: { logLevel: "loud" } },
      status: 400,
      issue: "config.logLevel",
    },
    {
      name: "duplicate satellite",
      method: "POST",
      path: "/api/satellites",
      body: { name: "shop-1" },
      status: 409,
      issue: "name",
    },
    {
      name: "bad lifecycle filter",
      method: "GET",
      path: "/api/satellites?lifecycle=sleepy",
      status: 400,
      issue: "query.lifecycle",
    },
    {
      name: "get unknown satellite",
      method: "GET",
      path: "/api/satellites/nope",
      status: 404,
      issue: "path.name",
    },
    {
      name: "patch unknown satellite",
      method: "PATCH",
      path: "/api/satellites/nope",
      body: { groups: [] },
      status: 404,
      issue: "path.name",
    },
    {
      name: "empty patch",
      method: "PATCH",
      path: "/api/satellites/shop-1",
      body: {},
      status: 400,
      issue: "groups",
    },
    {
      name: "patch config out of range",
      method: "PATCH",
      path: "/api/satellites/shop-1",
      body: { config: { concurrency: 0 } },
      status: 400,
      issue: "config.concurrency",
    },
    {
      name: "revoke bad name",
      method: "DELETE",
      path: "/api/satellites/NOPE!",
      status: 400,
      issue: "path.name",
    },
    {
      name: "token for unknown",
      method: "POST",
      path: "/api/satellites/nope/token",
      status: 404,
      issue: "path.name",
    },
    {
      name: "ztr without token",
      method: "POST",
      path: "/ztr",
      body: {},
      headers: {},
      status: 400,
      issue: "token",
    },
    {
      name: "ztr token type",
      method: "POST",
      path: "/ztr",
      body: { token: 12 },
      headers: {},
      status: 400,
      issue: "token",
    },
    {
      name: "ztr short token",
      method: "POST",
      path: "/ztr",
      body: { token: "abc" },
      headers: {},
      status: 400,
      issue: "token",
    },
    {
      name: "ztr bad device info",
      method: "POST",
      path: "/ztr",
      body: { token: "t".repeat(43), device: { hostname: 7 } },
      headers: {},
      status: 400,
      issue: "device.hostname",
    },
    {
      name: "ztr unknown token",
      method: "POST",
      path: "/ztr",
      body: { token: "t".repeat(43) },
      headers: {},
      status: 401,
      issue: "token",
    },
    {
      name: "ztr malformed JSON",
      method: "POST",
      path: "/ztr",
      body: "[",
      headers: {},
      status: 400,
      issue: "",
    },
    {
      name: "status without secret",
      method: "POST",
      path: "/api/device/status",
      body: statusReport("shop-1"),
      headers: {},
      status: 401,
      issue: "authorization",
    },
    {
      name: "status with an admin token",
      method: "POST",
      path: "/api/device/status",
      body: statusReport("shop-1"),
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      status: 401,
      issue: "authorization",
    },
    {
      name: "status missing fields",
      method: "POST",
      path: "/api/device/status",
      body: { satellite: "shop-1" },
      headers: device,
      status: 400,
      issue: "reportedAt",
    },
    {
      name: "status bad applied digest",
      method: "POST",
      path: "/api/device/status",
      body: statusReport("shop-1", { groups: { stores: { digest: "nope", seq: 1 } } }),
      headers: device,
      status: 400,
      issue: "applied.groups.stores.digest",
    },
    {
      name: "status for another satellite",
      method: "POST",
      path: "/api/device/status",
      body: statusReport("shop-2"),
      headers: device,
      status: 403,
      issue: "satellite",
    },
    {
      name: "admin route without token",
      method: "GET",
      path: "/api/fleet",
      headers: {},
      status: 401,
      issue: "authorization",
    },
    {
      name: "admin route with a device secret",
      method: "GET",
      path: "/api/groups",
      headers: device,
      status: 401,
      issue: "authorization",
    },
    {
      name: "admin route with a bad scheme",
      method: "GET",
      path: "/api/satellites",
      headers: { authorization: `Basic ${btoa("admin:admin")}` },
      status: 401,
      issue: "authorization",
    },
    { name: "unknown route", method: "GET", path: "/api/nothing-here", status: 404, issue: "" },
  ];
}
