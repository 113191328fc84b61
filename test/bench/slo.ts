// SLO check at scale: `npx tsx test/bench/slo.ts [--slos 1000] [--hours 3] [--runs 3] [--seeds 1,2,3]`.
// Starts the sandbox (seed 1), lets it run a few simulated hours so every SLI window holds data
// (the sandbox's Prometheus keeps 6 h), reads its services from http_requests_total and writes 1,000
// distinct Sloth prometheus/v1 SLOs over them, one file per service: availability with several 5xx
// selectors, latency against histogram buckets, raw error ratios; objectives 90 %–99.99 %. Then it
// runs slo-check's whole invocation (checkSlos: the files parsed as its file loader does, batched
// evaluation, time to exhaustion, one state row and events per SLO) against the sandbox's metrics API
// with a PGlite store in memory. The first invocation creates the state rows and raises the alerts;
// the next ones (one simulated minute later each) are warm. Evaluation and the exhaustion projection
// are also timed on their own. Last, the time-to-exhaustion accuracy on synthetic budgets with known
// exhaustion times (test/bench/slo-exhaustion.ts).
//
// "Time in HTTP" is request → last byte of the answer; the sandbox's Prometheus runs in this process,
// so it includes the sandbox parsing and evaluating the batched PromQL on the same event loop.
//
// Target (the issue): the whole invocation for 1,000 SLOs in < 10 s; exhaustion within one day.

import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import { scheduleTick } from "../../infra/local/cron.js";
import { startSandbox } from "../../infra/sandbox/index.js";
import type { ProphetEvent } from "../../shared/events/envelope.js";
import type { Deps } from "../../shared/function.js";
import { prometheusMetrics } from "../../shared/metrics/prometheus.js";
import { silentLogger } from "../../shared/ports/log.js";
import type { MetricsPort } from "../../shared/ports/metrics.js";
import type { Sql, Store } from "../../shared/ports/store.js";
import { checkSlos, exhaustionFor } from "../../shared/slo/check.js";
import { evaluateSlos } from "../../shared/slo/evaluate.js";
import { sliWindowsSeconds, type SloLoadResult, type SloSpec } from "../../shared/slo/model.js";
import { parseSloDocuments } from "../../shared/slo/spec/index.js";
import { openStore } from "../../shared/store/open.js";
import { exhaustionAccuracy, type ExhaustionAccuracy } from "./slo-exhaustion.js";

const { values: args } = parseArgs({
  options: {
    slos: { type: "string", default: "1000" },
    hours: { type: "string", default: "3" },
    runs: { type: "string", default: "3" },
    seeds: { type: "string", default: "1,2,3" },
  },
});
const sloCount = Number(args.slos);
const hours = Number(args.hours);
const runs = Math.max(1, Number(args.runs));
const seeds = (args.seeds ?? "1,2,3").split(",").map(Number);
const TARGET_S = 10;

const ms = (t0: number) => performance.now() - t0;
const sec = (v: number) => `${(v / 1000).toFixed(2)} s`;

// ---------------------------------------------------------------------------------------------
// Instrumentation: HTTP requests to the metrics API (count, bytes, time) and store time.

interface HttpStats {
  requests: number;
  instant: number;
  range: number;
  requestBytes: number;
  responseBytes: number;
  /** From the request to the last byte of the answer (the in-process server's evaluation included). */
  fetchMs: number;
  /** Time inside the port's calls (fetch + JSON parse + validation). */
  portMs: number;
  slowestMs: number;
}

const newHttp = (): HttpStats => ({
  requests: 0,
  instant: 0,
  range: 0,
  requestBytes: 0,
  responseBytes: 0,
  fetchMs: 0,
  portMs: 0,
  slowestMs: 0,
});

