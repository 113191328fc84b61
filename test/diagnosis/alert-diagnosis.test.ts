// alert-diagnosis end to end: the incident.opened sample, retargeted at an object of a scenario
// that is loaded into the API server emulator, runs through the invocation pipeline with a
// client-node cluster port; diagnosis.completed names the root cause, and the store and audit
// log hold it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alertDiagnosis } from "../../functions/alert-diagnosis/index.js";
import { startApiServer, type ApiServer } from "../../infra/sandbox/apiserver/index.js";
import { findingsOfIncident } from "../../shared/diagnosis/store.js";
import { parseEnvelope, type ProphetEvent } from "../../shared/events/envelope.js";
import type { DiagnosisCompletedData } from "../../shared/events/schemas/diagnosis.js";
import type { IncidentEventData } from "../../shared/events/schemas/incident.js";
import { invokeFunction } from "../../shared/invocation/invoke.js";
import { kubeClusterPort } from "../../shared/kube/cluster-port.js";
import type { ClusterPort } from "../../shared/ports/cluster.js";
import { CollectingSink } from "../../shared/ports/sink.js";
import type { Store } from "../../shared/ports/store.js";
import { listAudit, verifyAudit } from "../../shared/store/audit.js";
import { sample } from "../support/samples.js";
import { freshPgliteStore, testDeps } from "../support/stores.js";
import { loadScenarios } from "./pass-rule.js";
import { seedSnapshot } from "./seed.js";

const scenarios = loadScenarios();
let store: Store;
let cleanupStore: () => Promise<void>;
let dir: string;
const servers: ApiServer[] = [];

beforeAll(async () => {
  ({ store, cleanup: cleanupStore } = await freshPgliteStore());
  dir = mkdtempSync(join(tmpdir(), "prophet-alert-diag-"));
});
afterAll(async () => {
  for (const s of servers) await s.close();
  await cleanupStore();
  rmSync(dir, { recursive: true, force: true });
});

async function clusterFrom(id: string): Promise<ClusterPort> {
  const api = await startApiServer({ port: 0 });
  servers.push(api);
  seedSnapshot(api, scenarios.find((s) => s.id === id)!.snapshot);
  const kubeconfig = join(dir, `${id}.kubeconfig`);
  api.writeKubeconfig(kubeconfig);
  return kubeClusterPort({ kubeconfig });
}

/** The catalog sample, about another object (and a fresh id so each case is a new incident). */
function incidentAbout(
  id: string,
  target: IncidentEventData["target"],
  alertname = "KubePodNotReady",
): ProphetEvent {
  const base = parseEnvelope(
    sample("catalog/io.prophet.incident.opened.json"),
  ) as ProphetEvent<IncidentEventData>;
  return {
    ...base,
    id: `${base.id}-${id}`,
    data: { ...base.data, incidentId: `inc-${id}`, alertname, target },
  };
}

async function run(event: ProphetEvent, kube?: ClusterPort): Promise<DiagnosisCompletedData> {
  const sink = new CollectingSink();
  const out = await invokeFunction(alertDiagnosis, event, {
    deps: { ...testDeps(store), ...(kube ? { kube } : {}) },
    sink,
  });
  expect(out.status).toBe("handled");
  expect(sink.events.map((e) => e.type)).toEqual(["io.prophet.diagnosis.completed"]);
  return sink.events[0]!.data as DiagnosisCompletedData;
}

