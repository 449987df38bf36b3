import { expectStatus, startHarness } from "./testing.ts";

Deno.test("/openapi.json describes every route from the zod schemas; /healthz and /metrics answer", async () => {
  await using h = await startHarness({ noImages: true });
  const doc = expectStatus(await h.request("GET", "/openapi.json"), 200).body;
  const want: [string, string][] = [
    ["/api/groups/{name}", "put"],
    ["/api/groups/{name}", "get"],
    ["/api/groups/{name}", "delete"],
    ["/api/groups", "get"],
    ["/api/groups/sync", "post"],
    ["/api/satellites", "post"],
    ["/api/satellites", "get"],
    ["/api/satellites/{name}", "patch"],
    ["/api/satellites/{name}", "delete"],
    ["/api/satellites/{name}/token", "post"],
    ["/api/fleet", "get"],
    ["/ztr", "post"],
    ["/api/device/status", "post"],
  ];
  for (const [path, method] of want) {
    if (!doc.paths?.[path]?.[method]) {
      throw new Error(`${method.toUpperCase()} ${path} missing from /openapi.json`);
    }
  }
  const ztrBody = doc.paths["/ztr"].post.requestBody.content["application/json"].schema;
  if (!ztrBody.required?.includes("token")) throw new Error(`ZTR body schema: ${JSON.stringify(ztrBody)}`);
  if (!doc.paths["/api/groups/{name}"].put.responses["422"]) throw new Error("422 not described");
  if (!doc.components?.securitySchemes?.adminToken) throw new Error("security scheme");

  expectStatus(await h.request("GET", "/healthz"), 200);
  await h.admin("GET", "/api/groups");
  const metrics = await (await fetch(`${h.gc.url}/metrics`)).text();
  if (
    !/ground_control_http_requests_total\{method="GET",route="\/api\/groups",status="2xx"\} 1/.test(metrics)
  ) {
    throw new Error(`metrics:\n${metrics}`);
  }
});
