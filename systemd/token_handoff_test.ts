import { equal, ok } from "node:assert/strict";

const script = new URL("./satellite-token-handoff", import.meta.url).pathname;

async function handoff(args: string[]): Promise<{ code: number; output: string }> {
  const out = await new Deno.Command(script, { args, stdout: "piped", stderr: "piped" }).output();
  const d = new TextDecoder();
  return { code: out.code, output: d.decode(out.stdout) + d.decode(out.stderr) };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

Deno.test("token hand-off copies the first token into the state dir (0600) and retires it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "handoff-" });
  try {
    await Deno.mkdir(`${dir}/state`);
    await Deno.mkdir(`${dir}/boot`);
    await Deno.writeTextFile(`${dir}/boot/token`, "tok-first\n", { mode: 0o600 });
    await Deno.writeTextFile(`${dir}/etc-token`, "tok-second\n");
    const r = await handoff([`${dir}/state`, `${dir}/missing`, `${dir}/boot/token`, `${dir}/etc-token`]);
    equal(r.code, 0, r.output);
    equal(await Deno.readTextFile(`${dir}/state/token`), "tok-first\n");
    equal((await Deno.stat(`${dir}/state/token`)).mode! & 0o777, 0o600);
    equal(await exists(`${dir}/boot/token`), false);
    equal(await Deno.readTextFile(`${dir}/boot/token.used`), "tok-first\n");
    // Only one token is handed over.
    equal(await Deno.readTextFile(`${dir}/etc-token`), "tok-second\n");

    // A second start finds the hand-off done and leaves the remaining source alone.
    const again = await handoff([`${dir}/state`, `${dir}/etc-token`]);
    equal(again.code, 0, again.output);
    equal(await Deno.readTextFile(`${dir}/state/token`), "tok-first\n");
    ok(await exists(`${dir}/etc-token`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("token hand-off: nothing to hand is fine; a missing state dir and no args are errors", async () => {
  const dir = await Deno.makeTempDir({ prefix: "handoff-" });
  try {
    await Deno.writeTextFile(`${dir}/empty`, "");
    const none = await handoff([dir, `${dir}/nope`, `${dir}/empty`]);
    equal(none.code, 0, none.output);
    equal(await exists(`${dir}/token`), false);

    const noState = await handoff([`${dir}/no-such-dir`, `${dir}/empty`]);
    equal(noState.code, 1);
    ok(noState.output.includes("does not exist"));

    equal((await handoff([])).code, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "token hand-off: the token belongs to the owner of the state dir behind a DynamicUser symlink",
  ignore: Deno.uid() !== 0, // chown needs root
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "handoff-" });
    try {
      // systemd's layout for DynamicUser=yes: /var/lib/satellite -> private/satellite, owned by the dynamic uid.
      await Deno.mkdir(`${dir}/private/satellite`, { recursive: true });
      await Deno.chown(`${dir}/private/satellite`, 61234, 61234);
      await Deno.symlink("private/satellite", `${dir}/satellite`);
      await Deno.writeTextFile(`${dir}/boot-token`, "tok\n", { mode: 0o600 });
      const r = await handoff([`${dir}/satellite`, `${dir}/boot-token`]);
      equal(r.code, 0, r.output);
      const info = await Deno.stat(`${dir}/private/satellite/token`);
      equal(info.uid, 61234);
      equal(info.gid, 61234);
      equal(info.mode! & 0o777, 0o600);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
