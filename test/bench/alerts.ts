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
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { alertDiagnosis } from "../../functions/alert-diagnosis/index.js";
import { alertIntake } from "../../functions/alert-intake/index.js";
import { startHost } from "../../infra/local/host.js";
import { startSandbox } from "../../infra/sandbox/index.js";
import { ScenarioSchema } from "../../infra/sandbox/scenario.js";
import { loadConfig } from "../../shared/config.js";
import { DiagnosisCompleted } from "../../shared/events/catalog.js";
import type { DiagnosisCompletedData } from "../../shared/events/schemas/diagnosis.js";
import { defineFunction } from "../../shared/function.js";
import { silentLogger } from "../../shared/ports/log.js";
import { listIncidents } from "../../shared/store/incidents.js";
import { startPostgres } from "../setup/postgres.js";

const { values: args } = parseArgs({
  options: {
    alerts: { type: "string", default: "2000" },
    concurrency: { type: "string", default: "8" },
    batch: { type: "string", default: "10" },
  },
});
const TOTAL = Number(args.alerts);
const CONCURRENCY = Number(args.concurrency);
const BATCH = Number(args.batch);

const scenario = ScenarioSchema.parse({
  name: "bench-alerts-5000",
  seed: 1,
  warmupSeconds: 0,
  karpenter: { launchDelaySeconds: 30, consolidateAfterSeconds: 60 },
  namespaces: Array.from({ length: 10 }, (_, i) => `team-${i}`),
  nodePools: [{ name: "bench", replicas: 100, instanceTypes: ["m5.4xlarge"] }],
  workloads: Array.from({ length: 100 }, (_, i) => ({
    kind: "Deployment",
    namespace: `team-${i % 10}`,
    name: `svc-${i}`,
    image: `ghcr.io/bench/svc-${i}:1.0.0`,
    replicas: 50,
    cpu: "100m",
    memory: "64Mi",
    port: 8080,
    readinessProbe: true,
    secret: i % 10 === 3,
  })),
});

const t0 = performance.now();
const sb = await startSandbox({ scenario, skipWarmup: true, flowLog: false });
sb.clock.advance(60_000);
const faults: [string, string][] = [
  ["crash-loop", "team-1/svc-11"],
  ["crash-loop", "team-2/svc-22"],
  ["crash-loop", "team-4/svc-44"],
  ["bad-image", "team-5/svc-55"],
  ["bad-image", "team-6/svc-66"],
  ["missing-secret", "team-3/svc-13"],
  ["crash-loop", "team-7/svc-77"],
  ["bad-image", "team-8/svc-88"],
  ["crash-loop", "team-9/svc-99"],
  ["crash-loop", "team-0/svc-10"],
];
for (const [kind, target] of faults) sb.inject({ kind: kind as "crash-loop", target });
sb.clock.advance(600_000);
const store = sb.api.store;
const pods = store.list(store.resource("pods"));
const faulty = new Set(faults.map(([, t]) => t));
const alertPods = pods.filter((p) => faulty.has(`${p.metadata.namespace}/${p.metadata.labels?.app ?? ""}`));
console.log(
  `sandbox: ${pods.length} pods on ${store.count(store.resource("nodes"))} nodes, ${alertPods.length} pods of ${faults.length} faulty Deployments (${((performance.now() - t0) / 1000).toFixed(1)} s to set up)`,
);

const dir = mkdtempSync(join(tmpdir(), "prophet-bench-alerts-"));
const completed = new Map<string, number>();
const probe = defineFunction({
  name: "bench-probe",
  description: "records when each diagnosis completes",
  accepts: [DiagnosisCompleted.type],
  emits: [],
  async handle(event) {
    const d = event.data as DiagnosisCompletedData;
    if (!completed.has(d.incidentId)) completed.set(d.incidentId, performance.now());
    return [];
  },
});
// Real PostgreSQL when it is installed (as deployed), PGlite otherwise (said in the output).
const pg = process.env.DATABASE_URL ? undefined : await startPostgres();
const databaseUrl = process.env.DATABASE_URL ?? pg?.url;
const host = await startHost({
  config: loadConfig({
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { PROPHET_DATA_DIR: dir }),
    KUBECONFIG: sb.kubeconfigPath,
    PROMETHEUS_URL: sb.prometheusUrl,
    PROPHET_CRON: "false",
    PROPHET_SANDBOX: "false",
    LOG_LEVEL: "silent",
  }),
  functions: [alertIntake, alertDiagnosis, probe],
  log: silentLogger,
  port: 0,
  clock: sb.clock,
});

const alertnames = ["KubePodCrashLooping", "KubeContainerWaiting", "KubePodNotReady"];
const startsAt = sb.clock.now().toISOString();
function alertFor(i: number) {
  const pod = alertPods[i % alertPods.length]!;
  const alertname = alertnames[Math.floor(i / alertPods.length) % alertnames.length]!;
  const labels = {
    alertname,
    namespace: pod.metadata.namespace ?? "",
    pod: pod.metadata.name,
    container: String(pod.metadata.labels?.app ?? ""),
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

// Warm-up, not measured: one alert on a healthy workload, so the first measured diagnosis does not
// pay for the process's first API connections and JIT compilation (a warm instance, as a
// Knative/Lambda instance is after its first event).
{
  const warm = pods.find((p) => p.metadata.labels?.app === "svc-50")!;
  const alert = { ...alertFor(0), fingerprint: "00000000warmup00" };
  alert.labels = {
    ...alert.labels,
    namespace: warm.metadata.namespace ?? "",
    pod: warm.metadata.name,
    container: "svc-50",
  };
  const res = await fetch(`${host.url}/alertmanager`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...webhooks[0], alerts: [alert] }),
  });
  await res.text();
}
const roundTrips: number[] = [];
const firstSent = new Map<string, number>(); // incident id → when its first alert was posted
let failures = 0;
let next = 0;
const started = performance.now();
const sentAt: number[] = [];
async function worker(): Promise<void> {
  while (next < webhooks.length) {
    const w = webhooks[next]!;
    const idx = next++;
    const t = performance.now();
    sentAt[idx] = t;
    const res = await fetch(`${host.url}/alertmanager`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(w),
    });
    await res.text();
    if (!res.ok) failures++;
    roundTrips.push(performance.now() - t);
  }
}
await Promise.all(Array.from({ length: CONCURRENCY }, worker));
const wall = (performance.now() - started) / 1000;

// Webhook → diagnosis.completed per incident: from the post that carried the incident's first alert.
const incidents = (await listIncidents(host.deps.store, { limit: 100_000 })).filter(
  (i) => i.fingerprint !== "00000000warmup00",
);
const byFingerprint = new Map<string, number>();
webhooks.forEach((w, i) => w.alerts.forEach((a) => byFingerprint.set(a.fingerprint, sentAt[i]!)));
const toDiagnosis: number[] = [];
for (const inc of incidents) {
  const done = completed.get(inc.id);
  const sent = byFingerprint.get(inc.fingerprint);
  if (done !== undefined && sent !== undefined) {
    firstSent.set(inc.id, sent);
    toDiagnosis.push(done - sent);
  }
}
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))]! : NaN;
};
console.log(
  `storm: ${TOTAL} alerts in ${webhooks.length} webhooks of ${BATCH}, ${CONCURRENCY} concurrent, store ${host.deps.store.kind}`,
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
await host.close();
await sb.close();
await pg?.stop();
rmSync(dir, { recursive: true, force: true });
