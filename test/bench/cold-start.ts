// npm run bench:cold-start — spawns each function's Lambda bundle as a fresh Node process and
// measures spawn → first event handled, and the process's peak RSS. Median of 10 runs each.
// Real parts: PostgreSQL (Debian) for the store, a loopback EventBridge answering PutEvents.
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { bundleAll } from "../../infra/build/bundle.js";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { startApiServer } from "../../infra/sandbox/apiserver/index.js";
import { TimeSeriesStore } from "../../infra/sandbox/metrics/index.js";
import { startMetricsServer } from "../../infra/sandbox/metrics/server.js";
import { openStore } from "../../shared/store/open.js";
import { seedSnapshot } from "../diagnosis/seed.js";
import { startPostgres } from "../setup/postgres.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const runs = Number(process.env.RUNS ?? 10);
const cases = [
  { fn: "alert-intake", event: "events/platform/aws/apigw-v2-alertmanager.json" },
  { fn: "audit-verify", event: "events/platform/aws/eventbridge-scheduled.json" },
  // Reads a live cluster (the API server emulator seeded with scenario S01) through client-node.
  { fn: "alert-diagnosis", event: "eventbridge-incident-opened" },
  // Evaluates 3 SLOs (manifests/slos/sandbox.yaml) against a loopback Prometheus API (the sandbox's
  // PromQL engine over an hour of counters) and writes their state to PostgreSQL.
  { fn: "slo-check", event: "eventbridge-slo-check" },
];

const harness = `
const [bundle, eventFile] = process.argv.slice(1);
const { readFileSync } = await import("node:fs");
const { handler } = await import(bundle);
const out = await handler(JSON.parse(readFileSync(eventFile, "utf8")), { functionName: "bench", awsRequestId: "bench" });
const status = out.statusCode ?? (out.results ? 200 : 500);
if (status !== 200) process.stderr.write(JSON.stringify(out));
process.stdout.write(JSON.stringify({ status, maxRssKiB: process.resourceUsage().maxRSS }) + "\\n");
process.exit(0);
`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

