// `npm run bench:alerts [-- --alerts 2000 --concurrency 8 --batch 10]`: alert storms against the
// alert path on a 5,000-pod sandbox cluster (100 Deployments × 50 replicas on 100 nodes, no LLM).
// Ten Deployments get a fault (crash loops, bad images, a missing Secret), and their pods' alerts
// (KubePodCrashLooping, KubeContainerWaiting, KubePodNotReady) are posted to the local host's
// /alertmanager as Alertmanager v4 webhooks of `batch` alerts, `concurrency` requests at a time;
// the host runs alert-intake and alert-diagnosis (reading the sandbox API through client-node),
// warmed by one alert before the storm.
// Prints sustained alerts/s, p50/p99 of the webhook round trip (which returns once the alert is
// recorded and, for an alert that opens an incident, diagnosed), p50/p99 from the webhook to
// io.prophet.diagnosis.completed per incident, and how many incidents the storm made.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { z } from "zod";
import { alertDiagnosis } from "../../functions/alert-diagnosis/index.js";
import { alertIntake } from "../../functions/alert-intake/index.js";
import { startHost } from "../../infra/local/host.js";
import { loadConfig } from "../../shared/config.js";
import { DiagnosisCompleted, IncidentOpened } from "../../shared/events/catalog.js";
import type { DiagnosisCompletedData } from "../../shared/events/schemas/diagnosis.js";
import { defineFunction } from "../../shared/function.js";
import type { Clock } from "../../shared/ports/clock.js";
import { silentLogger } from "../../shared/ports/log.js";
import { listIncidents } from "../../shared/store/incidents.js";
import { startPostgres } from "../setup/postgres.js";

const { values: args } = parseArgs({
  options: {
    alerts: { type: "string", default: "4000" },
    concurrency: { type: "string", default: "8" },
    batch: { type: "string", default: "10" },
    // Offered load in alerts/s (open loop: webhooks leave on a fixed schedule whatever the answers,
    // and latencies count from the scheduled time, so a slow answer cannot hide the queue behind
    // it). 0: closed loop, `concurrency` webhooks in flight, which measures the most it sustains.
    rate: { type: "string", default: "0" },
    // Faulty Deployments in the storm: one incident each, so the p99 is over this many diagnoses.
    faults: { type: "string", default: "40" },
    // "true": informers (PROPHET_KUBE_WATCH) instead of the default 2 s list cache. Slower here:
    // the first read lists the whole 5,000-pod namespace and every pod change is parsed (ADR 0015).
    informers: { type: "string", default: "false" },
  },
});
const TOTAL = Number(args.alerts);
const CONCURRENCY = Number(args.concurrency);
const BATCH = Number(args.batch);
const RATE = Number(args.rate);

// The cluster runs in its own process, as an API server does: the function's heap and event loop
// are then the function's, not shared with 5,000 simulated pods and their metrics.
const t0 = performance.now();
const child = spawn(
  process.execPath,
  ["--import", "tsx", fileURLToPath(new URL("./alerts-cluster.ts", import.meta.url))],
  {
    stdio: ["pipe", "pipe", "inherit"],
    env: { ...process.env, PROPHET_BENCH_FAULTS: args.faults },
  },
);
const ClusterInfo = z.object({
  apiUrl: z.string(),
  prometheusUrl: z.string(),
  kubeconfigPath: z.string(),
  now: z.string(),
  pods: z.number(),
  nodes: z.number(),
  faults: z.number(),
  stormPods: z.array(z.object({ namespace: z.string(), name: z.string(), app: z.string() })),
  warmupPod: z.object({ namespace: z.string(), name: z.string(), app: z.string() }),
  setupSeconds: z.number(),
});
const cluster = ClusterInfo.parse(
  JSON.parse(
    await new Promise<string>((resolve, reject) => {
      let buf = "";
      child.stdout.on("data", (c: Buffer) => {
        buf += c.toString("utf8");
        const nl = buf.indexOf("\n");
        if (nl >= 0) resolve(buf.slice(0, nl));
      });
      child.on("exit", (code) => reject(new Error(`the bench cluster exited (${code}) before it was ready`)));
    }),
  ),
);
// The host's clock starts at the sandbox's time and runs with the wall clock, as a deployed one
// does: the 2 s list cache then expires during the storm as it would in production (a clock that
// stood still would make every list a cache hit after its first read).
const clockBase = Date.parse(cluster.now);
const clockStart = performance.now();
const clock: Clock = { now: () => new Date(clockBase + (performance.now() - clockStart)) };
const alertPods = cluster.stormPods;
console.log(
  `sandbox (own process, pid ${child.pid}): ${cluster.pods} pods on ${cluster.nodes} nodes, ${alertPods.length} pods of ${cluster.faults} faulty Deployments (${((performance.now() - t0) / 1000).toFixed(1)} s to set up)`,
);