describe("alert-diagnosis", () => {
  it("diagnoses a pending pod: the untolerated taint, stored and audited", async () => {
    const kube = await clusterFrom("S01");
    const event = incidentAbout("s01", {
      namespace: "sandbox-dev",
      kind: "Pod",
      name: "hello-web-2j5bv4hcc4-7xjpr",
    });
    const d = await run(event, kube);
    expect(d.status).toBe("ProblemDetected");
    expect(d.rootCause).toMatchObject({
      kind: "Pod",
      name: "hello-web-2j5bv4hcc4-7xjpr",
      reason: "UntoleratedTaint",
      parent: "Deployment/sandbox-dev/hello-web",
    });
    expect(d.rootCause?.message).toContain("node-role.kubernetes.io/master");
    expect(d.explanation.summary).toContain("node-role.kubernetes.io/master");
    expect(d.explanation.nextSteps[0]).toMatch(/toleration/);
    // Only the pod's own chain and neighbours: no kube-system findings.
    expect(d.findings.every((f) => f.namespace === "sandbox-dev" || f.namespace === "")).toBe(true);
    const stored = await findingsOfIncident(store, "inc-s01");
    expect(stored.find((f) => f.root_cause)).toMatchObject({ kind: "Pod", reason: "UntoleratedTaint" });
    const audit = await listAudit(store);
    expect(audit.find((a) => a.action === "diagnosis.completed")?.details).toMatchObject({
      incidentId: "inc-s01",
      findings: d.findings.length,
    });
    expect(await verifyAudit(store)).toMatchObject({ ok: true });
  });

  it("walks down from a Deployment to its pods and names the scarce resource", async () => {
    const kube = await clusterFrom("S09");
    const d = await run(
      incidentAbout(
        "s09",
        { namespace: "render", kind: "Deployment", name: "frame-renderer" },
        "KubeDeploymentReplicasMismatch",
      ),
      kube,
    );
    expect(d.rootCause).toMatchObject({ kind: "Pod", reason: "InsufficientResources" });
    expect(d.rootCause?.message).toContain("memory");
    expect(d.findings.map((f) => f.kind)).toContain("Deployment");
    expect(d.findings.some((f) => f.name.startsWith("job-queue"))).toBe(false);
  });

  it("blames a Service's selector, and a node's condition", async () => {
    const svc = await run(
      incidentAbout("s12", { namespace: "shop-dev", kind: "Service", name: "storefront" }, "ServiceDown"),
      await clusterFrom("S12"),
    );
    expect(svc.rootCause).toMatchObject({ kind: "Service", reason: "NoPodsMatchSelector" });
    expect(svc.rootCause?.message).toContain("storefront-web-v1");
    const node = await run(
      incidentAbout("s21", { kind: "Node", name: "wk-03", node: "wk-03" }, "KubeNodeNotReady"),
      await clusterFrom("S21"),
    );
    expect(node.rootCause).toMatchObject({ kind: "Node", name: "wk-03", reason: "NodeNotReady" });
  });

  it("says so when the alert names an object the cluster does not have", async () => {
    const d = await run(
      incidentAbout("gone", { namespace: "sandbox-dev", kind: "Pod", name: "hello-web-gone" }),
      await clusterFrom("S01"),
    );
    expect(d.scope).toMatchObject({ basis: "namespace", missing: "Pod sandbox-dev/hello-web-gone" });
    expect(d.explanation.summary).toMatch(
      /names Pod sandbox-dev\/hello-web-gone, which the cluster does not have/,
    );
  });

  it("says what is missing when the alert names nothing to look at", async () => {
    const d = await run(incidentAbout("nolabels", {}, "Watchdog"), await clusterFrom("S01"));
    expect(d).toMatchObject({ status: "OK", findings: [], scope: { basis: "none", objects: 0 } });
    expect(d.explanation.summary).toMatch(/names no namespace, object or node/);
  });

  it("answers without a cluster: no findings, and says no cluster is configured", async () => {
    const d = await run(
      incidentAbout("nocluster", { namespace: "shop", kind: "Pod", name: "cart-7d9f8b6c5-x2kqp" }),
    );
    expect(d).toMatchObject({ status: "Unavailable", findings: [], rootCause: null });
    expect(d.explanation.summary).toMatch(/No Kubernetes cluster is configured/);
  });

  it("answers when the cluster cannot be read", async () => {
    const api = await startApiServer({ port: 0 });
    const kubeconfig = join(dir, "gone.kubeconfig");
    api.writeKubeconfig(kubeconfig);
    await api.close();
    const d = await run(
      incidentAbout("unreachable", { namespace: "shop" }),
      kubeClusterPort({ kubeconfig, timeoutMs: 2000 }),
    );
    expect(d.status).toBe("Unavailable");
    expect(d.explanation.summary).toMatch(/could not be read/);
  });
});
