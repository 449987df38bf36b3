import { ValidationError } from "../schemas/validate.ts";
import { loadConfig, parseFlags } from "./config.ts";

Deno.test("config: env, then flags on top, checked by the schema", () => {
  const cfg = loadConfig(
    {
      GROUND_CONTROL_REGISTRY_URL: "http://127.0.0.1:5000",
      GROUND_CONTROL_NAMESPACE: "edge",
      GROUND_CONTROL_REPORT_INTERVAL: "15",
      GROUND_CONTROL_ADMIN_TOKEN: "an-admin-token-from-env",
      GROUND_CONTROL_PULL_USERNAME: "puller",
      GROUND_CONTROL_PULL_PASSWORD: "pw",
    },
    ["--listen", "0.0.0.0:9000", "--data=/tmp/x.kv", "--namespace", "fleet"],
  );
  if (cfg.listen !== "0.0.0.0:9000" || cfg.dataPath !== "/tmp/x.kv") throw new Error("flags");
  if (cfg.registry.namespace !== "fleet") throw new Error("flag must win over env");
  if (cfg.reportIntervalSeconds !== 15 || cfg.adminToken !== "an-admin-token-from-env") {
    throw new Error("env");
  }
  if (cfg.pullCredentials?.username !== "puller") throw new Error("pull credentials");
});

Deno.test("config: bad values and unknown flags name the setting", () => {
  const cases: [Record<string, string>, string[], string][] = [
    [{}, [], "registry"],
    [{ GROUND_CONTROL_REGISTRY_URL: "ftp://x" }, [], "registry.url"],
    [
      { GROUND_CONTROL_REGISTRY_URL: "http://r:5000" },
      ["--report-interval", "soon"],
      "reportIntervalSeconds",
    ],
    [{ GROUND_CONTROL_REGISTRY_URL: "http://r:5000" }, ["--listen", "nowhere"], "listen"],
    [{ GROUND_CONTROL_REGISTRY_URL: "http://r:5000", GROUND_CONTROL_ADMIN_TOKEN: "short" }, [], "adminToken"],
    [{ GROUND_CONTROL_REGISTRY_URL: "http://r:5000" }, ["--namespace", "Bad/NS"], "registry.namespace"],
    [{ GROUND_CONTROL_REGISTRY_URL: "http://r:5000" }, ["--pull-username", "u"], "pullCredentials.password"],
    [{ GROUND_CONTROL_REGISTRY_URL: "http://r:5000" }, ["--frobnicate", "1"], "--frobnicate"],
  ];
  for (const [env, args, path] of cases) {
    try {
      loadConfig(env, args);
      throw new Error(`accepted ${JSON.stringify([env, args])}`);
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      if (!e.issues.some((i) => i.path === path)) throw new Error(`${path} not named: ${e.message}`);
    }
  }
  try {
    parseFlags(["--data"]);
    throw new Error("a flag without value was accepted");
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
  }
});