const dir = mkdtempSync(join(tmpdir(), "prophet-bench-alerts-"));
const completed = new Map<string, number>();
let warmedUp: () => void = () => undefined;
const warmDiagnosed = new Promise<void>((resolve) => (warmedUp = resolve));
/** Per diagnosis: its own duration (cluster read + analysis + metric evidence) and the metrics part. */
const inside: { total: number; metrics: number }[] = [];
const insideOf = new Map<string, { total: number; metrics: number }>();
/** When each incident's opening reached the functions (before its diagnosis: listed first). */
const openedAt = new Map<string, number>();
const openedProbe = defineFunction({
  name: "bench-opened-probe",
  description: "records when each incident is announced",
  accepts: [IncidentOpened.type],
  emits: [],
  async handle(event) {
    const d = event.data as { incidentId: string };
    if (!openedAt.has(d.incidentId)) openedAt.set(d.incidentId, performance.now());
    return [];
  },
});
/** When each diagnosis was emitted, on the host's clock (its event time), in performance time. */
const emittedAt = new Map<string, number>();
const probe = defineFunction({
  name: "bench-probe",
  description: "records when each diagnosis completes",
  accepts: [DiagnosisCompleted.type],
  emits: [],
  async handle(event) {
    const d = event.data as DiagnosisCompletedData;
    if (d.target.name === cluster.warmupPod.name) {
      warmedUp();
      return [];
    }
    if (!completed.has(d.incidentId)) {
      completed.set(d.incidentId, performance.now());
      if (event.time) emittedAt.set(d.incidentId, Date.parse(event.time) - clockBase + clockStart);
      const own = { total: d.durationMs, metrics: d.metricEvidence?.durationMs ?? 0 };
      inside.push(own);
      insideOf.set(d.incidentId, own);
    }
    return [];
  },
});
// Real PostgreSQL when it is installed (as deployed), PGlite otherwise (said in the output).
const pg = process.env.DATABASE_URL ? undefined : await startPostgres();
// Stopped on every exit, a failed run included (stop() is synchronous).
if (pg) process.once("exit", () => pg.stop());
const databaseUrl = process.env.DATABASE_URL ?? pg?.url;
const host = await startHost({
  config: loadConfig({
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { PROPHET_DATA_DIR: dir }),
    KUBECONFIG: cluster.kubeconfigPath,
    PROMETHEUS_URL: cluster.prometheusUrl,
    PROPHET_CRON: "false",
    PROPHET_SANDBOX: "false",
    LOG_LEVEL: "silent",
    PROPHET_KUBE_WATCH: args.informers === "true" ? "true" : "false",
  }),
  functions: [alertIntake, openedProbe, alertDiagnosis, probe],
  log: silentLogger,
  port: 0,
  clock,
});

const alertnames = ["KubePodCrashLooping", "KubeContainerWaiting", "KubePodNotReady"];
const startsAt = clock.now().toISOString();
function alertFor(i: number) {
  const pod = alertPods[i % alertPods.length]!;
  const alertname = alertnames[Math.floor(i / alertPods.length) % alertnames.length]!;
  const labels = {
    alertname,
    namespace: pod.namespace,
    pod: pod.name,
    container: pod.app,
    severity: "warning",
    job: "kube-state-metrics",
  };
  // Alertmanager's fingerprint is a hash of the label set; any stable unique string works here.
  const fingerprint = Buffer.from(`${alertname}/${labels.namespace}/${labels.pod}/${i}`)
    .toString("hex")
    .slice(-16);
  return {
    status: "firing",
    labels,
    annotations: { summary: `${alertname} on ${labels.namespace}/${labels.pod}` },
    startsAt,
    endsAt: "0001-01-01T00:00:00Z",
    generatorURL: "http://prometheus:9090/graph",
    fingerprint: `${fingerprint}${i.toString(16).padStart(6, "0")}`.slice(-16),
  };
}

