import { deepStrictEqual, equal, match, ok, rejects } from "node:assert/strict";
import bcrypt from "bcryptjs";
import { SatelliteConfig } from "../schemas/satellite_config.ts";
import { ValidationError } from "../schemas/validate.ts";
import { ZotConfig, zotConfigFromSatellite, zotConfigFromSatelliteJson } from "./zot_config.ts";

Deno.test("zot listens where the satellite's external registry URL points and stores under its data dir", async () => {
  const sat = SatelliteConfig.parse({
    dataDir: "/data/sat/",
    logLevel: "warn",
    localRegistry: { mode: "external", url: "http://127.0.0.1:5000" },
  });
  const { config, htpasswd } = await zotConfigFromSatellite(sat);
  deepStrictEqual(config, {
    distSpecVersion: "1.1.1",
    storage: { rootDirectory: "/data/sat/zot", dedupe: true, gc: true, gcDelay: "1h", gcInterval: "24h" },
    http: { address: "127.0.0.1", port: "5000" },
    log: { level: "warn" },
  });
  equal(htpasswd, undefined);
  // What we emit round-trips through the schema of Zot's format.
  deepStrictEqual(ZotConfig.parse(JSON.parse(JSON.stringify(config))), config);
});

Deno.test("zot config: default ports, IPv6 hosts, listen override and TLS", async () => {
  const plain = await zotConfigFromSatelliteJson({
    localRegistry: { mode: "external", url: "http://zot.local" },
  });
  equal(plain.config.http.port, "80");
  const v6 = await zotConfigFromSatelliteJson({
    localRegistry: { mode: "external", url: "http://[::1]:5001/" },
  });
  equal(v6.config.http.address, "::1");
  equal(v6.config.http.port, "5001");
  const lan = await zotConfigFromSatelliteJson(
    { localRegistry: { mode: "external", url: "http://127.0.0.1:5000" } },
    { listenAddress: "0.0.0.0" },
  );
  equal(lan.config.http.address, "0.0.0.0");
  const tls = await zotConfigFromSatelliteJson(
    { localRegistry: { mode: "external", url: "https://127.0.0.1" } },
    { tls: { cert: "/etc/zot/tls.crt", key: "/etc/zot/tls.key" } },
  );
  equal(tls.config.http.port, "443");
  deepStrictEqual(tls.config.http.tls, { cert: "/etc/zot/tls.crt", key: "/etc/zot/tls.key" });
});

Deno.test("zot config: satellite credentials become the only writer; anonymous pulls stay open", async () => {
  const { config, htpasswd } = await zotConfigFromSatelliteJson({
    localRegistry: {
      mode: "external",
      url: "http://127.0.0.1:5000",
      auth: { username: "sat", password: "s3cret" },
    },
  }, { bcryptCost: 4 });
  ok(htpasswd);
  const [user, hash] = htpasswd.trim().split(":");
  equal(user, "sat");
  ok(await bcrypt.compare("s3cret", hash));
  equal(await bcrypt.compare("wrong", hash), false);
  deepStrictEqual(config.http.auth, { htpasswd: { path: "/etc/zot/htpasswd" }, failDelay: 1 });
  deepStrictEqual(config.http.accessControl?.repositories["**"], {
    anonymousPolicy: ["read"],
    policies: [{ users: ["sat"], actions: ["read", "create", "update", "delete"] }],
  });
});

Deno.test("zot config: clear errors for builtin mode, https without TLS, paths and bad input", async () => {
  const cases: [unknown, string, RegExp][] = [
    [{}, "localRegistry.mode", /external/],
    [
      { localRegistry: { mode: "external", url: "https://127.0.0.1:5000" } },
      "localRegistry.url",
      /certificate/,
    ],
    [{ localRegistry: { mode: "external", url: "http://127.0.0.1:5000/zot" } }, "localRegistry.url", /path/],
    [{ localRegistry: { mode: "external", url: "ftp://x" } }, "localRegistry.url", /http/],
    [
      { localRegistry: { mode: "external", url: "http://h:1", auth: { username: "a:b", password: "p" } } },
      "localRegistry.auth.username",
      /':'/,
    ],
  ];
  for (const [doc, field, message] of cases) {
    await rejects(zotConfigFromSatelliteJson(doc), (e: unknown) => {
      ok(e instanceof ValidationError, String(e));
      equal(e.issues[0].path, field);
      match(e.issues[0].message, message);
      return true;
    });
  }
});

Deno.test("ZotConfig schema rejects what Zot would not take", () => {
  const good = {
    distSpecVersion: "1.1.1",
    storage: { rootDirectory: "/z", dedupe: true, gc: true },
    http: { address: "127.0.0.1", port: "5000" },
    log: { level: "info" },
  };
  ok(ZotConfig.safeParse(good).success);
  equal(ZotConfig.safeParse({ ...good, http: { address: "a", port: 5000 } }).success, false);
  equal(ZotConfig.safeParse({ ...good, http: { address: "a", port: "70000" } }).success, false);
  equal(ZotConfig.safeParse({ ...good, storage: { ...good.storage, rootDirectory: "rel" } }).success, false);
  equal(ZotConfig.safeParse({ ...good, extra: 1 }).success, false);
});
