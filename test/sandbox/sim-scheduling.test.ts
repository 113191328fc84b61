// Scheduler and Karpenter specs on the manual clock: FailedScheduling worded as kube-scheduler
// words it, provisioning after the launch delay, taints, limits, consolidation, static pools.
import { afterEach, describe, expect, it } from "vitest";
import { arr, deployment, rec, startSim, type SimHarness } from "./sim-harness.js";

let h: SimHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("scheduling and provisioning", () => {
  it("brings up static NodePools at start: 2 general + 1 gpu node, Ready and labelled", async () => {
    h = await startSim();
    const nodes = h.nodes();
    expect(nodes).toHaveLength(3);
    const pools = nodes.map((n) => n.metadata.labels?.["karpenter.sh/nodepool"]).sort();
    expect(pools).toEqual(["general", "general", "gpu"]);
    const gpu = nodes.find((n) => n.metadata.labels?.["karpenter.sh/nodepool"] === "gpu");
    expect(rec(gpu?.spec).taints).toEqual([{ key: "dedicated", value: "gpu", effect: "NoSchedule" }]);
    expect(h.condition(gpu, "Ready")?.status).toBe("True");
    expect(gpu?.metadata.labels?.["node.kubernetes.io/instance-type"]).toBe("g5.xlarge");
  });

  it("a pod asking more CPU than any node is Pending with the exact FailedScheduling message, then Karpenter provisions a node after the launch delay and it runs", async () => {
    h = await startSim();
    h.create(deployment("big", { cpu: "6" }));
    h.advance(1);
    const [pod] = h.podsOf("shop", "big");
    const message =
      "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu. " +
      "preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.";
    expect(h.condition(pod, "PodScheduled")).toMatchObject({
      status: "False",
      reason: "Unschedulable",
      message,
    });
    expect(h.events(pod?.metadata.name, "FailedScheduling").map((e) => e.message)).toContain(message);
    const nominated = h.events(pod?.metadata.name, "Nominated")[0];
    expect(String(nominated?.message)).toMatch(/^Pod should schedule on: nodeclaim\/burst-[a-z0-9]{5}$/);

    h.advance(20);
    expect(h.nodes()).toHaveLength(3); // still launching
    h.advance(15);
    const burst = h.nodes().filter((n) => n.metadata.labels?.["karpenter.sh/nodepool"] === "burst");
    expect(burst).toHaveLength(1);
    expect(burst[0]?.metadata.labels?.["node.kubernetes.io/instance-type"]).toBe("m5.2xlarge");
    h.advance(10);
    const running = h.podsOf("shop", "big")[0];
    expect(rec(running?.spec).nodeName).toBe(burst[0]?.metadata.name);
    expect(rec(running?.status).phase).toBe("Running");
    expect(h.events(running?.metadata.name, "Scheduled")[0]?.message).toBe(
      `Successfully assigned shop/${running?.metadata.name} to ${burst[0]?.metadata.name}`,
    );
  });

  it("names the untolerated taint and never provisions when no pool can take the pod", async () => {
    h = await startSim();
    h.create(deployment("gpu-job", { extra: { nodeSelector: { "karpenter.sh/nodepool": "gpu" } } }));
    h.advance(2);
    const [pod] = h.podsOf("shop", "gpu-job");
    expect(h.condition(pod, "PodScheduled")?.message).toBe(
      "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 node(s) didn't match Pod's node affinity/selector. " +
        "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    );
    const karpenter = h
      .events(pod?.metadata.name, "FailedScheduling")
      .filter((e) => rec(e.source).component === "karpenter");
    // Static pools (gpu) never provision; the elastic pool's labels do not match the selector.
    expect(String(karpenter[0]?.message)).toBe(
      'Failed to schedule pod, incompatible with nodepool "burst", incompatible requirements, key karpenter.sh/nodepool, karpenter.sh/nodepool In [gpu] not in karpenter.sh/nodepool In [burst]',
    );
    h.advance(60);
    expect(h.nodes()).toHaveLength(3);
  });

  it("schedules onto the tainted node once the pod tolerates the taint", async () => {
    h = await startSim();
    h.create(
      deployment("trainer", {
        extra: {
          nodeSelector: { "karpenter.sh/nodepool": "gpu" },
          tolerations: [{ key: "dedicated", operator: "Equal", value: "gpu", effect: "NoSchedule" }],
        },
      }),
    );
    h.advance(5);
    const [pod] = h.podsOf("shop", "trainer");
    const node = h.nodes().find((n) => n.metadata.name === rec(pod?.spec).nodeName);
    expect(node?.metadata.labels?.["karpenter.sh/nodepool"]).toBe("gpu");
  });

  it("respects NodePool limits: a second large pod waits when the pool's CPU limit is used up", async () => {
    h = await startSim();
    h.create(deployment("big", { cpu: "6", replicas: 3 }));
    h.advance(60);
    const burst = h.nodes().filter((n) => n.metadata.labels?.["karpenter.sh/nodepool"] === "burst");
    // Sized for the batch: one 16-core node takes two 6-CPU pods; limits.cpu 16 forbids another node.
    expect(burst.map((n) => n.metadata.labels?.["node.kubernetes.io/instance-type"])).toEqual(["m5.4xlarge"]);
    const pending = h.podsOf("shop", "big").filter((p) => !rec(p.spec).nodeName);
    expect(pending).toHaveLength(1);
    const msgs = h.events(pending[0]?.metadata.name, "FailedScheduling").map((e) => String(e.message));
    expect(
      msgs.some((m) => m.includes('all available instance types exceed limits for nodepool: "burst"')),
    ).toBe(true);
  });

  it("consolidates an empty provisioned node after consolidateAfter but keeps static nodes", async () => {
    h = await startSim();
    h.create(deployment("big", { cpu: "6" }));
    h.advance(60);
    expect(h.nodes()).toHaveLength(4);
    const store = h.sb.api.store;
    store.delete(store.resource("deployments.apps"), "shop", "big");
    h.advance(60);
    expect(h.nodes()).toHaveLength(4); // consolidateAfter is 2m
    h.advance(70);
    expect(h.nodes()).toHaveLength(3);
    expect(h.events(undefined, "DisruptionTerminating")[0]?.message).toBe("Disrupting Node: Empty/Delete");
  });

  it("reports cordoned nodes as unschedulable", async () => {
    h = await startSim();
    const store = h.sb.api.store;
    for (const n of h.nodes())
      store.update(store.resource("nodes"), { ...n, spec: { ...rec(n.spec), unschedulable: true } });
    h.create(deployment("web", { extra: { nodeSelector: { tier: "nowhere" } } }));
    h.advance(1);
    const [pod] = h.podsOf("shop", "web");
    expect(h.condition(pod, "PodScheduled")?.message).toBe(
      "0/3 nodes are available: 3 node(s) were unschedulable. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    );
  });

  it("binds a WaitForFirstConsumer claim in the zone of the chosen node; a missing claim blocks scheduling", async () => {
    h = await startSim();
    h.create({
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "data", namespace: "shop" },
      spec: {
        accessModes: ["ReadWriteOnce"],
        storageClassName: "gp3",
        resources: { requests: { storage: "5Gi" } },
      },
    });
    h.create(
      deployment("db", {
        extra: { volumes: [{ name: "data", persistentVolumeClaim: { claimName: "data" } }] },
      }),
    );
    h.create(
      deployment("orphan", {
        extra: { volumes: [{ name: "data", persistentVolumeClaim: { claimName: "nope" } }] },
      }),
    );
    h.advance(1);
    const claim = h.get("persistentvolumeclaims", "shop", "data");
    expect(rec(claim?.status).phase).toBe("Bound");
    const pv = h.get("persistentvolumes", undefined, String(rec(claim?.spec).volumeName));
    const [db] = h.podsOf("shop", "db");
    const node = h.nodes().find((n) => n.metadata.name === rec(db?.spec).nodeName);
    const zone = arr(
      arr(rec(rec(rec(pv?.spec).nodeAffinity).required).nodeSelectorTerms)[0]?.matchExpressions,
    )[0]?.values;
    expect(zone).toEqual([node?.metadata.labels?.["topology.kubernetes.io/zone"]]);
    const [orphan] = h.podsOf("shop", "orphan");
    expect(h.condition(orphan, "PodScheduled")?.message).toBe(
      '0/3 nodes are available: persistentvolumeclaim "nope" not found. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.',
    );
  });

  it("insufficient-cpu fault: pods Pending with Insufficient cpu, Karpenter finds no instance type; revert runs them", async () => {
    h = await startSim();
    h.create(deployment("web", { replicas: 2 }));
    h.advance(5);
    const fault = h.sb.inject({ kind: "insufficient-cpu", target: "shop/web" });
    h.advance(2);
    const pending = h.podsOf("shop", "web").filter((p) => !rec(p.spec).nodeName);
    expect(pending.length).toBeGreaterThan(0);
    expect(h.condition(pending[0], "PodScheduled")?.message).toBe(
      "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu. " +
        "preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.",
    );
    const karpenter = h
      .events(pending[0]?.metadata.name, "FailedScheduling")
      .find((e) => rec(e.source).component === "karpenter");
    expect(String(karpenter?.message)).toContain(
      'incompatible with nodepool "burst", no instance type satisfied resources {"cpu":"96000m"',
    );
    h.sb.revert(fault.id);
    h.advance(10);
    const pods = h.podsOf("shop", "web");
    expect(pods.every((p) => rec(p.status).phase === "Running")).toBe(true);
  });

  it("untolerated-taint fault: taints the pool, restarted pods name the taint; revert lets them schedule", async () => {
    h = await startSim();
    h.create(
      deployment("web", { replicas: 2, extra: { nodeSelector: { "karpenter.sh/nodepool": "general" } } }),
    );
    h.advance(5);
    const fault = h.sb.inject({ kind: "untolerated-taint", target: "shop/web" });
    h.advance(2);
    const pending = h.podsOf("shop", "web").filter((p) => !rec(p.spec).nodeName);
    expect(pending.length).toBeGreaterThan(0);
    expect(h.condition(pending[0], "PodScheduled")?.message).toBe(
      "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 node(s) had untolerated taint {maintenance: true}. " +
        "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    );
    h.sb.revert(fault.id);
    h.advance(10);
    expect(h.podsOf("shop", "web").every((p) => rec(p.status).phase === "Running")).toBe(true);
  });
});