interface Webhook {
  receiver: string;
  status: string;
  version: string;
  groupKey: string;
  truncatedAlerts: number;
  externalURL: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  alerts: ReturnType<typeof alertFor>[];
}
const webhooks: Webhook[] = [];
for (let i = 0; i < TOTAL; i += BATCH) {
  const alerts = Array.from({ length: Math.min(BATCH, TOTAL - i) }, (_, k) => alertFor(i + k));
  webhooks.push({
    receiver: "prophet",
    status: "firing",
    version: "4",
    groupKey: `{}:{alertname="${alerts[0]!.labels.alertname}"}`,
    truncatedAlerts: 0,
    externalURL: "http://alertmanager:9093",
    groupLabels: { alertname: alerts[0]!.labels.alertname },
    commonLabels: {},
    commonAnnotations: {},
    alerts,
  });
}

// Warm-up, not measured: one alert on a crash-looping pod outside the storm, so the first measured
// diagnosis does not pay for the process's first API connections, lazily loaded modules and JIT
// compilation (a warm instance, as a Knative/Lambda instance is after its first event).
{
  const warm = cluster.warmupPod;
  const alert = { ...alertFor(0), fingerprint: "0000000000000bad" };
  alert.labels = { ...alert.labels, namespace: warm.namespace, pod: warm.name, container: warm.app };
  const res = await fetch(`${host.url}/alertmanager`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...webhooks[0], alerts: [alert] }),
  });
  const body = await res.text();
  if (!res.ok) throw new Error(`the warm-up alert was refused: ${res.status} ${body}`);
  // The webhook answers once every subscriber has handled the alert; the diagnosis is one of them.
  const timeout = setTimeout(() => {
    console.error(`the warm-up alert was not diagnosed: ${res.status} ${body}`);
    process.exit(1);
  }, 120_000);
  await warmDiagnosed;
  clearTimeout(timeout);
}
// How late the host's event loop runs during the storm: what every in-process function waits for.
/** CPU seconds (user + system) a process has used, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}
/** CPU seconds of every PostgreSQL process (the server forks one per connection). */
function postgresCpuSeconds(): number {
  let total = 0;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "postgres") total += cpuSeconds(Number(pid));
    } catch {
      // the process ended while we looked
    }
  }
  return total;
}
const cpuBefore = {
  host: cpuSeconds(process.pid),
  cluster: cpuSeconds(child.pid!),
  postgres: postgresCpuSeconds(),
};
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();
const roundTrips: number[] = [];
const tripOf: number[] = [];
const firstSent = new Map<string, number>(); // incident id → when its first alert was posted
let failures = 0;
let next = 0;
const started = performance.now();
const sentAt: number[] = [];
async function send(idx: number, t: number): Promise<void> {
  sentAt[idx] = t;
  const res = await fetch(`${host.url}/alertmanager`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(webhooks[idx]),
  });
  await res.text();
  if (!res.ok) failures++;
  roundTrips.push(performance.now() - t);
  tripOf[idx] = performance.now() - t;
}
async function worker(): Promise<void> {
  while (next < webhooks.length) {
    const idx = next++;
    await send(idx, performance.now());
  }
}
/** Open loop: webhook k is due at started + k·batch/rate; each is timed from when it was due. */
async function openLoop(): Promise<void> {
  const interval = (BATCH / RATE) * 1000;
  const inFlight: Promise<void>[] = [];
  for (let k = 0; k < webhooks.length; k++) {
    const due = started + k * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    inFlight.push(send(k, due));
  }
  await Promise.all(inFlight);
}
if (RATE > 0) await openLoop();
else await Promise.all(Array.from({ length: CONCURRENCY }, worker));
const wall = (performance.now() - started) / 1000;
const cpuUsed = {
  host: cpuSeconds(process.pid) - cpuBefore.host,
  cluster: cpuSeconds(child.pid!) - cpuBefore.cluster,
  postgres: postgresCpuSeconds() - cpuBefore.postgres,
};
loopDelay.disable();

