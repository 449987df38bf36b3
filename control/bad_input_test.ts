import { ApiError } from "../schemas/control.ts";
import { badInputRows } from "./bad_input_cases.ts";
import { ADMIN_TOKEN, expectStatus, startHarness } from "./testing.ts";

Deno.test("bad input to every route gets a JSON 4xx naming the field, never a 500", async () => {
  await using h = await startHarness();
  const v2 = h.images["library/app:v2"].digest;
  expectStatus(
    await h.admin("PUT", "/api/groups/stores", { artifacts: [{ repository: "library/app", tags: ["v1"] }] }),
    200,
  );
  const { token } =
    expectStatus(await h.admin("POST", "/api/satellites", { name: "shop-1", groups: ["stores"] }), 201)
      .body;
  const { deviceSecret } = expectStatus(await h.request("POST", "/ztr", { token }), 200).body;

  const rows = badInputRows({ v2, deviceSecret });

  const failures: string[] = [];
  for (const row of rows) {
    const headers = row.headers ?? { authorization: `Bearer ${ADMIN_TOKEN}` };
    const answer = await h.request(row.method, row.path, row.body, headers);
    const parsed = ApiError.safeParse(answer.body);
    const paths = parsed.success ? parsed.data.error.issues.map((i) => i.path) : [];
    if (answer.status !== row.status || !parsed.success || !paths.includes(row.issue)) {
      failures.push(
        `${row.name}: ${row.method} ${row.path} -> ${answer.status} ${JSON.stringify(answer.body)}`,
      );
    }
  }
  if (failures.length) {
    throw new Error(`${failures.length} of ${rows.length} rows failed:\n${failures.join("\n")}`);
  }
  // Nothing above changed anything.
  const groups = expectStatus(await h.admin("GET", "/api/groups"), 200).body.groups;
  if (groups.length !== 1) {
    throw new Error(`bad input created groups: ${groups.map((g: { name: string }) => g.name)}`);
  }
});

Deno.test("a streamed (chunked) oversized body is cut off with a JSON 413", async () => {
  await using h = await startHarness({ noImages: true });
  const chunk = new TextEncoder().encode(" ".repeat(64 * 1024));
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= 2 * 1024 * 1024) return controller.close();
      sent += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  const res = await fetch(`${h.gc.url}/api/groups/g`, {
    method: "PUT",
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body,
  });
  const answer = ApiError.parse(await res.json());
  if (res.status !== 413 || answer.error.code !== "body_too_large") {
    throw new Error(`${res.status} ${JSON.stringify(answer)}`);
  }
});
