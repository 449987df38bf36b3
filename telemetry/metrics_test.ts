import { deepStrictEqual, equal, ok, throws } from "node:assert/strict";
import { Hono } from "hono";
import { METRICS_CONTENT_TYPE, MetricsRegistry } from "./metrics.ts";

interface Family {
  help?: string;
  type?: string;
  samples: { labels: Record<string, string>; value: number }[];
}

/** A strict parser for the text exposition format, independent of the renderer. */
function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const family = (name: string) => {
    if (!families.has(name)) families.set(name, { samples: [] });
    return families.get(name)!;
  };
  ok(text.endsWith("\n"), "ends with a newline");
  for (const line of text.slice(0, -1).split("\n")) {
    let m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (m) {
      family(m[1]).help = m[2].replace(/\\(\\|n)/g, (_, c) => c === "n" ? "\n" : "\\");
      continue;
    }
    m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (m) {
      family(m[1]).type = m[2];
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparseable line: ${line}`);
    const labels: Record<string, string> = {};
    let rest = m[2] ?? "";
    while (rest.length > 0) {
      const lm = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/.exec(rest);
      if (!lm) throw new Error(`bad labels in: ${line}`);
      labels[lm[1]] = lm[2].replace(/\\(.)/g, (_, c) => c === "n" ? "\n" : c);
      rest = rest.slice(lm[0].length);
    }
    const value = m[3] === "+Inf" ? Infinity : m[3] === "-Inf" ? -Infinity : Number(m[3]);
    ok(m[3] === "NaN" || !Number.isNaN(value), `bad value in: ${line}`);
    const f = families.get(m[1]);
    ok(f?.type, `sample before its # TYPE: ${line}`);
    f.samples.push({ labels, value });
  }
  return families;
}

Deno.test("counters and gauges with labels render as parseable exposition text", () => {
  const registry = new MetricsRegistry();
  const pulls = registry.counter("satellite_artifacts_synced_total", "Artifacts synced.", [
    "repository",
    "result",
  ]);
  pulls.inc({ repository: "library/nginx", result: "ok" });
  pulls.inc({ repository: "library/nginx", result: "ok" }, 2);
  pulls.inc({ repository: "library/redis", result: "failed" });
  const disk = registry.gauge("satellite_disk_free_bytes", "Free bytes.");
  disk.set({}, 8_000_000_000);
  const families = parseExposition(registry.render());
  deepStrictEqual(families.get("satellite_artifacts_synced_total"), {
    help: "Artifacts synced.",
    type: "counter",
    samples: [
      { labels: { repository: "library/nginx", result: "ok" }, value: 3 },
      { labels: { repository: "library/redis", result: "failed" }, value: 1 },
    ],
  });
  deepStrictEqual(families.get("satellite_disk_free_bytes")?.samples, [{ labels: {}, value: 8_000_000_000 }]);
});

Deno.test("help texts and label values are escaped and round-trip", () => {
  const registry = new MetricsRegistry();
  const weird = 'quote " backslash \\ newline \n end';
  registry.gauge("g", `help with \\ and\nnewline`, ["v"]).set({ v: weird }, -1.5);
  registry.gauge("specials", "Special values.", ["k"]).set({ k: "inf" }, Infinity);
  const text = registry.render();
  ok(text.includes(String.raw`# HELP g help with \\ and\nnewline`), text);
  const families = parseExposition(text);
  equal(families.get("g")?.help, "help with \\ and\nnewline");
  deepStrictEqual(families.get("g")?.samples, [{ labels: { v: weird }, value: -1.5 }]);
  equal(families.get("specials")?.samples[0].value, Infinity);
});

Deno.test("gauges move both ways and collectors run at scrape time", () => {
  const registry = new MetricsRegistry();
  const queue = registry.gauge("outbox_depth", "Queued.");
  queue.inc();
  queue.inc({}, 4);
  queue.dec({}, 2);
  equal(queue.get(), 3);
  let depth = 7;
  const live = registry.gauge("live", "Live.", ["x"]);
  live.collector(() => [{ labels: { x: "a" }, value: depth }]);
  equal(parseExposition(registry.render()).get("live")?.samples[0].value, 7);
  depth = 9;
  equal(parseExposition(registry.render()).get("live")?.samples[0].value, 9);
  live.collector(() => {
    throw new Error("collector broke");
  });
  ok(parseExposition(registry.render()).has("outbox_depth"), "a broken collector hides only its own family");
});

Deno.test("bad names, labels and negative counter steps are refused", () => {
  const registry = new MetricsRegistry();
  throws(() => registry.counter("bad-name", "x"), /metric name/);
  throws(() => registry.counter("ok_total", "x", ["__reserved"]), /label name/);
  const c = registry.counter("c_total", "C.", ["a"]);
  throws(() => c.inc({ a: "1" }, -1), /only goes up/);
  throws(() => c.inc({ b: "1" }), /unknown: b; missing: a/);
  equal(registry.counter("c_total", "C.", ["a"]), c, "same name returns the same counter");
  throws(() => registry.gauge("c_total", "C."), /already registered as a counter/);
});

Deno.test("the Hono handler serves /metrics with the exposition content type", async () => {
  const registry = new MetricsRegistry();
  registry.counter("requests_total", "Requests.").inc();
  const app = new Hono().get("/metrics", registry.handler());
  const res = await app.request("/metrics");
  equal(res.status, 200);
  equal(res.headers.get("content-type"), METRICS_CONTENT_TYPE);
  deepStrictEqual(parseExposition(await res.text()).get("requests_total")?.samples, [{
    labels: {},
    value: 1,
  }]);
});