// Webhook → diagnosis.completed per incident: from the post that carried the incident's first alert.
const incidents = (await listIncidents(host.deps.store, { limit: 100_000 })).filter(
  (i) => i.fingerprint !== "0000000000000bad",
);
const byFingerprint = new Map<string, number>();
webhooks.forEach((w, i) => w.alerts.forEach((a) => byFingerprint.set(a.fingerprint, sentAt[i]!)));
const toDiagnosis: number[] = [];
const slowest: {
  ms: number;
  inside: number;
  metrics: number;
  position: number;
  toOpened: number;
  toEmitted: number;
}[] = [];
for (const inc of incidents) {
  const done = completed.get(inc.id);
  const sent = byFingerprint.get(inc.fingerprint);
  if (done !== undefined && sent !== undefined) {
    firstSent.set(inc.id, sent);
    toDiagnosis.push(done - sent);
    const w = webhooks.find((h) => h.alerts.some((a) => a.fingerprint === inc.fingerprint));
    slowest.push({
      ms: done - sent,
      inside: insideOf.get(inc.id)?.total ?? NaN,
      metrics: insideOf.get(inc.id)?.metrics ?? NaN,
      position: w ? w.alerts.findIndex((a) => a.fingerprint === inc.fingerprint) : -1,
      toOpened: (openedAt.get(inc.id) ?? NaN) - sent,
      toEmitted: (emittedAt.get(inc.id) ?? NaN) - sent,
    });
  }
}
slowest.sort((a, b) => b.ms - a.ms);
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))]! : NaN;
};
console.log(
  `storm: ${TOTAL} alerts in ${webhooks.length} webhooks of ${BATCH}, ${RATE > 0 ? `offered at ${RATE} alerts/s (open loop)` : `${CONCURRENCY} in flight (closed loop)`}, store ${host.deps.store.kind}, cluster reads from ${args.informers === "true" ? "informers (PROPHET_KUBE_WATCH=true)" : "a 2 s list cache"}`,
);
console.log(
  `sustained: ${(TOTAL / wall).toFixed(0)} alerts/s (${wall.toFixed(2)} s), ${failures} failed webhooks`,
);
console.log(
  `webhook round trip: p50 ${pct(roundTrips, 0.5).toFixed(1)} ms, p99 ${pct(roundTrips, 0.99).toFixed(1)} ms (per webhook of ${BATCH} alerts)`,
);
console.log(
  `incidents: ${incidents.length} from ${TOTAL} alerts; diagnosed ${toDiagnosis.length}; webhook → diagnosis.completed p50 ${pct(toDiagnosis, 0.5).toFixed(1)} ms, p99 ${pct(toDiagnosis, 0.99).toFixed(1)} ms`,
);
console.log(
  `inside the function: diagnosis p50 ${pct(
    inside.map((d) => d.total),
    0.5,
  ).toFixed(1)} ms, p99 ${pct(
    inside.map((d) => d.total),
    0.99,
  ).toFixed(1)} ms; of which metric evidence p50 ${pct(
    inside.map((d) => d.metrics),
    0.5,
  ).toFixed(1)} ms`,
);
console.log(
  `slowest (ms from the webhook: incident opened / diagnosis emitted / received; diagnosis itself, of which metrics; alert's place in its webhook): ${slowest
    .slice(0, 5)
    .map(
      (d) =>
        `${d.toOpened.toFixed(0)}/${d.toEmitted.toFixed(0)}/${d.ms.toFixed(0)} (${d.inside.toFixed(0)}, ${d.metrics.toFixed(0)}) #${d.position + 1}`,
    )
    .join("; ")}`,
);
{
  const opening = new Set(incidents.map((i) => i.fingerprint));
  const worst = tripOf
    .map((ms, i) => ({ ms, i }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, 5)
    .map(({ ms, i }) => {
      const w = webhooks[i]!;
      const groups = new Set(w.alerts.map((a) => a.labels.pod.replace(/-[a-z0-9]+-[a-z0-9]+$/, ""))).size;
      const opens = w.alerts.filter((a) => opening.has(a.fingerprint)).length;
      return `${ms.toFixed(0)} ms (#${i}, ${groups} workload${groups > 1 ? "s" : ""}${opens ? `, opens ${opens}` : ""})`;
    });
  console.log(`slowest webhooks: ${worst.join("; ")}`);
}
console.log(
  `CPU during the storm: host (functions + bench client) ${cpuUsed.host.toFixed(1)} s, sandbox API server ${cpuUsed.cluster.toFixed(1)} s, PostgreSQL ${cpuUsed.postgres.toFixed(1)} s, over ${wall.toFixed(1)} s`,
);
console.log(
  `host event loop delay during the storm: p50 ${(loopDelay.percentile(50) / 1e6).toFixed(1)} ms, p99 ${(loopDelay.percentile(99) / 1e6).toFixed(1)} ms, max ${(loopDelay.max / 1e6).toFixed(1)} ms`,
);
await host.close();
child.stdin.end();
await new Promise((resolve) => child.once("exit", resolve));
rmSync(dir, { recursive: true, force: true });
