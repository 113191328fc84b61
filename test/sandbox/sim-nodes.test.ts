// Node faults on the manual clock: a kubelet that stops posting status (NotReady, unreachable
// taints, pods NotReady, taint-based eviction after 300 s, rescheduling) and disk pressure.
import { afterEach, describe, expect, it } from "vitest";
import { deployment, rec, startSim, type SimHarness } from "./sim-harness.js";

let h: SimHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("node health", () => {
  it("node NotReady: Unknown conditions, unreachable taints, pods not ready, evicted after 300 s and rescheduled elsewhere; revert heals", async () => {
    h = await startSim();
    h.create(deployment("web", { replicas: 4 }));
    h.advance(10);
    const victim = String(rec(h.podsOf("shop", "web")[0]?.spec).nodeName);
    const onVictim = () => h?.podsOf("shop", "web").filter((p) => rec(p.spec).nodeName === victim) ?? [];
    const before = onVictim().map((p) => p.metadata.name);
    expect(before.length).toBeGreaterThan(0);
    const fault = h.sb.inject({ kind: "node-not-ready", target: victim });
    h.advance(1);
    const node = h.get("nodes", undefined, victim);
    expect(h.condition(node, "Ready")).toMatchObject({
      status: "Unknown",
      reason: "NodeStatusUnknown",
      message: "Kubelet stopped posting node status.",
    });
    expect(rec(node?.spec).taints).toEqual(
      expect.arrayContaining([
        { key: "node.kubernetes.io/unreachable", effect: "NoSchedule" },
        { key: "node.kubernetes.io/unreachable", effect: "NoExecute" },
      ]),
    );
    expect(h.events(victim, "NodeNotReady")[0]?.message).toBe(`Node ${victim} status is now: NodeNotReady`);
    for (const p of onVictim()) {
      expect(h.condition(p, "Ready")?.status).toBe("False");
      expect(h.events(p.metadata.name, "NodeNotReady")[0]?.message).toBe("Node is not ready");
    }
    h.advance(290);
    expect(onVictim().map((p) => p.metadata.name)).toEqual(before);
    h.advance(20);
    expect(onVictim()).toHaveLength(0);
    expect(h.events(before[0], "TaintManagerEviction")[0]?.message).toBe(
      `Marking for deletion Pod shop/${before[0]}`,
    );
    const pods = h.podsOf("shop", "web");
    expect(pods).toHaveLength(4);
    expect(pods.every((p) => rec(p.status).phase === "Running" && rec(p.spec).nodeName !== victim)).toBe(
      true,
    );
    h.sb.revert(fault.id);
    h.advance(1);
    const healed = h.get("nodes", undefined, victim);
    expect(h.condition(healed, "Ready")?.status).toBe("True");
    expect(rec(healed?.spec).taints).toBeUndefined();
    expect(h.events(victim, "NodeReady")[0]?.message).toBe(`Node ${victim} status is now: NodeReady`);
  });

  it("disk pressure: condition, taint and event; new pods avoid the node", async () => {
    h = await startSim();
    const general = h.nodes().filter((n) => n.metadata.labels?.["karpenter.sh/nodepool"] === "general");
    const target = general[0]?.metadata.name ?? "";
    h.sb.inject({ kind: "disk-pressure", target });
    h.advance(1);
    const node = h.get("nodes", undefined, target);
    expect(h.condition(node, "DiskPressure")).toMatchObject({
      status: "True",
      reason: "KubeletHasDiskPressure",
      message: "kubelet has disk pressure",
    });
    expect(rec(node?.spec).taints).toEqual([
      { key: "node.kubernetes.io/disk-pressure", effect: "NoSchedule" },
    ]);
    expect(h.events(target, "NodeHasDiskPressure")[0]?.message).toBe(
      `Node ${target} status is now: NodeHasDiskPressure`,
    );
    h.create(deployment("web", { replicas: 3 }));
    h.advance(5);
    expect(h.podsOf("shop", "web").every((p) => rec(p.spec).nodeName === general[1]?.metadata.name)).toBe(
      true,
    );
  });
});