function countingMetrics(url: string): { port: MetricsPort; stats: () => HttpStats; reset(): void } {
  let s = newHttp();
  const countingFetch: typeof fetch = async (input, init) => {
    const t0 = performance.now();
    s.requests++;
    if (String(input).endsWith("/query_range")) s.range++;
    else s.instant++;
    s.requestBytes += typeof init?.body === "string" ? Buffer.byteLength(init.body) : 0;
    const res = await fetch(input, init);
    const text = await res.text();
    const took = ms(t0);
    s.fetchMs += took;
    s.slowestMs = Math.max(s.slowestMs, took);
    s.responseBytes += Buffer.byteLength(text);
    return new Response(text, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
  // Generous deadline: a slow batch should show up as time, not as a timeout.
  const inner = prometheusMetrics({ url, fetch: countingFetch, timeoutMs: 120_000 });
  const timed =
    <A extends unknown[], R>(f: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      const t0 = performance.now();
      try {
        return await f(...a);
      } finally {
        s.portMs += ms(t0);
      }
    };
  const port: MetricsPort = {
    name: inner.name,
    instant: timed((q: string, at?: Date) => inner.instant(q, at)),
    range: timed((q: string, a: Date, b: Date, step: number) => inner.range(q, a, b, step)),
  };
  return {
    port,
    stats: () => ({ ...s }),
    reset: () => {
      s = newHttp();
    },
  };
}

interface StoreStats {
  transactions: number;
  statements: number;
  ms: number;
}

/** Wall time inside the store (transactions and statements outside them). */
function timedStore(inner: Store): { store: Store; stats: () => StoreStats; reset(): void } {
  let s: StoreStats = { transactions: 0, statements: 0, ms: 0 };
  const countingSql = (sql: Sql): Sql => ({
    query: (text, params) => {
      s.statements++;
      return sql.query(text, params);
    },
  });
  const store: Store = {
    kind: inner.kind,
    async query(text, params) {
      const t0 = performance.now();
      s.statements++;
      try {
        return await inner.query(text, params);
      } finally {
        s.ms += ms(t0);
      }
    },
    async transaction(fn) {
      const t0 = performance.now();
      s.transactions++;
      try {
        return await inner.transaction((tx) => fn(countingSql(tx)));
      } finally {
        s.ms += ms(t0);
      }
    },
    close: () => inner.close(),
  };
  return {
    store,
    stats: () => ({ ...s }),
    reset: () => {
      s = { transactions: 0, statements: 0, ms: 0 };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// 1,000 distinct SLOs over the sandbox's services, as Sloth prometheus/v1 files (one per service).

interface SlothSlo {
  name: string;
  objective: number;
  description: string;
  sli: { events: { error_query: string; total_query: string } } | { raw: { error_ratio_query: string } };
  alerting: {
    name: string;
    page_alert: { labels: Record<string, string> };
    ticket_alert: { labels: Record<string, string> };
  };
}

const availability: { name: string; errors: string; what: string }[] = [
  { name: "5xx", errors: 'code=~"5.."', what: "any 5xx" },
  { name: "500", errors: 'code="500"', what: "HTTP 500 (application errors)" },
  { name: "503", errors: 'code="503"', what: "HTTP 503 (shed load)" },
  { name: "50x", errors: 'code=~"50[03]"', what: "500 or 503" },
  { name: "non2xx", errors: 'code!~"2.."', what: "anything but 2xx" },
];
const availabilityObjectives = [98, 99, 99.5, 99.9, 99.95, 99.99];
const latencyThresholds = ["0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5"];
const latencyObjectives = [90, 95, 99, 99.5, 99.9];
const rawObjectives = [99, 99.5, 99.9, 99.95];
const objName = (o: number) => String(o).replace(".", "-");
const leName = (le: string) => `${Math.round(Number(le) * 1000)}ms`;
const title = (s: string) =>
  s
    .split(/[-_]/)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join("");

/** Every SLO one service could have, in an order that mixes kinds (the first n are a varied sample). */
function slosFor(namespace: string, service: string): SlothSlo[] {
  const sel = `namespace="${namespace}",service="${service}"`;
  const out: SlothSlo[] = [];
  const alerting = (name: string) => ({
    name: `${title(service)}${title(name)}Burn`,
    page_alert: { labels: { severity: "critical", team: namespace } },
    ticket_alert: { labels: { severity: "warning", team: namespace } },
  });
  for (const o of availabilityObjectives)
    for (const a of availability) {
      const name = `availability-${a.name}-${objName(o)}`;
      out.push({
        name,
        objective: o,
        description: `${o} % of ${service} requests answered without ${a.what}`,
        sli: {
          events: {
            error_query: `sum(rate(http_requests_total{${sel},${a.errors}}[{{.window}}]))`,
            total_query: `sum(rate(http_requests_total{${sel}}[{{.window}}]))`,
          },
        },
        alerting: alerting(name),
      });
    }
  for (const o of latencyObjectives)
    for (const le of latencyThresholds)
      for (const total of ["count", "inf"] as const) {
        const name = `latency-${leName(le)}-${total}-${objName(o)}`;
        const all =
          total === "count"
            ? `sum(rate(http_request_duration_seconds_count{${sel}}[{{.window}}]))`
            : `sum(rate(http_request_duration_seconds_bucket{${sel},le="+Inf"}[{{.window}}]))`;
        out.push({
          name,
          objective: o,
          description: `${o} % of ${service} requests served within ${leName(le)}`,
          sli: {
            events: {
              error_query: `(${all} - sum(rate(http_request_duration_seconds_bucket{${sel},le="${le}"}[{{.window}}])))`,
              total_query: all,
            },
          },
          alerting: alerting(name),
        });
      }
  for (const o of rawObjectives) {
    const name = `error-ratio-${objName(o)}`;
    out.push({
      name,
      objective: o,
      description: `${service} error ratio (5xx / all) under ${(100 - o).toFixed(2)} %`,
      sli: {
        raw: {
          error_ratio_query: `sum(rate(http_requests_total{${sel},code=~"5.."}[{{.window}}])) / sum(rate(http_requests_total{${sel}}[{{.window}}]))`,
        },
      },
      alerting: alerting(name),
    });
  }
  // Interleave kinds: availability, latency and raw SLOs alternate in the list.
  const kinds = [
    out.filter((s) => s.name.startsWith("availability")),
    out.filter((s) => s.name.startsWith("latency")),
    out.filter((s) => s.name.startsWith("error-ratio")),
  ];
  const mixed: SlothSlo[] = [];
  for (let i = 0; mixed.length < out.length; i++) for (const k of kinds) if (k[i]) mixed.push(k[i]!);
  return mixed;
}

/** `count` SLOs spread evenly over the services, as one Sloth file per service, parsed. */
function buildSpecs(services: { namespace: string; service: string }[], count: number) {
  const per = services.map((s) => slosFor(s.namespace, s.service));
  const take = services.map(() => 0);
  let left = count;
  for (let round = 0; left > 0; round++) {
    let took = false;
    for (let i = 0; i < services.length && left > 0; i++)
      if (take[i]! < per[i]!.length) {
        take[i]!++;
        left--;
        took = true;
      }
    if (!took) throw new Error(`only ${count - left} distinct SLOs for ${services.length} services`);
  }
  const files = services.map((s, i) => ({
    origin: `slos/${s.namespace}-${s.service}.yaml`,
    text: stringify({
      version: "prometheus/v1",
      service: s.service,
      labels: { namespace: s.namespace, owner: `team-${s.namespace}` },
      slos: per[i]!.slice(0, take[i]),
    }),
  }));
  const loaded = parseFiles(files);
  if (loaded.errors.length > 0)
    throw new Error(`generated specs did not parse: ${JSON.stringify(loaded.errors.slice(0, 3))}`);
  if (new Set(loaded.slos.map((s) => s.id)).size !== loaded.slos.length)
    throw new Error("generated SLO ids are not distinct");
  return { loaded, files, yamlBytes: files.reduce((n, f) => n + Buffer.byteLength(f.text), 0) };
}

interface SpecFile {
  origin: string;
  text: string;
}

/** What slo-check's file loader does every invocation (loadSloFiles without the disk read). */
function parseFiles(files: SpecFile[]): SloLoadResult {
  const loaded: SloLoadResult = { slos: [], errors: [] };
  for (const f of files) {
    const r = parseSloDocuments(f.text, f.origin);
    loaded.slos.push(...r.slos);
    loaded.errors.push(...r.errors);
  }
  return loaded;
}

// ---------------------------------------------------------------------------------------------

interface Run {
  at: Date;
  evaluateMs: number;
  evaluateHttp: HttpStats;
  exhaustionMs: number;
  exhaustionHttp: HttpStats;
  /** Per exhaustion status (projected, exhausted, not_within_horizon, insufficient_data): SLOs. */
  exhaustionStatus: Map<string, number>;
  checkMs: number;
  /** Parsing the 9 Sloth files inside the invocation (slo-check reads its files every time). */
  specsMs: number;
  checkHttp: HttpStats;
  checkStore: StoreStats;
  reportedRequests: number;
  evaluated: number;
  events: Map<string, number>;
  firing: number;
  problems: number;
}

async function oneRun(
  deps: Deps,
  metrics: ReturnType<typeof countingMetrics>,
  store: ReturnType<typeof timedStore>,
  loaded: SloLoadResult,
  files: SpecFile[],
): Promise<Run> {
  const at = deps.clock.now();
  const slos: SloSpec[] = loaded.slos;

  metrics.reset();
  let t0 = performance.now();
  const ev = await evaluateSlos(metrics.port, slos, at);
  const evaluateMs = ms(t0);
  const evaluateHttp = metrics.stats();

  metrics.reset();
  t0 = performance.now();
  const tte = await exhaustionFor(metrics.port, slos, ev.results, at);
  const exhaustionMs = ms(t0);
  const exhaustionHttp = metrics.stats();

  metrics.reset();
  store.reset();
  const tick: ProphetEvent = scheduleTick("slo-check", at);
  let specsMs = 0;
  t0 = performance.now();
  const report = await checkSlos(
    { deps, source: "/prophet/functions/slo-check", actor: "function:slo-check" },
    tick,
    {
      specs: async () => {
        const p0 = performance.now();
        const r = parseFiles(files);
        specsMs = ms(p0);
        return r;
      },
    },
  );
  const checkMs = ms(t0);
  const events = new Map<string, number>();
  for (const e of report.events) events.set(e.type, (events.get(e.type) ?? 0) + 1);
  let problems = 0;
  for (const r of ev.results.values()) if (r.problems.length > 0) problems++;
  const exhaustionStatus = new Map<string, number>();
  for (const x of tte.byId.values())
    exhaustionStatus.set(x.status, (exhaustionStatus.get(x.status) ?? 0) + 1);
  return {
    at,
    evaluateMs,
    evaluateHttp,
    exhaustionMs,
    exhaustionHttp,
    exhaustionStatus,
    checkMs,
    specsMs,
    checkHttp: metrics.stats(),
    checkStore: store.stats(),
    reportedRequests: report.requests,
    evaluated: report.evaluated,
    events,
    firing: [...ev.results.values()].filter((r) => r.firing !== null).length,
    problems,
  };
}

function table(rows: [string, ...string[]][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  return rows
    .map((r) =>
      r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  "),
    )
    .join("\n");
}

const kib = (b: number) =>
  b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(1)} MiB` : `${(b / 1024).toFixed(0)} KiB`;

async function main(): Promise<void> {
  const machine = `${cpus()[0]?.model ?? "cpu"} × ${cpus().length}, Node ${process.version}`;
  let t0 = performance.now();
  const sb = await startSandbox({ seed: 1, flowLog: false });
  const startMs = ms(t0);
  t0 = performance.now();
  sb.clock.advance(hours * 3600_000);
  const advanceMs = ms(t0);
  const metrics = countingMetrics(sb.prometheusUrl);
  const raw = await openStore({ dataDir: "memory" });
  const store = timedStore(raw);
  try {
    const found = await metrics.port.instant(
      "count by (namespace, service) (http_requests_total)",
      sb.clock.now(),
    );
    const services = found
      .map((s) => ({ namespace: s.labels.namespace ?? "", service: s.labels.service ?? "" }))
      .filter((s) => s.namespace && s.service)
      .sort((a, b) => `${a.namespace}/${a.service}`.localeCompare(`${b.namespace}/${b.service}`));
    const { loaded, files, yamlBytes } = buildSpecs(services, sloCount);
    const kinds = {
      availability: loaded.slos.filter((s) => s.name.startsWith("availability")).length,
      latency: loaded.slos.filter((s) => s.name.startsWith("latency")).length,
      raw: loaded.slos.filter((s) => s.sli.type === "raw").length,
    };
    // Tagged expressions the batches carry: per SLO and window an error and a total query (raw: one
    // ratio); for time to exhaustion an error and a total range per events SLO.
    const exprs = {
      instant: loaded.slos.reduce(
        (n, s) =>
          n + (s.sli.type === "events" ? 2 : 1) * new Set([...sliWindowsSeconds, s.periodSeconds]).size,
        0,
      ),
      range:
        2 * loaded.slos.filter((s) => s.sli.type === "events" && s.budgeting.method === "Occurrences").length,
    };
    const objectives = [...new Set(loaded.slos.map((s) => +(s.target * 100).toFixed(2)))].sort(
      (a, b) => a - b,
    );
    const deps: Deps = {
      store: store.store,
      clock: sb.clock,
      log: silentLogger,
      cluster: "sandbox",
      metrics: metrics.port,
    };

    console.log(`SLO check at scale: ${loaded.slos.length} SLOs, one slo-check invocation, sandbox seed 1`);
    console.log(
      `  sandbox: ${services.length} services (${services.map((s) => `${s.namespace}/${s.service}`).join(", ")})`,
    );
    console.log(
      `  started in ${sec(startMs)}; ${hours} simulated hours advanced in ${sec(advanceMs)}; clock at ${sb.clock.now().toISOString()}`,
    );
    console.log(
      `  specs: ${kinds.availability} availability, ${kinds.latency} latency (histogram le vs _count / +Inf), ${kinds.raw} raw error ratio; objectives ${objectives.join(", ")} %; ${services.length} Sloth files, ${kib(yamlBytes)}`,
    );
    console.log(`  ${machine}\n`);

    const results: Run[] = [];
    for (let i = 0; i < runs; i++) {
      if (i > 0) sb.clock.advance(60_000); // the next minute's tick
      results.push(await oneRun(deps, metrics, store, loaded, files));
    }

    const head: [string, ...string[]] = [
      "",
      ...results.map((_, i) => (i === 0 ? "run 1 (cold)" : `run ${i + 1} (warm)`)),
    ];
    const row = (label: string, f: (r: Run) => string): [string, ...string[]] => [label, ...results.map(f)];
    const eventsOf = (r: Run, t: string) => String(r.events.get(t) ?? 0);
    console.log(
      table([
        head,
        row("evaluateSlos alone", (r) => sec(r.evaluateMs)),
        row("  HTTP requests (instant)", (r) => `${r.evaluateHttp.requests} for ${exprs.instant} expr.`),
        row(
          "  request / answer bytes",
          (r) => `${kib(r.evaluateHttp.requestBytes)} / ${kib(r.evaluateHttp.responseBytes)}`,
        ),
        row(
          "  time in HTTP (slowest)",
          (r) => `${sec(r.evaluateHttp.fetchMs)} (${sec(r.evaluateHttp.slowestMs)})`,
        ),
        row("exhaustionFor alone", (r) => sec(r.exhaustionMs)),
        row("  HTTP requests (range)", (r) => `${r.exhaustionHttp.requests} for ${exprs.range} expr.`),
        row(
          "  request / answer bytes",
          (r) => `${kib(r.exhaustionHttp.requestBytes)} / ${kib(r.exhaustionHttp.responseBytes)}`,
        ),
        row(
          "  time in HTTP (slowest)",
          (r) => `${sec(r.exhaustionHttp.fetchMs)} (${sec(r.exhaustionHttp.slowestMs)})`,
        ),
        row("  SLOs projected", (r) => String([...r.exhaustionStatus.values()].reduce((a, b) => a + b, 0))),
        ...["projected", "exhausted", "not_within_horizon", "insufficient_data"].map((st) =>
          row(`    ${st}`, (r) => String(r.exhaustionStatus.get(st) ?? 0)),
        ),
        row("checkSlos (whole invocation)", (r) => sec(r.checkMs)),
        row(
          "  HTTP requests (counted)",
          (r) => `${r.checkHttp.requests} (${r.checkHttp.instant} instant, ${r.checkHttp.range} range)`,
        ),
        row("  requests (report)", (r) => String(r.reportedRequests)),
        row("  time in HTTP", (r) => sec(r.checkHttp.fetchMs)),
        row("  time in metrics port", (r) => sec(r.checkHttp.portMs)),
        row(
          "  time in store",
          (r) =>
            `${sec(r.checkStore.ms)} (${r.checkStore.transactions} tx, ${r.checkStore.statements} stmts)`,
        ),
        row("  parsing the Sloth files", (r) => sec(r.specsMs)),
        row("  rest (results, projection, events)", (r) =>
          sec(r.checkMs - r.specsMs - r.checkHttp.portMs - r.checkStore.ms),
        ),
        row("  SLOs evaluated", (r) => String(r.evaluated)),
        row("  with problems", (r) => String(r.problems)),
        row("  firing (page or ticket)", (r) => String(r.firing)),
        row("  events: slo.evaluated", (r) => eventsOf(r, "io.prophet.slo.evaluated")),
        row("  events: slo.violated", (r) => eventsOf(r, "io.prophet.slo.violated")),
        row("  events: alert.firing", (r) => eventsOf(r, "io.prophet.alert.firing")),
        row("  events: alert.resolved", (r) => eventsOf(r, "io.prophet.alert.resolved")),
        row(`  target < ${TARGET_S} s`, (r) => (r.checkMs < TARGET_S * 1000 ? "met" : "MISSED")),
      ]),
    );

    t0 = performance.now();
    const acc: ExhaustionAccuracy = await exhaustionAccuracy({ seeds });
    const accMs = ms(t0);
    console.log(`\nTime to exhaustion, synthetic budgets with known exhaustion (seeds ${seeds.join(",")}):`);
    console.log(
      table([
        ["cases", String(acc.cases)],
        ["median error", `${acc.medianErrorHours.toFixed(1)} h`],
        ["p90 error", `${acc.p90ErrorHours.toFixed(1)} h`],
        ["within one day", `${(100 * acc.withinOneDay).toFixed(1)} %`],
        ["truth in [earliest, latest]", `${(100 * acc.coverage).toFixed(1)} %`],
        ["ms per SLO", acc.msPerSlo.toFixed(2)],
        ["bench time", sec(accMs)],
      ]),
    );

    const warm = results.slice(1);
    const cold = results[0]!;
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
    const warmMs = warm.length > 0 ? median(warm.map((r) => r.checkMs)) : NaN;
    const requests = cold.reportedRequests;
    console.log("\n--- summary (README) ---");
    console.log(
      [
        `npm run bench:slo — ${loaded.slos.length} SLOs (${kinds.availability} availability, ${kinds.latency} latency, ${kinds.raw} raw) over the sandbox's ${services.length} services, one slo-check invocation against its metrics API, PGlite in memory:`,
        `- whole invocation: ${sec(cold.checkMs)} cold (state rows created, ${cold.events.get("io.prophet.alert.firing") ?? 0} alerts raised), ${warm.length > 0 ? `${sec(warmMs)} warm (median of ${warm.length})` : "no warm run"}; target < ${TARGET_S} s ${Math.max(cold.checkMs, ...warm.map((r) => r.checkMs)) < TARGET_S * 1000 ? "met" : "MISSED"}`,
        `- ${requests} HTTP requests per invocation: ${cold.checkHttp.instant} instant queries carrying ${exprs.instant} window expressions (every SLI window of every SLO), ${cold.checkHttp.range} range queries carrying ${exprs.range} for time to exhaustion; evaluation alone ${sec(cold.evaluateMs)}, exhaustion projection alone ${sec(cold.exhaustionMs)}`,
        `- ${cold.events.get("io.prophet.slo.evaluated") ?? 0} slo.evaluated events per invocation; store ${sec(cold.checkStore.ms)} cold / ${warm.length > 0 ? sec(median(warm.map((r) => r.checkStore.ms))) : "-"} warm (${cold.checkStore.transactions} transactions)`,
        `- time to exhaustion on ${acc.cases} synthetic budgets (seeds ${seeds.join(",")}): median error ${acc.medianErrorHours.toFixed(1)} h, p90 ${acc.p90ErrorHours.toFixed(1)} h, ${(100 * acc.withinOneDay).toFixed(1)} % within one day, truth inside [earliest, latest] ${(100 * acc.coverage).toFixed(1)} %, ${acc.msPerSlo.toFixed(2)} ms per SLO`,
        `- ${machine}`,
      ].join("\n"),
    );
  } finally {
    await store.store.close();
    await sb.close();
  }
}

await main();
