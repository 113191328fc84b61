// kubectl v1.32 against the API server emulator, unchanged: the acceptance commands that need no
// simulated controllers (pods are seeded Ready through the store, as a kubelet would report them).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../infra/sandbox/apiserver/index.js";
import {
  readyNode,
  readyPod,
  requireKubectl,
  startSandbox,
  waitForOutput,
  type Sandbox,
} from "./apiserver-harness.js";

const kubectl = requireKubectl();

describe.skipIf(!kubectl)("kubectl against the sandbox API server", () => {
  let sb: Sandbox;
  let deployment: KubeObject;

  beforeAll(async () => {
    sb = await startSandbox();
    const { store } = sb.server;
    store.create(store.resource("namespaces"), {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "shop" },
    });
    for (const n of ["node-a", "node-b", "node-c"]) store.create(store.resource("nodes"), readyNode(n));
    deployment = store.create(store.resource("deployments.apps"), {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "checkout", namespace: "shop", labels: { app: "checkout" } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: "checkout" } },
        template: {
          metadata: { labels: { app: "checkout" } },
          spec: { containers: [{ name: "app", image: "registry.example/checkout:1.0" }] },
        },
      },
      status: { replicas: 2, readyReplicas: 2, updatedReplicas: 2, availableReplicas: 2 },
    });
    const pods = store.resource("pods");
    store.create(
      pods,
      readyPod("checkout-1", {
        namespace: "shop",
        labels: { app: "checkout" },
        node: "node-a",
        owner: deployment,
      }),
    );
    store.create(
      pods,
      readyPod("checkout-2", {
        namespace: "shop",
        labels: { app: "checkout" },
        node: "node-b",
        owner: deployment,
        emptyDir: true,
      }),
    );
    store.create(pods, readyPod("web-1", { labels: { app: "web" }, node: "node-c" }));
    const ds = store.create(store.resource("daemonsets.apps"), {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "node-exporter", namespace: "kube-system" },
      spec: {
        selector: { matchLabels: { app: "node-exporter" } },
        template: {
          metadata: { labels: { app: "node-exporter" } },
          spec: { containers: [{ name: "exporter", image: "prom/node-exporter:1.8" }] },
        },
      },
    });
    store.create(
      pods,
      readyPod("node-exporter-b", {
        namespace: "kube-system",
        labels: { app: "node-exporter" },
        node: "node-b",
        owner: ds,
      }),
    );
    const pod = store.mustGet(pods, "shop", "checkout-1");
    store.create(store.resource("events"), {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: "checkout-1.17a", namespace: "shop" },
      involvedObject: {
        kind: "Pod",
        namespace: "shop",
        name: "checkout-1",
        uid: pod.metadata.uid,
        apiVersion: "v1",
      },
      reason: "BackOff",
      message: "Back-off restarting failed container app in pod checkout-1",
      type: "Warning",
      count: 3,
      source: { component: "kubelet", host: "node-a" },
      firstTimestamp: "2025-01-01T00:00:00Z",
      lastTimestamp: "2025-01-01T00:01:00Z",
    });
  });

  afterAll(async () => {
    await sb?.stop();
  });

  it("get pods -A prints a table of every namespace's pods", async () => {
    const r = await sb.kubectl(["get", "pods", "-A"]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 4))).toEqual([
      ["default", "web-1", "1/1", "Running"],
      ["kube-system", "node-exporter-b", "1/1", "Running"],
      ["shop", "checkout-1", "1/1", "Running"],
      ["shop", "checkout-2", "1/1", "Running"],
    ]);
  });

  it("get deploy -o json returns the objects as a List", async () => {
    const r = await sb.kubectl(["get", "deploy", "-n", "shop", "-o", "json"]);
    expect(r.code, r.stderr).toBe(0);
    const list = JSON.parse(r.stdout) as { kind: string; items: KubeObject[] };
    expect(list.kind).toBe("List");
    expect(
      list.items.map((d) => [d.kind, d.metadata.name, (d.spec as { replicas: number }).replicas]),
    ).toEqual([["Deployment", "checkout", 2]]);
  });

  it("describe pod shows the pod, its node and its events (found by involvedObject field selector)", async () => {
    const r = await sb.kubectl(["describe", "pod", "checkout-1", "-n", "shop"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Name:\s+checkout-1$/m);
    expect(r.stdout).toMatch(/^Node:\s+node-a\//m);
    expect(r.stdout).toMatch(/^Controlled By:\s+Deployment\/checkout$/m);
    expect(r.stdout).toMatch(/Warning\s+BackOff\s+.*kubelet\s+Back-off restarting failed container app/);
  });

  it("scale deploy sets spec.replicas through the scale subresource", async () => {
    const r = await sb.kubectl(["scale", "deploy", "checkout", "-n", "shop", "--replicas", "5"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("deployment.apps/checkout scaled");
    const { store } = sb.server;
    const d = store.mustGet(store.resource("deployments.apps"), "shop", "checkout");
    expect((d.spec as { replicas: number }).replicas).toBe(5);
    expect(d.metadata.generation).toBe(2);
  });

  it("label adds a label and refuses to overwrite without --overwrite", async () => {
    expect((await sb.kubectl(["label", "pod", "web-1", "tier=frontend"])).code).toBe(0);
    const clash = await sb.kubectl(["label", "pod", "web-1", "tier=backend"]);
    expect(clash.code).not.toBe(0);
    expect(clash.stderr).toContain("already has a value (frontend)");
    const r = await sb.kubectl(["get", "pods", "-l", "tier in (frontend),app", "-o", "name"]);
    expect(r.stdout.trim()).toBe("pod/web-1");
  });

  it("cordon marks the node unschedulable", async () => {
    const r = await sb.kubectl(["cordon", "node-c"]);
    expect(r.code, r.stderr).toBe(0);
    const { store } = sb.server;
    expect(store.mustGet(store.resource("nodes"), undefined, "node-c").spec).toMatchObject({
      unschedulable: true,
    });
    const nodes = await sb.kubectl(["get", "nodes"]);
    expect(nodes.stdout).toMatch(/node-c\s+Ready,SchedulingDisabled\s+worker/);
  });

  it("drain evicts through the eviction subresource and a PodDisruptionBudget blocks it with 429", async () => {
    const { store } = sb.server;
    const pdbRt = store.resource("poddisruptionbudgets.policy");
    store.create(pdbRt, {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: "checkout", namespace: "shop" },
      spec: { minAvailable: 2, selector: { matchLabels: { app: "checkout" } } },
    });
    const blocked = await sb.kubectl([
      "drain",
      "node-b",
      "--ignore-daemonsets",
      "--delete-emptydir-data",
      "--timeout=2s",
    ]);
    expect(blocked.code).not.toBe(0);
    expect(blocked.stderr).toContain("Cannot evict pod as it would violate the pod's disruption budget.");
    expect(store.get(store.resource("pods"), "shop", "checkout-2")).toBeDefined();
    expect(store.mustGet(store.resource("nodes"), undefined, "node-b").spec).toMatchObject({
      unschedulable: true,
    });

    const pdb = store.mustGet(pdbRt, "shop", "checkout");
    store.update(pdbRt, { ...pdb, spec: { ...(pdb.spec as object), minAvailable: 1 } });
    const drained = await sb.kubectl([
      "drain",
      "node-b",
      "--ignore-daemonsets",
      "--delete-emptydir-data",
      "--timeout=10s",
    ]);
    expect(drained.code, drained.stderr).toBe(0);
    expect(drained.stdout).toContain("pod/checkout-2 evicted");
    expect(drained.stderr).toContain("ignoring DaemonSet-managed Pods: kube-system/node-exporter-b");
    expect(store.get(store.resource("pods"), "shop", "checkout-2")).toBeUndefined();
    expect(store.get(store.resource("pods"), "kube-system", "node-exporter-b")).toBeDefined();
    expect(store.mustGet(pdbRt, "shop", "checkout").status).toMatchObject({
      currentHealthy: 1,
      desiredHealthy: 1,
      disruptionsAllowed: 0,
    });
  });

  it("apply -f creates, then patches with a strategic merge that keeps server-side fields", async () => {
    const file = join(tmpdir(), `prophet-apply-${process.pid}.yaml`);
    const manifest = (image: string, replicas: number) => `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      containers:
        - name: api
          image: ${image}
          ports: [{ containerPort: 8080 }]
          env: [{ name: MODE, value: prod }]
---
apiVersion: v1
kind: ConfigMap
metadata: { name: api-config, namespace: shop }
data: { level: info }
`;
    writeFileSync(file, manifest("registry.example/api:1.0", 2));
    const created = await sb.kubectl(["apply", "-f", file]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain("deployment.apps/api created");
    expect(created.stdout).toContain("configmap/api-config created");

    const { store } = sb.server;
    const rt = store.resource("deployments.apps");
    // Stored objects are shared and read-only: clone before changing one.
    const before = structuredClone(store.mustGet(rt, "shop", "api"));
    expect(before.metadata.annotations?.["kubectl.kubernetes.io/last-applied-configuration"]).toContain(
      "registry.example/api:1.0",
    );
    // Another writer adds an env var and an annotation the manifest does not mention.
    const spec = before.spec as { template: { spec: { containers: { env: object[] }[] } } };
    const c0 = spec.template.spec.containers[0] as { env: object[] };
    c0.env = [...c0.env, { name: "INJECTED", value: "yes" }];
    store.update(rt, {
      ...before,
      metadata: { ...before.metadata, annotations: { ...before.metadata.annotations, team: "payments" } },
    });

    writeFileSync(file, manifest("registry.example/api:2.0", 3));
    const updated = await sb.kubectl(["apply", "-f", file]);
    expect(updated.code, updated.stderr).toBe(0);
    expect(updated.stdout).toContain("deployment.apps/api configured");
    expect(updated.stdout).toContain("configmap/api-config unchanged");
    const after = store.mustGet(rt, "shop", "api");
    const container = (after.spec as typeof spec).template.spec.containers[0] as unknown as {
      image: string;
      env: unknown[];
    };
    expect(container.image).toBe("registry.example/api:2.0");
    expect(container.env).toEqual([
      { name: "MODE", value: "prod" },
      { name: "INJECTED", value: "yes" },
    ]);
    expect(after.metadata.annotations?.team).toBe("payments");
    expect((after.spec as { replicas: number }).replicas).toBe(3);
    expect(after.metadata.generation).toBe(before.metadata.generation! + 2);
  });

  it("get pods --watch prints ADDED, MODIFIED and DELETED events as they happen", async () => {
    const watch = sb.spawnKubectl(["get", "pods", "-n", "shop", "--watch", "--output-watch-events"]);
    try {
      await waitForOutput(watch, (t) => /EVENT\s+NAME\s+READY/.test(t) && t.includes("checkout-1"));
      const { store } = sb.server;
      const pods = store.resource("pods");
      store.create(pods, readyPod("watched", { namespace: "shop", labels: { app: "watched" } }));
      await waitForOutput(watch, (t) => /ADDED\s+watched\s+1\/1\s+Running/.test(t));
      const p = store.mustGet(pods, "shop", "watched");
      store.update(pods, { ...p, status: { ...(p.status as object), phase: "Failed", reason: "Evicted" } });
      await waitForOutput(watch, (t) => /MODIFIED\s+watched\s+1\/1\s+Evicted/.test(t));
      store.delete(pods, "shop", "watched");
      await waitForOutput(watch, (t) => /DELETED\s+watched/.test(t));
    } finally {
      if (watch.pid) process.kill(watch.pid, "SIGKILL");
    }
  });

  it("delete deploy cascades to the pods it owns", async () => {
    const r = await sb.kubectl(["delete", "deploy", "checkout", "-n", "shop"]);
    expect(r.code, r.stderr).toBe(0);
    const pods = await sb.kubectl(["get", "pods", "-n", "shop", "-o", "name"]);
    expect(pods.stdout).not.toContain("checkout-");
  });

  it("reports NotFound the way a real cluster does", async () => {
    const r = await sb.kubectl(["get", "pod", "nope", "-n", "shop"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('Error from server (NotFound): pods "nope" not found');
  });
});
