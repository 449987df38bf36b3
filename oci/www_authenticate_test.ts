import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { findChallenge, parseWwwAuthenticate } from "./www_authenticate.ts";

Deno.test("parses a docker bearer challenge with a quoted scope holding commas", () => {
  const header =
    'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull,push"';
  assertEquals(parseWwwAuthenticate(header), [{
    scheme: "bearer",
    params: {
      realm: "https://auth.docker.io/token",
      service: "registry.docker.io",
      scope: "repository:library/busybox:pull,push",
    },
  }]);
});

Deno.test("splits several challenges and keeps quoted commas and escapes", () => {
  const header =
    'Basic realm="a, b \\"c\\"", charset="UTF-8", Bearer realm="https://t/x", error=invalid_token';
  const challenges = parseWwwAuthenticate(header);
  assertEquals(challenges.length, 2);
  assertEquals(challenges[0], { scheme: "basic", params: { realm: 'a, b "c"', charset: "UTF-8" } });
  assertEquals(challenges[1], { scheme: "bearer", params: { realm: "https://t/x", error: "invalid_token" } });
  assertEquals(findChallenge(challenges, "BEARER")?.params.realm, "https://t/x");
});

Deno.test("accepts case-insensitive names, spaces around '=' and unquoted tokens", () => {
  assertEquals(parseWwwAuthenticate('BASIC Realm = "r" ,  Charset=utf-8'), [
    { scheme: "basic", params: { realm: "r", charset: "utf-8" } },
  ]);
});

Deno.test("reads token68 challenges and bare schemes", () => {
  assertEquals(parseWwwAuthenticate("Negotiate abc+/==, Basic"), [
    { scheme: "negotiate", params: {}, token68: "abc+/==" },
    { scheme: "basic", params: {} },
  ]);
});

Deno.test("tolerates junk, empty input and an unterminated quote without throwing", () => {
  assertEquals(parseWwwAuthenticate(""), []);
  assertEquals(parseWwwAuthenticate(" , ,"), []);
  assertEquals(parseWwwAuthenticate('Bearer realm="https://t'), [
    { scheme: "bearer", params: { realm: "https://t" } },
  ]);
  const weird = parseWwwAuthenticate('@@ Bearer realm="x"');
  assertEquals(findChallenge(weird, "bearer")?.params.realm, "x");
});