async function main() {
  console.log("building bundles…");
  await bundleAll();
  const work = mkdtempSync(join(tmpdir(), "prophet-bench-"));
  const api = await startApiServer({ port: 0 });
  const scenario = JSON.parse(readFileSync(join(root, "../shared/scenarios/diagnosis/S01.json"), "utf8")) as {
    snapshot: unknown;
    expect: Array<{ namespace: string; name: string }>;
  };
  seedSnapshot(api, scenario.snapshot);
  const kubeconfig = join(work, "kubeconfig");
  api.writeKubeconfig(kubeconfig);
  // incident.opened about S01's pending pod, as EventBridge delivers it to the Lambda.
  const opened = JSON.parse(
    readFileSync(join(root, "events/catalog/io.prophet.incident.opened.json"), "utf8"),
  );
  const target = scenario.expect[0]!;
  opened.data.target = { namespace: target.namespace, kind: "Pod", name: target.name };
  const diagEvent = join(work, "eventbridge-incident-opened.json");
  writeFileSync(
    diagEvent,
    JSON.stringify({
      version: "0",
      id: "b1",
      "detail-type": opened.type,
      source: opened.source,
      account: "123456789012",
      time: opened.time,
      region: "eu-west-1",
      resources: [],
      detail: opened,
    }),
  );
  // slo-check: its scheduled tick, and an hour of request counters for the demo SLOs.
  const sloEvent = join(work, "eventbridge-slo-check.json");
  const scheduled = JSON.parse(
    readFileSync(join(root, "events/platform/aws/eventbridge-scheduled.json"), "utf8"),
  );
  scheduled.detail.schedule = "slo-check";
  writeFileSync(sloEvent, JSON.stringify(scheduled));
  const series = new TimeSeriesStore();
  const end = Date.now();
  for (let t = end - 3600_000, n = 0; t <= end; t += 30_000, n++)
    for (const [ns, svc] of [
      ["shop", "frontend"],
      ["payments", "checkout"],
    ] as const) {
      series.append(
        { __name__: "http_requests_total", namespace: ns, service: svc, code: "200" },
        t,
        n * 600,
      );
      series.append({ __name__: "http_requests_total", namespace: ns, service: svc, code: "500" }, t, n);
      for (const le of ["0.5", "+Inf"])
        series.append(
          { __name__: "http_request_duration_seconds_bucket", namespace: ns, service: svc, le },
          t,
          n * (le === "+Inf" ? 601 : 598),
        );
      series.append(
        { __name__: "http_request_duration_seconds_count", namespace: ns, service: svc },
        t,
        n * 601,
      );
    }
  const prometheus = await startMetricsServer({ store: series, now: () => Date.now() });
  const pgServer = await startPostgres();
  if (!pgServer) throw new Error("PostgreSQL is needed: apt-get install -y postgresql");
  const eventbridge = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c));
    req.on("end", () => {
      const n = (JSON.parse(body) as { Entries: unknown[] }).Entries.length;
      res.writeHead(200, { "content-type": "application/x-amz-json-1.1" });
      res.end(
        JSON.stringify({
          Entries: Array.from({ length: n }, (_, i) => ({ EventId: `e-${i}` })),
          FailedEntryCount: 0,
        }),
      );
    });
  });
  await new Promise<void>((r) => eventbridge.listen(0, "127.0.0.1", () => r()));
  const ebUrl = `http://127.0.0.1:${(eventbridge.address() as AddressInfo).port}`;
  try {
    const tmplUrl = new URL(pgServer.url);
    const admin = new pg.Client({ connectionString: pgServer.url });
    await admin.connect();
    await admin.query("CREATE DATABASE bench_tmpl");
    tmplUrl.pathname = "/bench_tmpl";
    await (await openStore({ databaseUrl: tmplUrl.toString(), dataDir: "unused" })).close();
    const rows: string[] = [];
    let i = 0;
    for (const c of cases) {
      const times: number[] = [];
      const rss: number[] = [];
      for (let r = 0; r < runs; r++) {
        const db = `bench_${i++}`;
        await admin.query(`CREATE DATABASE ${db} TEMPLATE bench_tmpl`);
        const url = new URL(pgServer.url);
        url.pathname = `/${db}`;
        const started = performance.now();
        const line = await new Promise<string>((resolve, reject) => {
          const child = spawn(
            process.execPath,
            [
              "--input-type=module",
              "-e",
              harness,
              join(root, "dist/lambda", c.fn, "index.js"),
              c.event.startsWith("events/")
                ? join(root, c.event)
                : c.event === "eventbridge-slo-check"
                  ? sloEvent
                  : diagEvent,
            ],
            {
              env: {
                PATH: process.env.PATH,
                DATABASE_URL: url.toString(),
                AWS_LAMBDA_FUNCTION_NAME: `prophet-${c.fn}`,
                AWS_REGION: "eu-west-1",
                AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
                AWS_SECRET_ACCESS_KEY: "bench",
                EVENTBRIDGE_ENDPOINT: ebUrl,
                LOG_LEVEL: "warn",
                KUBECONFIG: kubeconfig,
                PROMETHEUS_URL: prometheus.url,
                PROPHET_SLO_FILES: join(root, "manifests/slos/sandbox.yaml"),
                AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: "1",
              },
              stdio: ["ignore", "pipe", "pipe"],
            },
          );
          let out = "";
          let err = "";
          child.stdout.on("data", (d: Buffer) => {
            out += d;
            const nl = out.indexOf("\n");
            if (nl >= 0) resolve(out.slice(0, nl));
          });
          child.stderr.on("data", (d: Buffer) => (err += d));
          child.on("exit", (code) => code !== 0 && reject(new Error(`${c.fn} exited ${code}: ${err}`)));
        });
        times.push(performance.now() - started);
        const parsed = JSON.parse(line) as { status: number; maxRssKiB: number };
        if (parsed.status !== 200) throw new Error(`${c.fn} answered ${parsed.status}`);
        rss.push(parsed.maxRssKiB / 1024);
      }
      rows.push(
        `| ${c.fn.padEnd(14)} | lambda  | ${median(times).toFixed(0).padStart(7)} ms | ${Math.max(...times)
          .toFixed(0)
          .padStart(5)} ms | ${median(rss).toFixed(0).padStart(5)} MB |`,
      );
    }
    await admin.end();
    console.log(
      `\ncold start: spawn → first event handled (median of ${runs}); ${cpus()[0]?.model ?? "cpu"} × ${cpus().length}, Node ${process.version}`,
    );
    console.log("| function       | runtime | median     | max      | peak RSS |");
    console.log("|----------------|---------|------------|----------|----------|");
    for (const r of rows) console.log(r);
  } finally {
    eventbridge.close();
    await prometheus.close();
    pgServer.stop();
    await api.close();
  }
}

await main();
