/**
 * The demo end to end, as a user runs it: `deno run -A demo/main.ts` in a child process. Checks the
 * exit code, the pull proof in the output, and that every process and the demo directory are gone
 * afterwards (also after Ctrl-C mid-way and after `--keep`).
 */
import assert from "node:assert/strict";

const MAIN = new URL("./main.ts", import.meta.url).pathname;
const ROOT = new URL("../", import.meta.url).pathname;

interface DemoRun {
  child: Deno.ChildProcess;
  /** Everything printed so far (stdout and stderr). */
  output: () => string;
  /** Resolves when the output contains `text` (rejects after `timeoutMs`). */
  waitFor: (text: string, timeoutMs?: number) => Promise<void>;
  done: Promise<{ code: number; output: string }>;
}

function startDemo(args: string[]): DemoRun {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const waiters = new Set<() => void>();
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      for (const w of waiters) w();
    }
  };
  const collected = Promise.all([collect(child.stdout), collect(child.stderr)]);
  const done = child.status.then(async (s) => {
    await collected;
    return { code: s.code, output: text };
  });
  const waitFor = (needle: string, timeoutMs = 45_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!text.includes(needle)) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no "${needle}" within ${timeoutMs} ms; output:\n${text}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return { child, output: () => text, waitFor, done };
}

/** The demo directory named on the first line of the output. */
function demoDir(output: string): string {
  const dir = /everything lives in (\S+) and/.exec(output)?.[1];
  assert.ok(dir, `no demo directory in the output:\n${output}`);
  return dir;
}

async function assertGone(path: string): Promise<void> {
  await assert.rejects(Deno.stat(path), Deno.errors.NotFound, `${path} was left behind`);
}

/** The satellite's registry port, from `built-in registry on 127.0.0.1:PORT`. */
function satelliteAddress(output: string): string {
  const address = /built-in registry on (127\.0\.0\.1:\d+)/.exec(output)?.[1];
  assert.ok(address, `no satellite address in the output:\n${output}`);
  return address;
}

async function assertNotListening(address: string): Promise<void> {
  const [hostname, port] = address.split(":");
  await assert.rejects(
    Deno.connect({ hostname, port: Number(port) }).then((c) => c.close()),
    `the satellite still listens on ${address}`,
  );
}

Deno.test("demo: syncs images to a satellite, proves a verified pull, exits 0 and cleans up", async () => {
  const run = startDemo(["--pull-with", "client"]);
  const { code, output } = await run.done;
  assert.equal(code, 0, output);
  assert.match(output, /registered; its one-time token file is now \S+\.used/);
  assert.match(output, /synced demo\/web@sha256:[0-9a-f]{12}/);
  assert.match(output, /GET \/api\/fleet: 1 satellite\(s\): pending 0, online 1/);
  assert.match(output, /shop-001: online, 3\/3 artifacts synced/);
  assert.match(output, /artifacts: +3 synced, 0 pending, 0 failed/);
  assert.match(
    output,
    /pull proof: demo\/web:1\.0 sha256:[0-9a-f]{12}: 3 manifest\(s\), 7 blob\(s\), .* every digest verified \(platforms linux\/amd64, linux\/arm64\/v8\)/,
  );
  assert.match(output, /Demo finished in [\d.]+ s/);
  await assertGone(demoDir(output));
  await assertNotListening(satelliteAddress(output));
});

Deno.test("demo --keep: stays up with working URLs until SIGINT, then stops everything", async () => {
  const run = startDemo(["--keep"]);
  try {
    await run.waitFor("The demo keeps running");
    const output = run.output();
    assert.match(output, /pull proof: /);
    const satellite = /satellite registry (http:\/\/\S+)/.exec(output)?.[1];
    const token = /admin token +(\S+)/.exec(output)?.[1];
    const gc = /Ground Control +(http:\/\/\S+)/.exec(output)?.[1];
    const catalog = await (await fetch(`${satellite}/v2/_catalog`)).json();
    assert.deepEqual(catalog.repositories, ["demo/agent", "demo/api", "demo/web"]);
    const fleet = await fetch(`${gc}/api/fleet`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal((await fleet.json()).counts.online, 1);
  } finally {
    run.child.kill("SIGINT");
  }
  const { code, output } = await run.done;
  assert.equal(code, 0, output);
  await assertGone(demoDir(output));
  await assertNotListening(satelliteAddress(output));
});

Deno.test("demo: SIGINT while the satellite syncs stops the child process and removes the directory", async () => {
  const run = startDemo(["--pull-with", "client"]);
  await run.waitFor("built-in registry on");
  run.child.kill("SIGINT");
  const { code, output } = await run.done;
  assert.equal(code, 130, output);
  assert.match(output, /Interrupted: stopping everything/);
  await assertGone(demoDir(output));
  await assertNotListening(satelliteAddress(output));
});

Deno.test("demo: a bad flag is a usage error naming the flag", async () => {
  const { code, output } = await startDemo(["--pull-with", "docker"]).done;
  assert.equal(code, 2);
  assert.match(output, /pull-with/);
  assert.match(output, /usage: deno task demo/);
});
