// Metric evidence on the sandbox: faults are injected, the simulated clock runs until the cluster
// shows them, and the diagnosis reads Prometheus' view of the same minutes through the metrics
// port — the working set against the limit before an OOM kill, restarts of a crash loop, the 5xx
// ratio before and after a bad rollout. A metrics port that fails or never answers leaves the
// findings exactly as they were, with a note, and does not throw.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alertDiagnosis, diagnoseIncident } from "../../functions/alert-diagnosis/index.js";
import type { KubeObject } from "../../infra/sandbox/apiserver/index.js";
import { startSandbox, type Sandbox } from "../../infra/sandbox/index.js";
import { viewFromList } from "../../shared/diagnosis/cluster-view.js";
import type { Finding } from "../../shared/diagnosis/finding.js";
import { explainWithLlm } from "../../shared/diagnosis/llm-explain.js";
import { readMetricEvidence } from "../../shared/diagnosis/metrics-evidence.js";
import { parseEnvelope, type ProphetEvent } from "../../shared/events/envelope.js";
import {
  diagnosisCompletedDataSchema,
  type DiagnosisCompletedData,
} from "../../shared/events/schemas/diagnosis.js";
import type { IncidentEventData } from "../../shared/events/schemas/incident.js";
import { invokeFunction } from "../../shared/invocation/invoke.js";
import { kubeClusterPort } from "../../shared/kube/cluster-port.js";
import { maskedLlm } from "../../shared/llm/masked.js";
import { prometheusMetrics } from "../../shared/metrics/prometheus.js";
import { LlmError, type ChatMessage, type LlmPort } from "../../shared/ports/llm.js";
import { silentLogger } from "../../shared/ports/log.js";
import { MetricsError, type MetricsPort } from "../../shared/ports/metrics.js";
import { CollectingSink } from "../../shared/ports/sink.js";
import type { Store } from "../../shared/ports/store.js";
import { sample } from "../support/samples.js";
import { freshPgliteStore } from "../support/stores.js";

const MiB = 2 ** 20;
const CART_LIMIT = 384 * MiB; // the default scenario's shop/cart memoryLimit

let sb: Sandbox;
let metrics: MetricsPort;
let store: Store;
let cleanupStore: () => Promise<void>;

beforeAll(async () => {
  sb = await startSandbox({ seed: 1, flowLog: false });
  metrics = prometheusMetrics({ url: sb.prometheusUrl, timeoutMs: 2000 });
  ({ store, cleanup: cleanupStore } = await freshPgliteStore());
  // Ten minutes of healthy history, so windows before the faults see the baseline.
  sb.clock.advance(10 * 60_000);
});
afterAll(async () => {
  await sb?.close();
  await cleanupStore?.();
});

const statuses = (p: KubeObject) =>
  ((p.status as { containerStatuses?: unknown } | undefined)?.containerStatuses ?? []) as {
    restartCount?: number;
    state?: { waiting?: { reason?: string } };
    lastState?: { terminated?: { reason?: string } };
  }[];
const podsOf = (app: string) =>
  sb.api.store
    .list(sb.api.store.resource("pods"), { namespace: "shop" })
    .filter((p) => p.metadata.labels?.app === app);

/** Advances the simulated clock in 30 s steps until `done` (at most `maxMinutes`). */
function advanceUntil(done: () => boolean, maxMinutes: number): void {
  for (let s = 0; s < maxMinutes * 60 && !done(); s += 30) sb.clock.advance(30_000);
  expect(done()).toBe(true);
}

function diagnoseNow(target: { namespace: string; kind: string; name: string }, alertname: string) {
  const view = viewFromList(sb.snapshot({ includeEvents: true }));
  const startsAt = new Date(sb.clock.now().getTime() - 60_000).toISOString();
  return diagnoseIncident(view, `inc-${target.name}`, alertname, target, startsAt);
}

function incidentAbout(id: string, target: IncidentEventData["target"], alertname: string): ProphetEvent {
  const base = parseEnvelope(
    sample("catalog/io.prophet.incident.opened.json"),
  ) as ProphetEvent<IncidentEventData>;
  return {
    ...base,
    id: `${base.id}-${id}`,
    data: {
      ...base.data,
      incidentId: `inc-${id}`,
      alertname,
      target,
      startsAt: new Date(sb.clock.now().getTime() - 60_000).toISOString(),
    },
  };
}

async function runFunction(event: ProphetEvent, port?: MetricsPort): Promise<DiagnosisCompletedData> {
  const sink = new CollectingSink();
  const out = await invokeFunction(alertDiagnosis, event, {
    deps: {
      store,
      clock: sb.clock,
      log: silentLogger,
      cluster: "sandbox",
      kube: kubeClusterPort({ kubeconfig: sb.kubeconfigPath }),
      ...(port ? { metrics: port } : {}),
    },
    sink,
  });
  expect(out.status).toBe("handled");
  const data = sink.events[0]!.data as DiagnosisCompletedData;
  expect(diagnosisCompletedDataSchema.safeParse(data).success).toBe(true);
  return data;
}

