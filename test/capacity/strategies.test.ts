// The ways forecast-scaling holds capacity, on the sandbox: a Karpenter CapacityBuffer over a
// PodTemplate of the workload's shape when the CapacityBuffer CRD is installed (strategy auto),
// and `action: recommend`, which reports the same decision and writes nothing.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { forecastScaling } from "../../functions/forecast-scaling/index.js";
import { scheduleTick } from "../../infra/local/cron.js";
import type { KubeObject } from "../../shared/diagnosis/objects.js";
import type { CapacityChangedData } from "../../shared/events/schemas/forecast.js";
import type { Deps } from "../../shared/function.js";
import { kubeClusterPort } from "../../shared/kube/cluster-port.js";
import { prometheusMetrics } from "../../shared/metrics/prometheus.js";
import { silentLogger } from "../../shared/ports/log.js";
import type { Store } from "../../shared/ports/store.js";
import { listAudit } from "../../shared/store/audit.js";
import { openStore } from "../../shared/store/open.js";
import { deployment, smallScenario, startSim, type SimHarness } from "../sandbox/sim-harness.js";

const capacityBufferCrd: KubeObject = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "capacitybuffers.autoscaling.x-k8s.io" },
  spec: {
    group: "autoscaling.x-k8s.io",
    scope: "Namespaced",
    names: {
      plural: "capacitybuffers",
      singular: "capacitybuffer",
      kind: "CapacityBuffer",
      listKind: "CapacityBufferList",
    },
    versions: [
      {
        name: "v1beta1",
        served: true,
        storage: true,
        schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
      },
    ],
  },
};

const scale = (name: string, action: string): KubeObject => ({
  apiVersion: "aiops.prophet.io/v1alpha1",
  kind: "PredictiveScale",
  metadata: { name, namespace: "shop" },
  spec: {
    forecastQuery: 'sum(kube_deployment_spec_replicas{namespace="shop",deployment="web"})',
    targetRef: { kind: "Deployment", name: "web" },
    nodePoolRef: { name: "burst" },
    history: "1h",
    headroomPercent: 100,
    action,
  },
});

describe("CapacityBuffer and recommend", () => {
  let sim: SimHarness;
  let store: Store;
  let deps: Deps;
  beforeAll(async () => {
    sim = await startSim(smallScenario());
    sim.create(
      deployment("web", {
        replicas: 3,
        cpu: "250m",
        memory: "256Mi",
        extra: { nodeSelector: { tier: "burst" } },
      }),
    );
    sim.advance(20 * 60);
    const kube = kubeClusterPort({ kubeconfig: sim.sb.kubeconfigPath });
    const crd = parse(
      readFileSync(new URL("../../manifests/crds/predictivescale.yaml", import.meta.url), "utf8"),
    );
    await kube.create!("CustomResourceDefinition", undefined, crd as KubeObject);
    await kube.create!("CustomResourceDefinition", undefined, capacityBufferCrd);
    store = await openStore({ dataDir: "memory" });
    deps = {
      store,
      clock: sim.sb.clock,
      log: silentLogger,
      cluster: "test",
      kube,
      metrics: prometheusMetrics({ url: sim.sb.prometheusUrl }),
    };
  }, 60_000);
  afterAll(async () => {
    await sim?.close();
    await store?.close();
  });

  it("holds the reserve as a CapacityBuffer over a PodTemplate of web's shape", async () => {
    await deps.kube!.create!("PredictiveScale", "shop", scale("web", "provision"));
    const events = await forecastScaling.handle(scheduleTick("forecast-scaling", sim.sb.clock.now()), deps);
    const changed = events
      .filter((e) => e.type === "io.prophet.capacity.changed")
      .map((e) => e.data as CapacityChangedData);
    expect(changed).toHaveLength(1);
    // Demand 3 replicas, flat; headroom 100 %: 6 to cover, 3 held.
    expect(changed[0]).toMatchObject({
      strategy: "capacityBuffer",
      object: "CapacityBuffer/shop/prophet-buffer-web",
      from: 0,
      to: 3,
    });
    const buffer = await deps.kube!.get("CapacityBuffer", "shop", "prophet-buffer-web");
    expect(buffer?.spec).toEqual({
      provisioningStrategy: "buffer.x-k8s.io/active-capacity",
      podTemplateRef: { name: "prophet-buffer-web" },
      replicas: 3,
    });
    const template = (await deps.kube!.get("PodTemplate", "shop", "prophet-buffer-web")) as KubeObject & {
      template: { spec: { nodeSelector: Record<string, string>; containers: { resources: unknown }[] } };
    };
    expect(template.template.spec.nodeSelector).toEqual({ tier: "burst", "karpenter.sh/nodepool": "burst" });
    expect(template.template.spec.containers[0]!.resources).toEqual({
      requests: { cpu: "250m", memory: "256Mi" },
    });
    expect(await deps.kube!.get("Deployment", "shop", "prophet-buffer-web")).toBeUndefined();
  });

  it("recommend reports the same decision and writes nothing", async () => {
    await deps.kube!.create!("PredictiveScale", "shop", scale("web-advice", "recommend"));
    const auditBefore = (await listAudit(store, { limit: 1000 })).length;
    const events = await forecastScaling.handle(scheduleTick("forecast-scaling", sim.sb.clock.now()), deps);
    const advice = events
      .filter((e) => e.type === "io.prophet.capacity.changed" && e.subject === "shop/web-advice")
      .map((e) => e.data as CapacityChangedData);
    expect(advice).toHaveLength(1);
    expect(advice[0]).toMatchObject({ action: "recommend", applied: false, to: 3 });
    expect(await deps.kube!.get("CapacityBuffer", "shop", "prophet-buffer-web-advice")).toBeUndefined();
    expect(await deps.kube!.get("PodTemplate", "shop", "prophet-buffer-web-advice")).toBeUndefined();
    const status = (await deps.kube!.get("PredictiveScale", "shop", "web-advice"))?.status as {
      phase: string;
    };
    expect(status.phase).toBe("Recommending");
    const audit = await listAudit(store, { limit: 1000 });
    expect(audit.length - auditBefore).toBe(1);
    expect(audit[0]).toMatchObject({
      action: "capacity.recommended",
      subject: "PredictiveScale/shop/web-advice",
    });
  });
});
