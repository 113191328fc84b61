// The acceptance scenario of the anomaly trigger: a memory leak on the sandbox is detected before
// the pod is OOM-killed. Ten seeded runs (target workload, leak rate 8–96 MiB/min and the healthy
// time before it vary with the seed; test/bench/anomaly-leak.ts runs more), each with the real
// sandbox, its Prometheus API, the AnomalyAction in the cluster and anomaly-trigger every
// simulated minute. Then one run through the whole pipeline: the anomaly becomes an alert, an
// incident, a diagnosis, and — the AnomalyAction asking for restart_pod with requireApproval — a
// proposal, even under an autonomous policy.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { KubeObject } from "../../shared/diagnosis/objects.js";
import type { Store } from "../../shared/ports/store.js";
import { listIncidents } from "../../shared/store/incidents.js";
import { runLeak, quantile, type LeakRun } from "../bench/anomaly-leak.js";
import { autonomousPolicy, startPipeline, type Pipeline } from "../remediation/pipeline-harness.js";
import { freshPgliteStore } from "../support/stores.js";

describe("a memory leak is detected before the OOM kill", () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  const runs: LeakRun[] = [];

  beforeAll(async () => {
    ({ store, cleanup } = await freshPgliteStore());
  });
  afterAll(async () => {
    await cleanup?.();
  });

  it("in at least 90 % of ten seeded runs, with the lead time recorded", { timeout: 180_000 }, async () => {
    for (let seed = 1; seed <= 10; seed++) runs.push(await runLeak(seed, store, { healthyMinutes: [5, 30] }));
    const lines = runs.map(
      (r) =>
        `seed ${r.seed} ${r.target} ${r.mibPerMinute} MiB/min: detected +${r.detectedAfter ?? "-"} s (${r.component ?? "missed"}), OOM +${r.oomAfter ?? "-"} s, lead ${r.leadSeconds ?? "-"} s`,
    );
    const leads = runs.flatMap((r) => (r.leadSeconds !== undefined ? [r.leadSeconds] : []));
    console.log(
      `${lines.join("\n")}\nlead time median ${quantile(leads, 0.5)} s, p10 ${quantile(leads, 0.1)} s`,
    );
    // Every run's leak ends in an OOM kill within the hour: the detection races a real deadline.
    expect(runs.every((r) => r.oomAfter !== undefined)).toBe(true);
    expect(leads.length / runs.length).toBeGreaterThanOrEqual(0.9);
    // "Well before": half the runs have at least two minutes to act.
    expect(quantile(leads, 0.5)).toBeGreaterThanOrEqual(120);
    // Nothing else in the namespace, and nothing before the leak, was called anomalous.
    expect(runs.flatMap((r) => r.falsePositives)).toEqual([]);
    // The status went back to the object: Detected, with the count and a readable condition.
    for (const r of runs.filter((x) => x.leadSeconds !== undefined))
      expect(r.status).toMatchObject({
        detectionCount: expect.any(Number),
        conditions: [{ type: "Ready", status: "True", reason: "Evaluated" }, { type: "AnomalyDetected" }],
      });
  });
});

describe("the anomaly flows through the remediation pipeline, and requireApproval proposes", () => {
  let p: Pipeline;

  beforeAll(async () => {
    p = await startPipeline({
      seed: 4,
      policies: [autonomousPolicy()],
      ticks: ["remediation-assess", "anomaly-trigger"],
    });
    const kube = p.host.deps.kube!;
    const crd = parse(
      readFileSync(new URL("../../manifests/crds/anomalyaction.yaml", import.meta.url), "utf8"),
    );
    await kube.create!("CustomResourceDefinition", undefined, crd as KubeObject);
    await kube.create!("AnomalyAction", "shop", {
      apiVersion: "aiops.prophet.io/v1alpha1",
      kind: "AnomalyAction",
      metadata: { name: "frontend-memory", namespace: "shop" },
      spec: {
        source: "prometheus",
        metric: 'container_memory_working_set_bytes{namespace="shop",container="frontend"}',
        threshold: "anomaly",
        remediation: "restart_pod",
        podSelector: { matchLabels: { app: "frontend" } },
        cooldownSeconds: 600,
        requireApproval: true,
      },
    });
  }, 60_000);
  afterAll(async () => {
    await p?.close();
  });

  it("alert → incident → diagnosis → restart_pod proposed for approval", { timeout: 120_000 }, async () => {
    await p.advance(300);
    p.sb.inject({ kind: "memory-leak", target: "shop/frontend", params: { bytesPerMinute: 24 * 2 ** 20 } });
    const proposed = async () =>
      (await p.remediations()).find((r) => r.status === "proposed" && r.action === "restart_pod");
    const took = await p.advanceUntil(600, async () => (await proposed()) !== undefined);
    expect(took, "restart_pod proposed").toBeDefined();
    const rem = (await proposed())!;
    expect(rem.target).toMatchObject({
      kind: "Pod",
      namespace: "shop",
      name: expect.stringMatching(/^frontend-/),
    });
    expect(rem.gate.approvalReasons.join("; ")).toMatch(
      /AnomalyAction shop\/frontend-memory requires approval/,
    );
    const incidents = await listIncidents(p.host.deps.store, { status: "firing" });
    expect(incidents.map((i) => i.alertname)).toContain("ProphetAnomaly");
    const status = (await p.host.deps.kube!.get("AnomalyAction", "shop", "frontend-memory"))?.status as
      Record<string, unknown> | undefined;
    expect(status).toMatchObject({ phase: "Detected" });
    expect(Number(status?.detectionCount)).toBeGreaterThan(0);
  });
});
