import { equal, ok, rejects } from "node:assert/strict";
import { ValidationError } from "../schemas/validate.ts";
import { Authenticator } from "./auth.ts";
import { OciError } from "./errors.ts";

/** A real token server on loopback that answers with `respond` and counts requests. */
function tokenServer(respond: (params: URLSearchParams, auth: string | null) => Response) {
  const requests: URLSearchParams[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const params = new URL(req.url).searchParams;
    requests.push(params);
    return respond(params, req.headers.get("authorization"));
  });
  return { realm: `http://127.0.0.1:${server.addr.port}/token`, requests, server };
}

Deno.test("bearer: token fetched for the challenge, cached per scope set until near expiry", async () => {
  let n = 0;
  const ts = tokenServer(() =>
    Response.json(n++ % 2 ? { access_token: `t${n}`, expires_in: 100 } : { token: `t${n}` })
  );
  try {
    let now = 1_000_000;
    const auth = new Authenticator({ credentials: { username: "u", password: "p" }, now: () => now });
    equal(await auth.authorization(["repository:a:pull"]), undefined, "anonymous until challenged");
    const challenge = `Bearer realm="${ts.realm}",service="reg",scope="repository:a:pull"`;
    ok(await auth.onUnauthorized(challenge, ["repository:a:pull"], undefined));
    equal(auth.scheme, "bearer");
    equal(ts.requests[0].get("service"), "reg");
    equal(ts.requests[0].getAll("scope").join(" "), "repository:a:pull");
    equal(await auth.authorization(["repository:a:pull"]), "Bearer t1");
    equal(await auth.authorization(["repository:a:pull"]), "Bearer t1");
    equal(auth.tokenRequests, 1);
    // Another scope set: its own token (access_token field accepted).
    equal(await auth.authorization(["repository:b:pull", "repository:b:pull"]), "Bearer t2");
    equal(ts.requests[1].getAll("scope").join(" "), "repository:b:pull");
    // Default lifetime 60 s minus margin: still cached at +50 s, refetched at +59 s.
    now += 50_000;
    equal(await auth.authorization(["repository:a:pull"]), "Bearer t1");
    now += 9_000;
    equal(await auth.authorization(["repository:a:pull"]), "Bearer t3");
    equal(auth.tokenRequests, 3);
  } finally {
    await ts.server.shutdown();
  }
});

Deno.test("bearer: concurrent requests share one token fetch; credentials go to the realm", async () => {
  const ts = tokenServer((_, auth) =>
    auth === `Basic ${btoa("u:p")}` ? Response.json({ token: "x" }) : new Response("", { status: 401 })
  );
  try {
    const auth = new Authenticator({ credentials: { username: "u", password: "p" } });
    await auth.onUnauthorized(`Bearer realm="${ts.realm}"`, ["repository:a:pull"], undefined);
    const scopes = ["repository:c:pull"];
    const all = await Promise.all([1, 2, 3].map(() => auth.authorization(scopes)));
    ok(all.every((v) => v === "Bearer x"));
    equal(auth.tokenRequests, 2);
    const anonymous = new Authenticator({});
    await rejects(
      anonymous.onUnauthorized(`Bearer realm="${ts.realm}"`, ["repository:a:pull"], undefined),
      (e) => {
        ok(
          e instanceof OciError && e.code === "UNAUTHORIZED" &&
            /no credentials were configured/.test(e.message),
        );
        return true;
      },
    );
  } finally {
    await ts.server.shutdown();
  }
});

Deno.test("bearer: a token response without a token is a validation error naming the field", async () => {
  const ts = tokenServer(() => Response.json({ expires_in: 10 }));
  try {
    const auth = new Authenticator({});
    await rejects(
      auth.onUnauthorized(`Bearer realm="${ts.realm}"`, ["repository:a:pull"], undefined),
      (e) => {
        ok(e instanceof ValidationError && e.issues[0].path === "token", String(e));
        return true;
      },
    );
  } finally {
    await ts.server.shutdown();
  }
});

Deno.test("basic: used after a Basic challenge when credentials exist, not retried when rejected", async () => {
  const auth = new Authenticator({ credentials: { username: "ü", password: "p:w" } });
  ok(await auth.onUnauthorized('Basic realm="r"', [], undefined));
  const header = await auth.authorization([]);
  equal(header, `Basic ${btoa(String.fromCharCode(...new TextEncoder().encode("ü:p:w")))}`);
  ok(!await auth.onUnauthorized('Basic realm="r"', [], header), "the same credentials will not work twice");
  ok(!await new Authenticator({}).onUnauthorized('Basic realm="r"', [], undefined), "nothing to offer");
  await rejects(
    new Authenticator({}).onUnauthorized('Bearer realm="file:///etc/passwd"', [], undefined),
    /http\(s\) URL/,
  );
});
