import { equal, ok } from "node:assert/strict";
import { mirrorConfigCommand } from "./cli.ts";

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
}

Deno.test("mirror-config prints the plan, then applies it for several runtimes", async () => {
  const root = await Deno.makeTempDir({ prefix: "mirror-cli-" });
  try {
    const args = [
      "--runtime",
      "containerd",
      "--runtime",
      "k3s",
      "--upstream",
      "http://127.0.0.1:5000",
      "--root",
      root,
    ];
    const dry = capture();
    equal(await mirrorConfigCommand(args, { localUrl: "http://127.0.0.1:8585" }, dry.io), 0);
    ok(dry.out[0].includes("would write") && dry.out[0].includes(`server = "http://127.0.0.1:5000"`));
    const wet = capture();
    equal(await mirrorConfigCommand([...args, "--apply"], { localUrl: "http://127.0.0.1:8585" }, wet.io), 0);
    ok(wet.out.every((o) => o.includes("wrote")), wet.out.join("\n"));
    const again = capture();
    equal(
      await mirrorConfigCommand([...args, "--apply"], { localUrl: "http://127.0.0.1:8585" }, again.io),
      0,
    );
    ok(again.out.every((o) => o.includes("unchanged")), again.out.join("\n"));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("mirror-config: usage errors and bad values exit 2 with a message", async () => {
  const missing = capture();
  equal(await mirrorConfigCommand(["--upstream", "docker.io"], {}, missing.io), 2);
  ok(missing.err[0].includes("--runtime is required"));
  const unknown = capture();
  equal(await mirrorConfigCommand(["--runtime", "containerd", "--bogus"], {}, unknown.io), 2);
  const badRuntime = capture();
  equal(await mirrorConfigCommand(["--runtime", "lxc", "--upstream", "docker.io"], {}, badRuntime.io), 2);
  ok(badRuntime.err[0].includes("runtime"), badRuntime.err[0]);
});
