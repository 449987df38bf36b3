import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createLogger, formatLine, isSensitiveKey, REDACTED, Redactor } from "./log.ts";

function capture(level: "debug" | "info" | "warn" | "error" = "info", redactor = new Redactor()) {
  const lines: string[] = [];
  const log = createLogger({ level, write: (l) => lines.push(l), redactor, now: () => Date.UTC(2025, 0, 6) });
  return { lines, log, parsed: () => lines.map((l) => JSON.parse(l)) };
}

Deno.test("one JSON object per line with time, level, msg and fields", () => {
  const { log, lines, parsed } = capture("debug");
  log.info("synced", { repository: "library/nginx", bytes: 42, nested: { ok: true } });
  equal(lines.length, 1);
  ok(!lines[0].includes("\n"));
  deepStrictEqual(parsed()[0], {
    time: "2025-01-06T00:00:00.000Z",
    level: "info",
    msg: "synced",
    repository: "library/nginx",
    bytes: 42,
    nested: { ok: true },
  });
  ok(lines[0].startsWith('{"time":'), "time comes first");
});

Deno.test("the level filter drops lower levels and can change at run time", () => {
  const { log, parsed } = capture("warn");
  log.debug("d");
  log.info("i");
  log.warn("w");
  log.error("e");
  log.level = "debug";
  log.debug("d2");
  deepStrictEqual(parsed().map((r) => r.msg), ["w", "e", "d2"]);
  ok(log.enabled("debug"));
});

Deno.test("registered secrets are redacted anywhere in the line, including the message and escaped forms", () => {
  const redactor = new Redactor();
  redactor.add('pa"ss\\word-1');
  redactor.add("device-secret-9f8e");
  equal(redactor.add("abc"), false, "too short to register");
  const { log, lines } = capture("info", redactor);
  log.info("login with device-secret-9f8e", {
    url: "https://robot:device-secret-9f8e@harbor.example.com/v2/",
    note: 'quoted pa"ss\\word-1 inside',
    list: ["x", "device-secret-9f8e"],
    error: new Error("auth failed for device-secret-9f8e"),
  });
  ok(!lines[0].includes("device-secret-9f8e"), lines[0]);
  ok(!lines[0].includes("word-1"), lines[0]);
  const record = JSON.parse(lines[0]);
  equal(record.msg, `login with ${REDACTED}`);
  equal(record.url, `https://robot:${REDACTED}@harbor.example.com/v2/`);
  equal(record.note, `quoted ${REDACTED} inside`);
  deepStrictEqual(record.error, { name: "Error", message: `auth failed for ${REDACTED}` });
});

Deno.test("keys named like credentials are always redacted, at any depth", () => {
  const { log, parsed } = capture();
  log.info("request", {
    password: "p",
    headers: { Authorization: "Bearer abc", "content-type": "json" },
    registry: { username: "robot", token: "t", apiKey: "k", client_secret: "s" },
    passwordless: null,
    bytesPassed: 5,
  });
  equal(parsed()[0].bytesPassed, 5, "words, not substrings, decide");
  deepStrictEqual(parsed()[0].headers, { Authorization: REDACTED, "content-type": "json" });
  deepStrictEqual(parsed()[0].registry, {
    username: "robot",
    token: REDACTED,
    apiKey: REDACTED,
    client_secret: REDACTED,
  });
  equal(parsed()[0].password, REDACTED);
  equal(parsed()[0].passwordless, null, "an absent value stays absent");
});

Deno.test("basic credentials redact the Authorization token too; remove forgets a rotated secret", () => {
  const redactor = new Redactor();
  redactor.addBasic("robot$shop", "rotating-pw-1");
  const basic = Buffer.from("robot$shop:rotating-pw-1").toString("base64");
  const line = formatLine("info", `sent Basic ${basic}`, {}, 0, redactor);
  ok(!line.includes(basic), line);
  redactor.remove("rotating-pw-1");
  ok(formatLine("info", "rotating-pw-1", {}, 0, redactor).includes("rotating-pw-1"));
});

Deno.test("child loggers add fields; reserved names and odd values are kept safe", () => {
  const { log, parsed } = capture();
  const cycle: Record<string, unknown> = { a: 1 };
  cycle.self = cycle;
  log.child({ component: "sync" }).info("x", {
    msg: "field named msg",
    big: 10n,
    bytes: new Uint8Array(3),
    cycle,
  });
  const r = parsed()[0];
  equal(r.component, "sync");
  equal(r.msg, "x");
  equal(r["field.msg"], "field named msg");
  equal(r.big, "10");
  equal(r.bytes, "[Uint8Array 3 bytes]");
  deepStrictEqual(r.cycle, { a: 1, self: "[circular]" });
});

Deno.test("sensitive keys are matched by word", () => {
  for (
    const key of ["password", "PASSWORD", "x-auth-token", "api_key", "apiKey", "privateKey", "Cookie", "auth"]
  ) {
    ok(isSensitiveKey(key), key);
  }
  for (const key of ["bytesPassed", "passwordless", "author", "tokenizer", "digest"]) {
    ok(!isSensitiveKey(key), key);
  }
});

Deno.test("keys that describe a credential are logged; its value is still scrubbed when registered", () => {
  for (
    const key of ["tokenSource", "tokenFile", "token_path", "passwordDigest", "tokenExpiresAt", "secretCount"]
  ) {
    ok(!isSensitiveKey(key), key);
  }
  for (const key of ["deviceSecret", "registrationToken", "token", "expiresAt_token"]) {
    ok(isSensitiveKey(key), key);
  }
  const redactor = new Redactor();
  redactor.add("tok-0123456789");
  const line = formatLine("info", "m", { tokenFile: "/boot/tok-0123456789" }, 0, redactor);
  ok(!line.includes("tok-0123456789") && line.includes("tokenFile"), line);
});