const failing: MetricsPort = {
  name: "http://prometheus.invalid",
  instant: () => Promise.reject(new MetricsError("unavailable", "connection refused")),
  range: () => Promise.reject(new MetricsError("unavailable", "connection refused")),
};
const silent: MetricsPort = {
  name: "http://prometheus.slow",
  instant: () => new Promise(() => {}),
  range: () => new Promise(() => {}),
};
const broken: MetricsPort = {
  name: "http://prometheus.broken",
  instant: () => {
    throw new TypeError("not a port");
  },
  range: () => {
    throw new TypeError("not a port");
  },
};

describe("metric evidence on the sandbox", () => {
  let oom: DiagnosisCompletedData;

  it("memory-leak → the OOMKilled finding shows the working set against its limit", async () => {
    sb.inject({ kind: "memory-leak", target: "shop/cart" });
    advanceUntil(
      () =>
        podsOf("cart").some((p) => statuses(p).some((c) => c.lastState?.terminated?.reason === "OOMKilled")),
      20,
    );
    oom = await runFunction(
      incidentAbout("oom", { namespace: "shop", kind: "Deployment", name: "cart" }, "KubePodCrashLooping"),
      metrics,
    );
    expect(oom.rootCause).toMatchObject({ kind: "Pod", reason: "OOMKilled" });
    const root = oom.rootCause!;
    const m = root.evidence.metrics!;
    expect(m.memoryLimitBytes).toBe(CART_LIMIT);
    // The working set climbs to the limit before the kill: near it, never above it.
    expect(m.workingSetPeakBytes).toBeGreaterThan(0.9 * CART_LIMIT);
    expect(m.workingSetPeakBytes).toBeLessThanOrEqual(CART_LIMIT);
    expect(m.workingSetPeakRatio).toBeGreaterThan(0.9);
    // The fault's default leak is 64Mi per minute.
    expect(m.workingSetGrowthBytesPerMinute! / MiB).toBeGreaterThan(50);
    expect(m.workingSetGrowthBytesPerMinute! / MiB).toBeLessThan(80);
    expect(m.restartsLastHour).toBeGreaterThanOrEqual(1);
    const memory = root.evidence.readings?.find((r) => r.signal === "memory_vs_limit");
    expect(memory?.summary).toMatch(
      /^working set peaked at 3[5-8]\dMi of the 384Mi memory limit \(9\d %\) at \d\d:\d\d UTC, rising \d+Mi\/min$/,
    );
    expect(memory?.query).toContain("container_memory_working_set_bytes");
    expect(root.evidence.readings?.map((r) => r.signal)).toEqual(["memory_vs_limit", "restarts"]);
    // The root cause is one of the findings, with the same evidence.
    expect(oom.findings).toContainEqual(root);
    // At most a few queries, bounded in time (the diagnosis' own duration includes them).
    expect(oom.metricEvidence).toMatchObject({ source: metrics.name, queries: 2 });
    expect(oom.metricEvidence!.readings).toBeGreaterThanOrEqual(2);
    expect(oom.metricEvidence!.note).toBeUndefined();
    expect(oom.metricEvidence!.durationMs).toBeLessThan(1000);
  });

  it("the same incident without a metrics port is the same diagnosis without readings", async () => {
    const plain = await runFunction(
      incidentAbout(
        "oom-plain",
        { namespace: "shop", kind: "Deployment", name: "cart" },
        "KubePodCrashLooping",
      ),
    );
    expect(plain.metricEvidence).toBeUndefined();
    expect(plain.findings.every((f) => f.evidence.readings === undefined)).toBe(true);
    const strip = (fs: Finding[]) =>
      fs.map((f) => ({ kind: f.kind, name: f.name, reason: f.reason, message: f.message }));
    expect(strip(plain.findings)).toEqual(strip(oom.findings));
  });

  it("a failing or silent metrics port: the same findings, no readings, a note, no throw", async () => {
    const d = diagnoseNow({ namespace: "shop", kind: "Deployment", name: "cart" }, "KubePodCrashLooping");
    expect(d.findings.length).toBeGreaterThan(0);
    const input = { findings: d.findings, now: sb.clock.now() };
    for (const port of [failing, broken]) {
      const ev = await readMetricEvidence(port, input);
      expect(ev.findings).toEqual(d.findings);
      expect(ev.readings).toBe(0);
      expect(ev.note).toMatch(/^2 of 2 metric queries failed/);
    }
    expect((await readMetricEvidence(failing, input)).note).toContain("unavailable: connection refused");
    const slow = await readMetricEvidence(silent, input, { timeoutMs: 20 });
    expect(slow.findings).toEqual(d.findings);
    expect(slow.note).toContain("timeout: http://prometheus.slow did not answer within 20 ms");
    expect(slow.durationMs).toBeLessThan(1000);

    const fn = await runFunction(
      incidentAbout(
        "oom-down",
        { namespace: "shop", kind: "Deployment", name: "cart" },
        "KubePodCrashLooping",
      ),
      failing,
    );
    expect(fn.status).toBe("ProblemDetected");
    expect(fn.rootCause?.reason).toBe("OOMKilled");
    expect(fn.findings.every((f) => f.evidence.readings === undefined)).toBe(true);
    expect(fn.metricEvidence).toMatchObject({ source: failing.name, queries: 2, readings: 0 });
    expect(fn.metricEvidence?.note).toContain("unavailable");
  });

  it("the readings reach the LLM prompt masked: numbers and times, no names", async () => {
    const sent: ChatMessage[][] = [];
    const recording: LlmPort = {
      model: "recorder",
      complete: (req) => {
        sent.push(req.messages);
        return Promise.reject(new LlmError("unavailable", "recorded only"));
      },
    };
    const root = oom.findings.indexOf(oom.findings.find((f) => f.reason === "OOMKilled")!);
    const ex = await explainWithLlm(maskedLlm(recording, "test-mask-key-0123456789abcdef"), {
      alertname: oom.alertname,
      target: oom.target,
      findings: oom.findings,
      rootCause: root,
      ruleBased: { summary: oom.explanation.summary, nextSteps: oom.explanation.nextSteps },
    });
    expect(ex.fallback).toMatch(/^unavailable/);
    const prompt = sent[0]!.map((m) => m.content).join("\n");
    expect(prompt).toMatch(/metric: working set peaked at \d+Mi of the 384Mi memory limit/);
    expect(prompt).toMatch(/memoryLimitBytes=402653184/);
    for (const name of [oom.rootCause!.name, "cart", "shop"])
      expect(prompt).not.toMatch(new RegExp(`\\b${name}\\b`));
  });

  it("crash-loop → restarts in the last hour, and the Service's 5xx ratio", async () => {
    sb.inject({ kind: "crash-loop", target: "shop/catalog" });
    advanceUntil(
      () =>
        podsOf("catalog").some((p) =>
          statuses(p).some(
            (c) => c.state?.waiting?.reason === "CrashLoopBackOff" && (c.restartCount ?? 0) >= 3,
          ),
        ),
      20,
    );
    const d = diagnoseNow({ namespace: "shop", kind: "Deployment", name: "catalog" }, "KubePodCrashLooping");
    const started = performance.now();
    const ev = await readMetricEvidence(metrics, {
      findings: d.findings,
      alertStartsAt: new Date(sb.clock.now().getTime() - 60_000),
      now: sb.clock.now(),
    });
    const ms = performance.now() - started;
    // Restarts for the pods, the 5xx ratio for their Service (no ready endpoints: it sheds with 503).
    expect(ev.queries).toBe(2);
    expect(ms).toBeLessThan(1000);
    const service = ev.findings.find((f) => f.kind === "Service");
    expect(service?.evidence.metrics?.errorRatio).toBeGreaterThan(0.05);
    expect(service?.evidence.readings?.map((r) => r.signal)).toEqual(["error_ratio"]);
    const crashing = ev.findings.filter((f) => f.reason === "CrashLoopBackOff");
    expect(crashing.length).toBeGreaterThan(0);
    for (const f of crashing) {
      const restarts = f.evidence.metrics!.restarts!;
      const lastHour = f.evidence.metrics!.restartsLastHour!;
      // increase() sees the counter from its first scrape: at most one restart fewer.
      expect(lastHour).toBeGreaterThanOrEqual(Math.max(1, restarts - 1));
      expect(lastHour).toBeLessThanOrEqual(restarts + 1);
      expect(f.evidence.readings).toEqual([
        expect.objectContaining({
          signal: "restarts",
          summary: expect.stringMatching(/^restarted \d+ times? in the hour before \d\d:\d\d UTC$/),
        }),
      ]);
    }
  });

  it("bad-rollout → the rollout shows the 5xx ratio now against before", async () => {
    for (const f of sb.faults()) sb.revert(f.id);
    // Half an hour of healthy traffic, the "before" of the rollout.
    sb.clock.advance(30 * 60_000);
    sb.inject({ kind: "bad-rollout", target: "shop/frontend" });
    sb.clock.advance(6 * 60_000);
    const d = diagnoseNow({ namespace: "shop", kind: "Deployment", name: "frontend" }, "HTTPHighErrorRate");
    const rollout = d.findings.findIndex((f) => f.reason === "RecentRollout");
    expect(rollout).toBeGreaterThanOrEqual(0);
    const ev = await readMetricEvidence(metrics, {
      findings: d.findings,
      alertStartsAt: new Date(sb.clock.now().getTime() - 60_000),
      now: sb.clock.now(),
      services: [{ namespace: "shop", name: "frontend" }],
    });
    expect(ev.queries).toBe(1);
    const m = ev.findings[rollout]!.evidence.metrics!;
    // Pods on the bad image answer 1.5 % with 500; the baseline is 0.02 %.
    expect(m.errorRatio).toBeGreaterThan(0.01);
    expect(m.errorRatio).toBeLessThan(0.02);
    expect(m.errorRatioBefore).toBeLessThan(0.001);
    expect(ev.findings[rollout]!.evidence.readings?.[0]?.summary).toMatch(
      /^5xx ratio 1\.\d %.* at \d\d:\d\d UTC, 0\.0\d % 31 min earlier$/,
    );
  });
});
